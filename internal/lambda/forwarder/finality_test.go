package forwarder_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/webhook"
)

// TestAnnouncement: what the forwarder sends the notify function for a
// record it parks unannounced is the workflow's NotifyRequest, headed for the
// DLQ, without the body.
func TestAnnouncement(t *testing.T) {
	t.Parallel()
	backstop := config.ComputeFinality(testConfig()).MaxReceiveCount
	worst := config.ComputeRouteBudget(testConfig().Routes[0]).WorstExecution
	tests := []struct {
		name    string
		rec     events.SQSMessage
		results map[string]result
		// deadline, when set, is the invocation's time left.
		deadline time.Duration
		check    func(t *testing.T, req webhook.NotifyRequest)
	}{
		{
			name: "unknown route: what the record says of itself",
			rec:  record("1", "g1", "no-such-route", 3, `{"secret":"body"}`),
			check: func(t *testing.T, req webhook.NotifyRequest) {
				env := req.Webhook
				if env.WebhookID != "wh-1" || env.Route != "no-such-route" || env.Group != "g1" || env.MessageID != "msg-1" || env.ReceiveCount != 3 {
					t.Errorf("envelope %+v", env)
				}
				if req.Error.Error != webhook.ErrPermanent || !strings.Contains(req.Error.Cause, `unknown route "no-such-route"`) || req.StateMachine != "" {
					t.Errorf("error %+v, state machine %q", req.Error, req.StateMachine)
				}
			},
		},
		{
			name: "too large: the route's envelope, without the body",
			rec:  record("1", "g1", "approval-progress", 1, strings.Repeat("x", config.StatePayloadMax)),
			check: func(t *testing.T, req webhook.NotifyRequest) {
				env := req.Webhook
				if env.Route != "approval-progress" || env.RetryUntil != "2026-11-28T10:00:00Z" || env.Headers == nil {
					t.Errorf("envelope %+v", env)
				}
				if req.Error.Error != webhook.ErrPermanent || !strings.Contains(req.Error.Cause, "exceeds the") || req.StateMachine != "sales-approvals-approval-progress" {
					t.Errorf("error %+v, state machine %q", req.Error, req.StateMachine)
				}
			},
		},
		{
			name:     "out of time on the last receive SQS allows",
			rec:      record("1", "g1", "approval-progress", backstop, "{}"),
			deadline: worst / 2,
			check: func(t *testing.T, req webhook.NotifyRequest) {
				if req.Error.Error != "OutOfTime" || !strings.Contains(req.Error.Cause, "worst-case execution") || req.ExecutionID != "" {
					t.Errorf("error %+v, execution %q", req.Error, req.ExecutionID)
				}
			},
		},
		{
			name:    "an execution that timed out as a whole names it",
			rec:     old(record("1", "g1", "approval-progress", 2, "{}")),
			results: map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusTimedOut}},
			check: func(t *testing.T, req webhook.NotifyRequest) {
				if req.Error.Error != "States.TIMED_OUT" || !strings.Contains(req.ExecutionID, ":express:sales-approvals-approval-progress:") || req.StartTime != parkNow.UTC().Format(time.RFC3339Nano) {
					t.Errorf("error %+v, execution %q started %q", req.Error, req.ExecutionID, req.StartTime)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.results, withDLQ)
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, parkNow.Add(tc.deadline))
				defer cancel()
			}
			if _, err := h.fwd.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{tc.rec}}); err != nil {
				t.Fatal(err)
			}
			if len(h.dlq.calls) != 1 {
				t.Fatalf("%d parked, want 1", len(h.dlq.calls))
			}
			reqs := h.notifier.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d notifications, want 1", len(reqs))
			}
			if req := reqs[0]; !req.Webhook.FinalAttempt || req.Webhook.Body != "" || req.Webhook.BodyEncoding != "" {
				t.Errorf("notification headed for the DLQ %v, body %q (%q); want true and no body", req.Webhook.FinalAttempt, req.Webhook.Body, req.Webhook.BodyEncoding)
			}
			tc.check(t, reqs[0])
		})
	}
}

