package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/webhook"
)

// reparker stands in for the forwarder facing a target that refuses every
// webhook: it takes each message from the source queue and parks it in the
// DLQ at once, as internal/lambda/forwarder's park does — a new message with
// the body, group and every attribute kept and the failure recorded.
func reparker(t *testing.T, client *sqs.Client, b *bundle) (parked *atomic.Int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	parked = &atomic.Int64{}
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(b.source), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
				MessageAttributeNames:       []string{"All"},
				MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			})
			if err != nil {
				continue
			}
			for _, m := range out.Messages {
				failure, _ := json.Marshal(webhook.Failure{Reason: webhook.ReasonPermanent, Error: webhook.ErrPermanent,
					Cause: "target answered 400", FailedAt: time.Now().UTC().Format(time.RFC3339), ReceiveCount: 1})
				attrs := m.MessageAttributes
				attrs[webhook.AttrFailure] = strAttr(string(failure))
				_, err := client.SendMessage(ctx, &sqs.SendMessageInput{
					QueueUrl: aws.String(b.dlq), MessageBody: m.Body, MessageAttributes: attrs,
					MessageGroupId:         aws.String(m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]),
					MessageDeduplicationId: aws.String("park-" + aws.ToString(m.MessageId)),
				})
				if err != nil {
					continue
				}
				parked.Add(1)
				_, _ = client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(b.source), ReceiptHandle: m.ReceiptHandle})
			}
		}
	}()
	return parked
}

// dateRewriter makes the endpoint's clock read at: every response's Date
// header says so, as a server whose clock is there would.
type dateRewriter struct{ at time.Time }

func (d dateRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Header.Set("Date", d.at.UTC().Format(http.TimeFormat))
	}
	return resp, err
}

