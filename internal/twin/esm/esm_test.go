package esm_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/webhookq/webhookq/internal/twin/esm"
	"github.com/webhookq/webhookq/internal/twin/fifo"
)

const queue = "q.fifo"

func newStore(t *testing.T) *fifo.Store {
	t.Helper()
	s, err := fifo.Open(filepath.Join(t.TempDir(), "q.db"), fifo.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateQueue(queue, map[string]string{fifo.AttrFifoQueue: "true", fifo.AttrContentBasedDeduplication: "true", fifo.AttrVisibilityTimeout: "600"}); err != nil {
		t.Fatal(err)
	}
	return s
}

func send(t *testing.T, s *fifo.Store, group, body string) {
	t.Helper()
	if _, err := s.Send(queue, fifo.SendInput{Body: body, GroupID: group, Attributes: map[string]fifo.Attribute{"webhook-id": {DataType: "String", StringValue: "id-" + body}}}); err != nil {
		t.Fatal(err)
	}
}

// handler is a forward function: it records the events it got (decoded by
// aws-lambda-go, as the Lambda runtime would) and fails the bodies in fail.
type handler struct {
	mu     sync.Mutex
	events []events.SQSEvent
	fail   map[string]bool
	err    error
	block  chan struct{}
}

func (h *handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
	if h.block != nil {
		select {
		case <-h.block:
		case <-ctx.Done():
			return events.SQSEventResponse{}, ctx.Err()
		}
	}
	var resp events.SQSEventResponse
	for _, r := range ev.Records {
		if h.fail[r.Body] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, h.err
}

func (h *handler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

func start(t *testing.T, s *fifo.Store, h *handler, lease time.Duration) *esm.Poller {
	t.Helper()
	p, err := esm.Start(esm.Options{Queue: s, QueueName: queue, Region: "eu-west-1", Function: lambda.NewHandler(h.handle),
		BatchSize: 10, MaxConcurrency: 2, Timeout: 5 * time.Second, Lease: lease, PollWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPartialBatchResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		fail    map[string]bool
		err     error
		remains []string
	}{
		{name: "all succeed", remains: nil},
		{name: "one record fails", fail: map[string]bool{"b": true}, remains: []string{"b"}},
		{name: "function error fails the batch", err: errors.New("boom"), remains: []string{"a", "b", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			for _, b := range []string{"a", "b", "c"} {
				send(t, s, "g", b)
			}
			h := &handler{fail: tc.fail, err: tc.err}
			p := start(t, s, h, 0)
			waitFor(t, "one invocation", func() bool { return h.count() >= 1 })
			p.Stop(time.Second)
			msgs, err := s.List(queue)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range msgs {
				got = append(got, m.Body)
			}
			if len(got) != len(tc.remains) || (len(got) > 0 && got[0] != tc.remains[0]) {
				t.Errorf("left in the queue %q, want %q", got, tc.remains)
			}
			ev := h.events[0]
			if len(ev.Records) != 3 {
				t.Fatalf("batch of %d, want all three of the group", len(ev.Records))
			}
			r := ev.Records[0]
			if r.Body != "a" || r.Attributes["MessageGroupId"] != "g" || r.Attributes["ApproximateReceiveCount"] != "1" ||
				r.Attributes["SequenceNumber"] == "" || r.EventSource != "aws:sqs" || r.EventSourceARN != s.ARN(queue) ||
				r.AWSRegion != "eu-west-1" || *r.MessageAttributes["webhook-id"].StringValue != "id-a" || r.Md5OfBody == "" {
				b, _ := json.Marshal(r)
				t.Errorf("record %s", b)
			}
		})
	}
}

// TestStopReleases: a batch still running at the end of the grace period is
// cancelled and its messages are visible at once.
func TestStopReleases(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	send(t, s, "g", "a")
	h := &handler{block: make(chan struct{})}
	p := start(t, s, h, 0)
	waitFor(t, "the invocation", func() bool { return h.count() == 1 })
	p.Stop(50 * time.Millisecond)
	st, err := s.Stats(queue)
	if err != nil || st.Visible != 1 || st.InFlight != 0 {
		t.Errorf("after Stop: %+v (%v), want the message visible again", st, err)
	}
}

// TestLeaseExtended: with a short lease, a long invocation keeps its
// messages; after it, nothing was received twice.
func TestLeaseExtended(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	send(t, s, "g", "a")
	h := &handler{block: make(chan struct{})}
	p := start(t, s, h, 150*time.Millisecond)
	waitFor(t, "the invocation", func() bool { return h.count() == 1 })
	time.Sleep(600 * time.Millisecond) // four leases
	if n := h.count(); n != 1 {
		t.Errorf("%d invocations while the first ran: the lease lapsed", n)
	}
	close(h.block)
	waitFor(t, "the message deleted", func() bool { st, _ := s.Stats(queue); return st.Visible+st.InFlight == 0 })
	p.Stop(time.Second)
}

// TestClaimStopsLease: a record whose visibility the function set itself
// (the forwarder's backoff) is not extended by the lease: it comes back when
// the function said, even while the invocation still runs.
func TestClaimStopsLease(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	send(t, s, "g", "a")
	var p *esm.Poller
	var mu sync.Mutex
	invocations, firstRunning, overlapped := 0, false, false
	fn := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		mu.Lock()
		invocations++
		first := invocations == 1
		if first {
			firstRunning = true
		} else if firstRunning {
			overlapped = true
		}
		mu.Unlock()
		if !first {
			return events.SQSEventResponse{}, nil
		}
		defer func() { mu.Lock(); firstRunning = false; mu.Unlock() }()
		h := ev.Records[0].ReceiptHandle
		p.Claim(h)
		if err := s.ChangeVisibility(queue, h, 120*time.Millisecond); err != nil {
			t.Error(err)
		}
		select { // outlive several leases
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}}}, nil
	}
	var err error
	p, err = esm.Start(esm.Options{Queue: s, QueueName: queue, Region: "eu-west-1", Function: lambda.NewHandler(fn),
		BatchSize: 1, MaxConcurrency: 2, Timeout: 5 * time.Second, Lease: 150 * time.Millisecond, PollWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	waitFor(t, "the claimed record received again while the first invocation runs", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return invocations >= 2
	})
	mu.Lock()
	defer mu.Unlock()
	if !overlapped {
		t.Error("the record came back only after the invocation ended: the lease kept extending it")
	}
}

// TestPause: a paused mapping finishes its running batch (Disabling), then
// receives nothing (Disabled) until it is enabled again.
func TestPause(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	send(t, s, "g1", "a")
	h := &handler{block: make(chan struct{})}
	p := start(t, s, h, 0)
	defer p.Stop(time.Second)
	waitFor(t, "the first batch", func() bool { return h.count() == 1 })
	p.SetEnabled(false)
	if got := p.State(); got != esm.StateDisabling {
		t.Errorf("paused with a batch running: %s, want %s", got, esm.StateDisabling)
	}
	close(h.block)
	waitFor(t, "Disabled", func() bool { return p.State() == esm.StateDisabled })
	send(t, s, "g2", "b")
	time.Sleep(300 * time.Millisecond)
	if n := h.count(); n != 1 {
		t.Errorf("%d invocations while disabled, want 1", n)
	}
	p.SetEnabled(true)
	if got := p.State(); got != esm.StateEnabled {
		t.Errorf("after enabling: %s", got)
	}
	waitFor(t, "the message sent while disabled", func() bool { return h.count() == 2 })
}

// A mapping disabled before a restart starts disabled, and resumes on
// SetEnabled(true).
func TestStartDisabled(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	send(t, s, "g1", "a")
	h := &handler{}
	p, err := esm.Start(esm.Options{Queue: s, QueueName: queue, Region: "eu-west-1", Function: lambda.NewHandler(h.handle),
		BatchSize: 10, MaxConcurrency: 2, Timeout: 5 * time.Second, PollWait: 50 * time.Millisecond, Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	if got := p.State(); got != esm.StateDisabled {
		t.Fatalf("started disabled: %s", got)
	}
	time.Sleep(300 * time.Millisecond)
	if n := h.count(); n != 0 {
		t.Fatalf("%d invocations while disabled, want 0", n)
	}
	p.SetEnabled(true)
	waitFor(t, "the message sent while disabled", func() bool { return h.count() == 1 })
}
