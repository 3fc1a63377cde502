package forwarder_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/testkit/testclock"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin/esm"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/webhook"
)

// The outage tests run the forwarder against the local twin's queue engine
// (internal/twin/fifo: SQS FIFO receive counts, group locking, visibility
// and the redrive policy) on a virtual clock, with the example's budgets:
// a group of ten in one batch, a forward timeout that fits three worst-case
// executions, and a target that is down. They play the event source mapping
// and a workflow that takes its route's worst case to fail and notifies as
// the generated ASL does (final attempt, or a permanent error).

// outageWorld is the queue, the forwarder and what happened to each webhook.
type outageWorld struct {
	t   *testing.T
	cfg *config.Config
	// clock is the outage's one clock: the queue, the forwarder and the
	// fake workflow read it; executions advance it.
	clock    *testclock.Clock
	store    *fifo.Store
	fwd      *forwarder.Forwarder
	notifier *fakeNotifier
	route    config.Route
	worst    time.Duration
	// downUntil: executions starting before it fail after the worst case.
	downUntil time.Time

	mu        sync.Mutex
	delivered []string       // webhook ids, in delivery order
	notified  map[string]int // the workflow's Notify, per webhook id
	maxSeen   int            // the highest receive count the forwarder saw
}

const (
	outageQueue = "sales-approvals.fifo"
	outageDLQ   = "sales-approvals-dlq.fifo"
)