func TestRunMovesASnapshotOnce(t *testing.T) {
	endpoint := testenv.Moto(t)
	client := sqs.NewFromConfig(testenv.AWSConfig(endpoint, "us-east-1"))
	ctx := context.Background()

	// The blocker of issue 15: a webhook that fails again at once, redriven
	// with everything selected. Each run moves it once and ends; it is parked
	// again with its redrive count one higher; the limit then refuses it.
	t.Run("a webhook parked again at once is moved once per run", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		b.park(t, "g", "poison", "r", `{"bad":true}`)
		parked := reparker(t, client, b)
		tool := *b.tool
		tool.MaxRedrives = 2
		for run := 1; run <= 2; run++ {
			// Without the snapshot this run never ends: bound it, and count.
			runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			scan, err := tool.Move(runCtx, Filter{})
			cancel()
			if err != nil {
				t.Fatalf("run %d: %v (moved %d)", run, err, len(scan.Messages))
			}
			if got := messageIDs(scan.Messages); !slices.Equal(got, []string{"poison"}) {
				t.Fatalf("run %d moved %v, want [poison] once", run, got)
			}
			waitUntil(t, func() bool { return parked.Load() == int64(run) })
			left, err := tool.List(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(left.Messages) != 1 || left.Messages[0].RedriveCount != run || left.Messages[0].WebhookID != "poison" {
				t.Fatalf("after run %d the DLQ holds %+v, want poison with redrive count %d", run, left.Messages, run)
			}
		}
		scan, err := tool.Move(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(scan.Messages) != 0 || len(scan.Skipped) != 1 || scan.Skipped[0].Why != SkipMaxRedrives {
			t.Fatalf("third run: moved %v, skipped %+v; want poison refused (max redrives)", messageIDs(scan.Messages), scan.Skipped)
		}
		if parked.Load() != 2 {
			t.Fatalf("the target saw the webhook %d times, want 2", parked.Load())
		}
	})

	t.Run("a copy parked again inside the run is skipped, not moved", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		for i := range 3 {
			b.park(t, "g"+strconv.Itoa(i), "w"+strconv.Itoa(i), "r", "body")
		}
		parked := reparker(t, client, b)
		tool := *b.tool
		tool.EmptyReceives = 4 // room for the re-parked copies to arrive inside the run
		runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		scan, err := tool.Move(runCtx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(scan.Messages) != 3 {
			t.Fatalf("moved %v, want each of w0..w2 once", messageIDs(scan.Messages))
		}
		if n := scan.SkippedFor(SkipParkedAgain); n != 3 {
			t.Fatalf("skipped %+v, want the 3 re-parked copies as %s", scan.Skipped, SkipParkedAgain)
		}
		if parked.Load() != 3 {
			t.Fatalf("parked %d times, want 3", parked.Load())
		}
	})

	// The arrival rule, on its own: a message sent to the DLQ at or after the
	// server's clock when the run started is left for the next run.
	t.Run("a message that reached the DLQ after the start stays", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		b.park(t, "g1", "before", "r", "1")
		time.Sleep(2100 * time.Millisecond)
		start := time.Now().Add(-time.Second) // the cutoff is the end of this second
		b.park(t, "g2", "after", "r", "2")
		cfg := testenv.AWSConfig(endpoint, "us-east-1")
		cfg.HTTPClient = &http.Client{Transport: dateRewriter{at: start}}
		tool := *b.tool
		tool.SQS = sqs.NewFromConfig(cfg)
		scan, err := tool.Move(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if got := messageIDs(scan.Messages); !slices.Equal(got, []string{"before"}) {
			t.Fatalf("moved %v, want [before]", got)
		}
		if len(scan.Skipped) != 1 || scan.Skipped[0].WebhookID != "after" || scan.Skipped[0].Why != SkipArrived {
			t.Fatalf("skipped %+v, want after (%s)", scan.Skipped, SkipArrived)
		}
		if got := webhookIDs(drain(t, client, b.dlq)); !slices.Equal(got, []string{"after"}) {
			t.Fatalf("DLQ keeps %v", got)
		}
	})

	// Cancelling the context (Ctrl-C) between messages or during a send:
	// the message in hand is finished — sent and deleted — and nothing else.
	t.Run("an interrupt never splits a send from its delete", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		for i := range 6 {
			b.park(t, "g", "w"+strconv.Itoa(i), "r", strconv.Itoa(i))
		}
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		tool := *b.tool
		tool.SQS = &cancelOnSend{SQS: client, after: 3, cancel: cancel}
		scan, err := tool.Move(runCtx, Filter{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		moved := webhookIDs(drain(t, client, b.source))
		if !slices.Equal(moved, []string{"w0", "w1", "w2"}) || !slices.Equal(messageIDs(scan.Messages), moved) {
			t.Fatalf("source queue holds %v, the scan says %v; want w0..w2 (the third send was in flight at the interrupt)", moved, messageIDs(scan.Messages))
		}
		if left := webhookIDs(drain(t, client, b.dlq)); !slices.Equal(left, []string{"w3", "w4", "w5"}) {
			t.Fatalf("DLQ keeps %v, want w3..w5", left)
		}
	})
}

// cancelOnSend cancels the run's context while its after-th SendMessage is
// in flight, as a Ctrl-C at that moment would.
type cancelOnSend struct {
	SQS
	after  int32
	sends  atomic.Int32
	cancel context.CancelFunc
}

func (c *cancelOnSend) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if c.sends.Add(1) == c.after {
		c.cancel()
	}
	return c.SQS.SendMessage(ctx, in, opts...)
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

func TestSnapshotRules(t *testing.T) {
	t.Parallel()
	server := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC) // a Date header: whole seconds
	s := newSnapshot(server)
	for _, tc := range []struct {
		sent time.Time
		want bool
	}{
		{time.Time{}, false},
		{server.Add(-time.Hour), false},
		{server.Add(999 * time.Millisecond), false}, // inside the Date header's second
		{server.Add(time.Second), true},
		{server.Add(time.Minute), true},
	} {
		if got := s.arrivedDuringRun(Message{SentAt: tc.sent}); got != tc.want {
			t.Errorf("sent %v: arrivedDuringRun = %v, want %v", tc.sent, got, tc.want)
		}
	}
	m := Message{Group: "g", WebhookID: "w", Body: "b", RedriveCount: 2}
	s.sent(m, 3)
	parkedAgain := m
	parkedAgain.MessageID, parkedAgain.RedriveCount = "new-id", 3
	if !s.ownCopy(parkedAgain) {
		t.Error("the copy sent with redrive count 3 is not recognised when parked again")
	}
	for _, other := range []Message{
		{Group: "g", WebhookID: "w", Body: "b", RedriveCount: 2}, // the original's count
		{Group: "g2", WebhookID: "w", Body: "b", RedriveCount: 3},
		{Group: "g", WebhookID: "w2", Body: "b", RedriveCount: 3},
		{Group: "g", WebhookID: "w", Body: "b2", RedriveCount: 3},
		{Group: "g", WebhookID: "w", Body: "b", RedriveCount: 4},
	} {
		if s.ownCopy(other) {
			t.Errorf("%+v taken for the run's copy", other)
		}
	}
}