// TestAnnouncementFollowsNotifyWhen: a route that never notifies is not
// announced by the forwarder either; the top level's policy stands for a
// record whose route is unknown.
func TestAnnouncementFollowsNotifyWhen(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *forwarder.Config) {
		withDLQ(c)
		c.Routes.Notify.When = config.NotifyNever
		c.Routes.Routes[0].Notify.When = config.NotifyNever
	})
	records := []events.SQSMessage{
		record("1", "g1", "approval-progress", 1, strings.Repeat("x", config.StatePayloadMax)),
		record("2", "g2", "no-such-route", 1, "{}"),
	}
	if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: records}); err != nil {
		t.Fatal(err)
	}
	if len(h.dlq.calls) != 2 || len(h.notifier.calls) != 0 {
		t.Errorf("%d parked, %d announced; want 2 parked, none announced", len(h.dlq.calls), len(h.notifier.calls))
	}
}

// TestAnnouncementFailureIsLogged: a notification that cannot be sent does
// not undo the park; it is an error in the log.
func TestAnnouncementFailureIsLogged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, withDLQ)
	h.notifier.fail = true
	resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record("1", "g1", "no-such-route", 1, "{}")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 || len(h.dlq.calls) != 1 || len(h.notifier.calls) != 1 {
		t.Errorf("failures %v, %d parked, %d invocations; want it parked after one try", resp.BatchItemFailures, len(h.dlq.calls), len(h.notifier.calls))
	}
	if !strings.Contains(h.logs.String(), "parked without a notification: invoking the notify function failed") {
		t.Errorf("no error line for the lost notification:\n%s", h.logs.String())
	}
}

// TestNewNeedsANotifierForANotifyFunction: a notify function to invoke needs
// the client to invoke it with.
func TestNewNeedsANotifierForANotifyFunction(t *testing.T) {
	t.Parallel()
	_, err := forwarder.New(&forwarder.Config{Routes: testConfig(), StateMachineARNPrefix: arnPrefix, Starter: &fakeStarter{}, Queue: &fakeQueue{}, NotifyFunction: notifyFunction})
	if err == nil {
		t.Error("New accepted a notify function without a Notifier")
	}
}

// TestBackstopCoversTheFastestRedeliveries checks the backstop's derivation
// against the forwarder's own schedule: receives at the earliest times the
// Backoff allows (jitter at its largest), counted while they start inside
// the window, never exceed config.ComputeFinality's WindowReceives, which
// is tight to one.
func TestBackstopCoversTheFastestRedeliveries(t *testing.T) {
	t.Parallel()
	for _, q := range []config.Queue{
		{RetryWindow: time.Hour, RedeliveryDelay: 30 * time.Second, MaxRedeliveryDelay: 15 * time.Minute},
		{RetryWindow: 6 * time.Hour, RedeliveryDelay: 5 * time.Second, MaxRedeliveryDelay: 2 * time.Minute},
		{RetryWindow: 20 * time.Minute, RedeliveryDelay: time.Second, MaxRedeliveryDelay: 4 * time.Second},
		{RetryWindow: 14 * 24 * time.Hour, RedeliveryDelay: time.Hour, MaxRedeliveryDelay: 12 * time.Hour},
		{RetryWindow: 90 * time.Second, RedeliveryDelay: 10 * time.Second, MaxRedeliveryDelay: 10 * time.Second},
	} {
		cfg := testConfig()
		cfg.Queue.RetryWindow, cfg.Queue.RedeliveryDelay, cfg.Queue.MaxRedeliveryDelay = q.RetryWindow, q.RedeliveryDelay, q.MaxRedeliveryDelay
		b := forwarder.NewBackoff(cfg.Queue, func() float64 { return 0.999999 })
		var at time.Duration
		receives := 0
		for at < q.RetryWindow {
			receives++
			at += b.Delay(receives)
		}
		f := config.ComputeFinality(cfg)
		if receives > f.WindowReceives || receives < f.WindowReceives-1 {
			t.Errorf("window %s, delay %s…%s: %d receives fit, the derivation says %d", q.RetryWindow, q.RedeliveryDelay, q.MaxRedeliveryDelay, receives, f.WindowReceives)
		}
	}
}
