// Package esm is the local twin's event source mapping: it polls the FIFO
// queue the way Lambda does and invokes the forward function with each batch.
//
// As Lambda's SQS poller for FIFO queues does, it
//   - receives batches of up to BatchSize messages (one receive holds only
//     message groups with nothing in flight, so concurrent batches never share
//     a group and a group's messages stay in order);
//   - runs at most MaxConcurrency invocations at once;
//   - hands the function an SQS event shaped like AWS's (eventSourceARN,
//     awsRegion, the system attributes ApproximateReceiveCount, SentTimestamp,
//     SequenceNumber, MessageGroupId, MessageDeduplicationId, …, and the
//     message attributes), serialised to JSON and decoded by the function's
//     own Lambda handler, exactly the bytes a Lambda runtime would see;
//   - applies the partial batch response (ReportBatchItemFailures): the
//     records not reported as failed are deleted, the failed ones stay for
//     SQS to hand back; a function error, or a failure naming no record of
//     the batch, fails the whole batch.
//
// Each invocation runs under the function's timeout. By default the batch is
// received with a visibility timeout of that plus a margin. With a Lease, the
// batch is received for the lease only and the poller extends it while the
// invocation runs, so if the twin dies mid-batch the batch is visible again
// within one lease instead of after the (long) function timeout. Lambda holds
// a batch for the queue's visibility timeout instead; nothing but the forward
// function works on a received batch, so the lease changes no outcome, only
// how fast a crash recovers. Records whose visibility the function changes
// itself (the forwarder's backoff) must be reported with Claim, and are no
// longer extended.
//
// Stop ends polling and waits for running invocations; after its grace period
// it cancels them and releases (makes visible at once) whatever they did not
// finish, so a restart picks the work up immediately.
package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/webhookq/webhookq/internal/twin/fifo"
)

// Queue is the part of fifo.Store the poller uses.
type Queue interface {
	Receive(ctx context.Context, queueName string, in fifo.ReceiveInput) ([]fifo.Message, error)
	DeleteBatch(queueName string, handles []string) (errs []error, err error)
	ChangeVisibilityBatch(queueName string, changes []fifo.VisibilityChange) (errs []error, err error)
	ARN(name string) string
}

// Function is a Lambda function's JSON interface (aws-lambda-go's
// lambda.Handler): a JSON event in, a JSON response or an error out.
type Function interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Options configure a Poller.
type Options struct {
	Queue     Queue
	QueueName string
	Region    string
	Function  Function
	// BatchSize is 1..10 (FIFO); MaxConcurrency ≥ 1.
	BatchSize      int
	MaxConcurrency int
	// Timeout is the function's timeout (the forward Lambda's).
	Timeout time.Duration
	// VisibilityMargin is added to Timeout for the receive's visibility
	// timeout, room to apply the batch response; default 2 s.
	VisibilityMargin time.Duration
	// Lease, when set, is the receive's visibility timeout, extended every
	// third of it while the invocation runs (see the package comment).
	Lease time.Duration
	// PollWait is the long-poll time of each receive; default 1 s.
	PollWait time.Duration
	// Disabled starts the mapping paused, as a mapping disabled before a
	// restart stays disabled on Lambda; SetEnabled(true) resumes it.
	Disabled bool
	Log      *slog.Logger
}

// Poller is a running event source mapping.
type Poller struct {
	o      Options
	slots  chan struct{}
	cancel context.CancelFunc // stops polling
	kill   context.CancelFunc // cancels running invocations
	invCtx context.Context
	done   chan struct{}
	wg     sync.WaitGroup
	// running maps the receipt handles of running batches to their batch.
	running sync.Map

	// busy counts receives and invocations in progress; paused stops new
	// receives, and resumed is closed when polling may go on.
	busy    atomic.Int64
	mu      sync.Mutex
	paused  bool
	resumed chan struct{}
}

// Mapping states, as Lambda's GetEventSourceMapping reports them.
const (
	StateEnabled   = "Enabled"
	StateDisabling = "Disabling"
	StateDisabled  = "Disabled"
)

// SetEnabled pauses or resumes polling, as UpdateEventSourceMapping's
// Enabled does: a pause lets running batches finish and receives nothing new.
func (p *Poller) SetEnabled(enabled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case enabled && p.paused:
		p.paused = false
		close(p.resumed)
	case !enabled && !p.paused:
		p.paused = true
		p.resumed = make(chan struct{})
	}
}

// State is Enabled, Disabling (paused, batches still running) or Disabled.
func (p *Poller) State() string {
	p.mu.Lock()
	paused := p.paused
	p.mu.Unlock()
	switch {
	case !paused:
		return StateEnabled
	case p.busy.Load() > 0:
		return StateDisabling
	}
	return StateDisabled
}