func newOutageWorld(t *testing.T, down time.Duration) *outageWorld {
	t.Helper()
	cfg, err := config.Load(filepath.Join(testenv.RepoRoot(t), "config", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The outage is the subject here, not the sender: the test's webhooks
	// are unsigned, so the routes verify nothing (verify_test.go covers
	// verification before any execution).
	for i := range cfg.Routes {
		cfg.Routes[i].Verify, cfg.Routes[i].Unverified = nil, "the outage tests send unsigned webhooks"
	}
	w := &outageWorld{t: t, cfg: cfg, clock: testclock.New(time.Now().Truncate(time.Second)), notifier: &fakeNotifier{t: t}, notified: map[string]int{}}
	w.downUntil = w.clock.Now().Add(down)
	// The route with the longest worst case: a forward invocation fits the
	// fewest of its executions.
	budget := config.ComputeBudget(cfg)
	for i, rb := range budget.Routes {
		if rb.WorstExecution > w.worst {
			w.route, w.worst = cfg.Routes[i], rb.WorstExecution
		}
	}
	w.store, err = fifo.Open(filepath.Join(t.TempDir(), "queue.db"), fifo.Options{Region: cfg.Region, Clock: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.store.Close() })
	fifoAttrs := map[string]string{fifo.AttrFifoQueue: "true", fifo.AttrContentBasedDeduplication: "true"}
	if err := w.store.CreateQueue(outageDLQ, fifoAttrs); err != nil {
		t.Fatal(err)
	}
	// As terraform/queue.tf: the visibility timeout from the budget, SQS's
	// redrive policy as the derived backstop.
	main := map[string]string{
		fifo.AttrVisibilityTimeout: strconv.Itoa(config.WholeSeconds(budget.VisibilityTimeout)),
		fifo.AttrRedrivePolicy:     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, w.store.ARN(outageDLQ), config.ComputeFinality(cfg).MaxReceiveCount),
	}
	for k, v := range fifoAttrs {
		main[k] = v
	}
	if err := w.store.CreateQueue(outageQueue, main); err != nil {
		t.Fatal(err)
	}
	w.fwd, err = forwarder.New(&forwarder.Config{
		Routes:                cfg,
		StateMachineARNPrefix: arnPrefix,
		QueueURL:              testQueue,
		DLQURL:                testDLQ,
		Starter:               w,
		Queue:                 outageQueueAPI{w.store},
		DeadLetters:           outageQueueAPI{w.store},
		NotifyFunction:        notifyFunction,
		Notifier:              w.notifier,
		Logger:                slog.New(slog.DiscardHandler),
		Now:                   w.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// StartSyncExecution is the route's workflow: while the target is down it
// fails after the route's worst case, notifying on a final attempt.
func (w *outageWorld) StartSyncExecution(ctx context.Context, in *sfn.StartSyncExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartSyncExecutionOutput, error) {
	var env webhook.Envelope
	if err := json.Unmarshal([]byte(aws.ToString(in.Input)), &env); err != nil {
		w.t.Fatalf("execution input: %v", err)
	}
	w.mu.Lock()
	w.maxSeen = max(w.maxSeen, env.ReceiveCount)
	w.mu.Unlock()
	arn := aws.String(strings.Replace(aws.ToString(in.StateMachineArn), ":stateMachine:", ":express:", 1) + ":" + aws.ToString(in.Name))
	if w.clock.Now().Before(w.downUntil) {
		w.clock.Advance(w.worst)
		if env.FinalAttempt {
			w.mu.Lock()
			w.notified[env.WebhookID]++
			w.mu.Unlock()
		}
		return &sfn.StartSyncExecutionOutput{ExecutionArn: arn, Status: sfntypes.SyncExecutionStatusFailed,
			Error: aws.String(webhook.ErrRetryable), Cause: aws.String("attempt 4/4: connection refused")}, nil
	}
	w.clock.Advance(time.Second)
	w.mu.Lock()
	w.delivered = append(w.delivered, env.WebhookID)
	w.mu.Unlock()
	return &sfn.StartSyncExecutionOutput{ExecutionArn: arn, Status: sfntypes.SyncExecutionStatusSucceeded}, nil
}

// outageQueueAPI is the forwarder's SQS client over the twin's engine.
type outageQueueAPI struct{ store *fifo.Store }

func (q outageQueueAPI) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	return &sqs.ChangeMessageVisibilityOutput{}, q.store.ChangeVisibility(outageQueue, aws.ToString(in.ReceiptHandle), time.Duration(in.VisibilityTimeout)*time.Second)
}

func (q outageQueueAPI) SendMessage(ctx context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	attrs := map[string]fifo.Attribute{}
	for name, a := range in.MessageAttributes {
		attrs[name] = fifo.Attribute{DataType: aws.ToString(a.DataType), StringValue: aws.ToString(a.StringValue), BinaryValue: a.BinaryValue}
	}
	res, err := q.store.Send(outageDLQ, fifo.SendInput{Body: aws.ToString(in.MessageBody), GroupID: aws.ToString(in.MessageGroupId),
		DeduplicationID: aws.ToString(in.MessageDeduplicationId), Attributes: attrs})
	if err != nil {
		return nil, err
	}
	return &sqs.SendMessageOutput{MessageId: aws.String(res.MessageID)}, nil
}

// send queues n webhooks of one group, as ingress does.
func (w *outageWorld) send(n int) []string {
	var ids []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("wh-%02d", i)
		ids = append(ids, id)
		if _, err := w.store.Send(outageQueue, fifo.SendInput{Body: fmt.Sprintf(`{"account":{"id":"acct-1"},"n":%d}`, i), GroupID: "acct-1",
			Attributes: map[string]fifo.Attribute{
				webhook.AttrWebhookID: {DataType: "String", StringValue: id},
				webhook.AttrRoute:     {DataType: "String", StringValue: w.route.Name},
			}}); err != nil {
			w.t.Fatal(err)
		}
	}
	return ids
}

// run plays the event source mapping until the queue is empty: receive a
// batch, invoke the forwarder with the forward timeout, delete what it did
// not report as failed; when nothing is visible, move the clock to the next
// message that becomes visible. It gives up at the queue's retention.
func (w *outageWorld) run() {
	budget := config.ComputeBudget(w.cfg)
	end := w.clock.Now().Add(w.cfg.Queue.Retention)
	zero := time.Duration(0)
	for w.clock.Now().Before(end) {
		msgs, err := w.store.Receive(context.Background(), outageQueue, fifo.ReceiveInput{MaxMessages: w.cfg.Queue.BatchSize, WaitTime: &zero})
		if err != nil {
			w.t.Fatal(err)
		}
		if len(msgs) == 0 {
			next, ok := w.nextVisible()
			if !ok {
				return
			}
			w.clock.Advance(next.Sub(w.clock.Now()))
			continue
		}
		ctx, cancel := context.WithDeadline(context.Background(), w.clock.Now().Add(budget.ForwardTimeout))
		resp, err := w.fwd.Handle(ctx, esm.Event(w.store.ARN(outageQueue), w.cfg.Region, msgs))
		cancel()
		if err != nil {
			w.t.Fatal(err)
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		for _, m := range msgs {
			if !failed[m.MessageID] {
				if err := w.store.Delete(outageQueue, m.ReceiptHandle); err != nil {
					w.t.Fatal(err)
				}
			}
		}
	}
	w.t.Fatalf("messages still queued after the %s retention", w.cfg.Queue.Retention)
}

// nextVisible is when the next message of the queue becomes visible; false
// when the queue is empty.
func (w *outageWorld) nextVisible() (time.Time, bool) {
	msgs, err := w.store.List(outageQueue)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(msgs) == 0 {
		return time.Time{}, false
	}
	next := msgs[0].VisibleAt
	for _, m := range msgs {
		if m.VisibleAt.Before(next) {
			next = m.VisibleAt
		}
	}
	if !next.After(w.clock.Now()) {
		next = w.clock.Now().Add(time.Second)
	}
	return next, true
}

// parked is the DLQ's content: webhook id → failure record, in DLQ order.
func (w *outageWorld) parked() (ids []string, failures map[string]*webhook.Failure) {
	msgs, err := w.store.List(outageDLQ)
	if err != nil {
		w.t.Fatal(err)
	}
	failures = map[string]*webhook.Failure{}
	for _, m := range msgs {
		id := m.Attributes[webhook.AttrWebhookID].StringValue
		ids = append(ids, id)
		a, ok := m.Attributes[webhook.AttrFailure]
		if !ok {
			// Moved by SQS's redrive policy: no failure record.
			failures[id] = nil
			continue
		}
		var f webhook.Failure
		if err := json.Unmarshal([]byte(a.StringValue), &f); err != nil {
			w.t.Fatalf("%s's failure record: %v", id, err)
		}
		failures[id] = &f
	}
	return ids, failures
}

// An outage longer than the whole retry policy: every webhook ends in the
// DLQ, parked by the forwarder after a real execution, with its failure
// record and exactly one notification, in order; SQS's backstop moves none.
func TestOutageLongerThanTheRetryPolicy(t *testing.T) {
	t.Parallel()
	w := newOutageWorld(t, 14*24*time.Hour)
	f := config.ComputeFinality(w.cfg)
	if per := int(config.ComputeBudget(w.cfg).ForwardTimeout / w.worst); per >= w.cfg.Queue.BatchSize {
		t.Fatalf("the forward timeout fits %d executions of %s; the test needs fewer than a batch", per, w.route.Name)
	}
	start := w.clock.Now()
	ids := w.send(w.cfg.Queue.BatchSize)
	w.run()

	order, failures := w.parked()
	if !slices.Equal(order, ids) {
		t.Errorf("DLQ holds %v, want every webhook in order %v", order, ids)
	}
	announced := map[string]int{}
	for _, req := range w.notifier.requests() {
		announced[req.Webhook.WebhookID]++
	}
	for _, id := range ids {
		fl := failures[id]
		switch {
		case fl == nil:
			t.Errorf("%s was moved by SQS's redrive policy (no failure record)", id)
		case fl.Reason != webhook.ReasonExhausted || fl.Error != webhook.ErrRetryable || fl.ExecutionARN == "":
			t.Errorf("%s parked with %+v; want exhausted after a real execution", id, *fl)
		}
		if n := w.notified[id] + announced[id]; n != 1 {
			t.Errorf("%s: %d notifications (workflow %d, forwarder %d), want exactly 1", id, n, w.notified[id], announced[id])
		}
	}
	if len(w.delivered) != 0 {
		t.Errorf("delivered %v while the target was down", w.delivered)
	}
	// The derivation of the backstop holds: no message came near it.
	if limit := f.WindowReceives + f.BatchReceives; w.maxSeen > limit {
		t.Errorf("a message was received %d times; the backstop's derivation allows %d before its margin", w.maxSeen, limit)
	}
	if took := w.clock.Now().Sub(start); took > f.FollowerWait {
		t.Errorf("the last webhook was parked %s after it was queued, beyond the derived follower wait %s", took, f.FollowerWait)
	}
	t.Logf("backstop %d (%s); highest receive count %d; all parked after %s (follower wait bound %s)",
		f.MaxReceiveCount, f.Explain(), w.maxSeen, w.clock.Now().Sub(start), f.FollowerWait)
}

// The target recovers midway through the window: every webhook is
// delivered, in order, none parked, nobody notified.
func TestOutageRecoveringMidway(t *testing.T) {
	t.Parallel()
	w := newOutageWorld(t, 0)
	w.downUntil = w.clock.Now().Add(w.cfg.Queue.RetryWindow / 2)
	ids := w.send(w.cfg.Queue.BatchSize)
	w.run()

	if !slices.Equal(w.delivered, ids) {
		t.Errorf("delivered %v, want every webhook in order %v", w.delivered, ids)
	}
	if order, _ := w.parked(); len(order) != 0 {
		t.Errorf("DLQ holds %v", order)
	}
	if len(w.notified) != 0 || len(w.notifier.calls) != 0 {
		t.Errorf("notified %v, announced %d; want none", w.notified, len(w.notifier.calls))
	}
}