// waitEnabled blocks while the mapping is paused.
func (p *Poller) waitEnabled(ctx context.Context) {
	p.mu.Lock()
	paused, resumed := p.paused, p.resumed
	p.mu.Unlock()
	if paused {
		select {
		case <-resumed:
		case <-ctx.Done():
		}
	}
}

// batch is a running invocation's records and the ones the function claimed.
type batch struct {
	mu      sync.Mutex
	claimed map[string]bool
}

// Claim stops the lease extension of a record: the function set its
// visibility itself. Call it before the function's ChangeMessageVisibility.
func (p *Poller) Claim(handle string) {
	if b, ok := p.running.Load(handle); ok {
		b := b.(*batch)
		b.mu.Lock()
		b.claimed[handle] = true
		b.mu.Unlock()
	}
}

// Start begins polling.
func Start(o Options) (*Poller, error) {
	if o.Queue == nil || o.Function == nil || o.QueueName == "" {
		return nil, errors.New("esm: Queue, QueueName and Function are required")
	}
	if o.BatchSize < 1 || o.BatchSize > 10 {
		return nil, fmt.Errorf("esm: batch size %d: a FIFO queue takes 1 to 10", o.BatchSize)
	}
	if o.MaxConcurrency < 1 {
		return nil, fmt.Errorf("esm: maximum concurrency %d must be at least 1", o.MaxConcurrency)
	}
	if o.Timeout <= 0 {
		return nil, errors.New("esm: Timeout is required")
	}
	if o.VisibilityMargin <= 0 {
		o.VisibilityMargin = 2 * time.Second
	}
	if o.PollWait <= 0 {
		o.PollWait = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	pollCtx, cancel := context.WithCancel(context.Background())
	invCtx, kill := context.WithCancel(context.Background())
	p := &Poller{o: o, slots: make(chan struct{}, o.MaxConcurrency), cancel: cancel, kill: kill, invCtx: invCtx, done: make(chan struct{})}
	if o.Disabled {
		p.paused, p.resumed = true, make(chan struct{})
	}
	go p.poll(pollCtx)
	return p, nil
}

// Stop stops polling, waits up to grace for running invocations, then
// cancels the rest and releases their unfinished records. It returns once
// every invocation has ended.
func (p *Poller) Stop(grace time.Duration) {
	p.cancel()
	<-p.done
	finished := make(chan struct{})
	go func() { p.wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(grace):
		p.o.Log.Warn("esm: cancelling the running batches; their unfinished messages are released")
		p.kill()
		<-finished
	}
	p.kill()
}

func (p *Poller) poll(ctx context.Context) {
	defer close(p.done)
	vis := p.o.Timeout + p.o.VisibilityMargin
	if p.o.Lease > 0 {
		vis = p.o.Lease
	}
	wait := p.o.PollWait
	for {
		p.waitEnabled(ctx)
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		p.mu.Lock()
		paused := p.paused
		if !paused {
			p.busy.Add(1) // under mu: State never sees a receive start after a pause
		}
		p.mu.Unlock()
		if paused {
			<-p.slots
			continue
		}
		msgs, err := p.o.Queue.Receive(ctx, p.o.QueueName, fifo.ReceiveInput{MaxMessages: p.o.BatchSize, VisibilityTimeout: &vis, WaitTime: &wait})
		if err != nil || len(msgs) == 0 {
			p.busy.Add(-1)
			<-p.slots
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				p.o.Log.Error("esm: receive failed", "error", err.Error())
				if errors.Is(err, fifo.ErrClosed) {
					return
				}
				sleep(ctx, time.Second)
			}
			continue
		}
		p.wg.Add(1)
		go func() {
			defer func() { p.busy.Add(-1); <-p.slots; p.wg.Done() }()
			p.invoke(msgs)
		}()
	}
}

// invoke runs one batch through the function and applies its answer.
func (p *Poller) invoke(msgs []fifo.Message) {
	ctx, cancel := context.WithTimeout(p.invCtx, p.o.Timeout)
	defer cancel()
	payload, err := json.Marshal(Event(p.o.Queue.ARN(p.o.QueueName), p.o.Region, msgs))
	if err != nil {
		p.o.Log.Error("esm: encode event", "error", err.Error())
		return
	}
	b := &batch{claimed: map[string]bool{}}
	for _, m := range msgs {
		p.running.Store(m.ReceiptHandle, b)
	}
	stopLease := p.extend(b, msgs)
	out, err := p.o.Function.Invoke(ctx, payload)
	stopLease()
	for _, m := range msgs {
		p.running.Delete(m.ReceiptHandle)
	}
	interrupted := p.invCtx.Err() != nil
	failed, whole := failures(out, err, msgs)
	if whole {
		p.o.Log.Warn("esm: the whole batch failed", "records", len(msgs), "error", errString(err))
	}
	var done []string
	var release []fifo.VisibilityChange
	for _, m := range msgs {
		switch {
		case !whole && !failed[m.MessageID]:
			done = append(done, m.ReceiptHandle)
		case interrupted:
			// Shutting down: hand the record back now, not after its
			// visibility timeout, so the next run starts with it.
			release = append(release, fifo.VisibilityChange{ReceiptHandle: m.ReceiptHandle})
		}
	}
	// One commit each: the records of a batch share one disk flush.
	if len(done) > 0 {
		p.report("delete", done, func() ([]error, error) { return p.o.Queue.DeleteBatch(p.o.QueueName, done) })
	}
	if len(release) > 0 {
		handles := make([]string, len(release))
		for i, r := range release {
			handles[i] = r.ReceiptHandle
		}
		p.report("release", handles, func() ([]error, error) { return p.o.Queue.ChangeVisibilityBatch(p.o.QueueName, release) })
	}
}

// report logs the failures of a batch operation on the queue; a record that
// is no longer in flight (the function released it) is not one.
func (p *Poller) report(what string, handles []string, op func() ([]error, error)) {
	errs, err := op()
	if err != nil {
		p.o.Log.Error("esm: "+what+" failed", "records", len(handles), "error", err.Error())
		return
	}
	for i, e := range errs {
		if e != nil && !errors.Is(e, fifo.ErrMessageNotInflight) {
			p.o.Log.Warn("esm: "+what+" failed", "receipt_handle", handles[i], "error", e.Error())
		}
	}
}

// extend keeps the batch's unclaimed records invisible while it runs, when
// there is a lease; the returned function stops it and waits.
func (p *Poller) extend(b *batch, msgs []fifo.Message) (stop func()) {
	if p.o.Lease <= 0 {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(p.o.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			b.mu.Lock()
			var extend []fifo.VisibilityChange
			for _, m := range msgs {
				if !b.claimed[m.ReceiptHandle] {
					extend = append(extend, fifo.VisibilityChange{ReceiptHandle: m.ReceiptHandle, Timeout: p.o.Lease})
				}
			}
			// A failed entry is a record gone or visible again (deleted, or
			// released by the function): nothing to keep.
			if len(extend) > 0 {
				_, _ = p.o.Queue.ChangeVisibilityBatch(p.o.QueueName, extend)
			}
			b.mu.Unlock()
		}
	}()
	return func() { close(quit); <-done }
}

// failures reads a partial batch response. whole is true when Lambda would
// treat the whole batch as failed: a function error, an answer that is not a
// batch response, or a failure naming no record of the batch.
func failures(out []byte, invokeErr error, msgs []fifo.Message) (failed map[string]bool, whole bool) {
	if invokeErr != nil {
		return nil, true
	}
	var resp events.SQSEventResponse
	if len(out) > 0 && string(out) != "null" {
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, true
		}
	}
	ids := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		ids[m.MessageID] = true
	}
	failed = map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if !ids[f.ItemIdentifier] {
			return nil, true
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, false
}

// Event is the SQS event Lambda builds for a batch.
func Event(queueARN, region string, msgs []fifo.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		attrs := map[string]string{
			"ApproximateReceiveCount": strconv.Itoa(m.ReceiveCount),
			"SentTimestamp":           strconv.FormatInt(m.SentTimestamp.UnixMilli(), 10),
			"SenderId":                "AROALOCALTWIN:ingress",
		}
		if !m.FirstReceiveTimestamp.IsZero() {
			attrs["ApproximateFirstReceiveTimestamp"] = strconv.FormatInt(m.FirstReceiveTimestamp.UnixMilli(), 10)
		}
		if m.GroupID != "" {
			attrs["MessageGroupId"] = m.GroupID
		}
		if m.DeduplicationID != "" {
			attrs["MessageDeduplicationId"] = m.DeduplicationID
		}
		if m.SequenceNumber != "" {
			attrs["SequenceNumber"] = m.SequenceNumber
		}
		if m.DeadLetterSourceARN != "" {
			attrs["DeadLetterQueueSourceArn"] = m.DeadLetterSourceARN
		}
		mattrs := make(map[string]events.SQSMessageAttribute, len(m.Attributes))
		for name, a := range m.Attributes {
			ea := events.SQSMessageAttribute{DataType: a.DataType, StringListValues: []string{}, BinaryListValues: [][]byte{}}
			if a.BinaryValue != nil {
				ea.BinaryValue = a.BinaryValue
			} else {
				v := a.StringValue
				ea.StringValue = &v
			}
			mattrs[name] = ea
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:              m.MessageID,
			ReceiptHandle:          m.ReceiptHandle,
			Body:                   m.Body,
			Md5OfBody:              m.MD5OfBody,
			Md5OfMessageAttributes: m.MD5OfMessageAttributes,
			Attributes:             attrs,
			MessageAttributes:      mattrs,
			EventSourceARN:         queueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              region,
		})
	}
	return ev
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
