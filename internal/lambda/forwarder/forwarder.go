// Package forwarder is the core of the forward Lambda: it turns a batch of SQS
// FIFO records into synchronous Express executions, one per record, and tells
// the event source mapping which records failed.
//
// Ordering. Records of one message group run strictly one after another, in
// batch order; after the first failure in a group every later record of that
// group is reported as failed without being started, so a group never
// overtakes its failed head (AWS's guidance for FIFO partial batch
// responses). Different groups are independent and run concurrently, up to
// Config.Concurrency at a time.
//
// Outer backoff. A failed record's visibility is set from the Backoff
// schedule, so SQS hands it back later instead of after the (long) queue
// visibility timeout. Records that were never tried (blocked behind a failure,
// or out of time) and permanent failures are made visible at once: the failed
// head stays in flight, and SQS FIFO delivers nothing of a group while one of
// its messages is in flight, so they cannot overtake it. Permanent failures
// (Webhook.Permanent, malformed records, unknown routes, oversize inputs) come
// back at once so they reach the DLQ without holding their group long.
//
// Finality (finality.go). The forwarder owns the decision that a message is
// done failing, by time, not by SQS's receive count (config.RetryPolicy): an
// execution is final when it could end past the message's retry window
// (SentTimestamp + queue.retry_window), and the workflow notifies on a final
// execution. A record that did not run — blocked behind its group's head,
// left without time for its route's worst case, or refused by
// StartSyncExecution — is never final: it comes back and runs later. SQS's
// redrive policy is a backstop derived so that this never reaches it
// (config.ComputeFinality); should a record still arrive on the last receive
// it allows, the forwarder makes that receive final itself.
//
// Verify first (verify.go). A record whose route verifies inbound signatures
// is checked before its execution starts; one that does not verify never
// runs, is parked at once with reason signature, and is not announced.
//
// Parking. With a DLQ configured (Config.DLQURL) the forwarder moves a
// message there itself when its failure is final — a failed final
// execution, a Webhook.Permanent failure (or a data limit the same input
// will hit again) on any execution, or a record that can never run
// (malformed, unknown route, oversize) at once — with webhook.AttrFailure
// saying why, and reports it as done: the event source mapping deletes it and
// its group goes on in the same batch. Every park is announced exactly once:
// by the workflow's Notify, or, where the workflow could not (the record never
// ran, or its execution ended in an error Catch cannot catch), by the
// forwarder invoking the notify function asynchronously (notify.go). When the
// send to the DLQ fails the record takes the ordinary failure path, and SQS's
// redrive policy remains the backstop.
package forwarder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/lambda/signature"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Starter starts a synchronous Express execution (the sfn client's method).
type Starter interface {
	StartSyncExecution(ctx context.Context, in *sfn.StartSyncExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartSyncExecutionOutput, error)
}

// VisibilityChanger changes a received message's visibility timeout (the sqs
// client's method).
type VisibilityChanger interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// MessageSender sends a message to a queue (the sqs client's method); the
// forwarder parks messages in the DLQ with it.
type MessageSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// DefaultConcurrency is how many message groups run at once unless
// Config.Concurrency says otherwise: a FIFO batch holds at most 10 records.
const DefaultConcurrency = 10

// maxLoggedCause bounds the execution cause written to the log, and
// maxFailureCause the one recorded on a parked message; the full cause stays
// in the execution history.
const (
	maxLoggedCause  = 512
	maxFailureCause = 2048
)

// sqsCallTimeout bounds a ChangeMessageVisibility or SendMessage call. These
// calls must happen even when the invocation's deadline is spent, so they get
// a context of their own.
const sqsCallTimeout = 5 * time.Second

// Config is what a Forwarder needs: the routes, the AWS clients (as the
// narrow interfaces above) and optional knobs with defaults.
type Config struct {
	// Routes is the loaded routes.yaml (required).
	Routes *config.Config
	// StateMachineARNPrefix is webhook.EnvStateMachineARNPrefix's value; the
	// route name completes it (required).
	StateMachineARNPrefix string
	// QueueURL is the source queue (webhook.EnvQueueURL); empty derives it
	// from each record's eventSourceARN.
	QueueURL string
	// Starter runs the executions (required; NewStatesClient).
	Starter Starter
	// Queue changes visibility on the source queue (required).
	Queue VisibilityChanger
	// DLQURL is webhook.EnvDLQURL's value: when set, a record that failed for
	// good (its final receive, or malformed) is parked there by the forwarder
	// through DeadLetters, with webhook.AttrFailure saying why. Empty leaves
	// the move to SQS's redrive policy.
	DLQURL string
	// DeadLetters sends to DLQURL (required when DLQURL is set).
	DeadLetters MessageSender
	// Logger receives one structured line per record; nil discards.
	Logger *slog.Logger
	// Now is the clock for deadline checks; nil is time.Now.
	Now func() time.Time
	// Jitter feeds the Backoff schedule; nil means no jitter.
	Jitter func() float64
	// Concurrency bounds the message groups run at once; 0 is DefaultConcurrency.
	Concurrency int
	// Metrics records what became of each record (Delivered, Parked, …;
	// metrics.NewEMF on AWS); nil records nothing.
	Metrics metrics.Recorder
	// NotifyFunction is webhook.EnvNotifyFunction's value: the function the
	// forwarder invokes through Notifier, asynchronously, for a record it
	// parks without the workflow having notified. Empty: such a park is only
	// logged.
	NotifyFunction string
	Notifier       FunctionInvoker
	// Secrets reads the routes' inbound verification secrets (required when
	// a route verifies; secret.Resolver).
	Secrets signature.Secrets
}

// Forwarder is the forward Lambda's handler.
type Forwarder struct {
	cfg         *config.Config
	arnPrefix   string
	queueURL    string
	starter     Starter
	queue       VisibilityChanger
	dlqURL      string
	deadLetters MessageSender
	log         *slog.Logger
	now         func() time.Time
	backoff     Backoff
	concurrency int
	metrics     metrics.Recorder
	secrets     signature.Secrets
	// worst is each route's worst-case execution time (config.ComputeBudget).
	worst map[string]time.Duration
	// limits are each route's size limits (asl.Limits), by route name.
	limits map[string]asl.RouteLimits
	// finality is the retry policy: the window and SQS's backstop.
	finality       config.Finality
	notifyFunction string
	notifier       FunctionInvoker
}

// New checks the configuration and builds a Forwarder.
func New(c *Config) (*Forwarder, error) {
	switch {
	case c == nil || c.Routes == nil:
		return nil, errors.New("forwarder: no routes configuration (Config.Routes)")
	case c.StateMachineARNPrefix == "":
		return nil, fmt.Errorf("forwarder: no state machine ARN prefix (%s)", webhook.EnvStateMachineARNPrefix)
	case c.Starter == nil || c.Queue == nil:
		return nil, errors.New("forwarder: a Starter and a Queue are required")
	case c.DLQURL != "" && c.DeadLetters == nil:
		return nil, errors.New("forwarder: a DLQ URL needs DeadLetters to send to it")
	case c.NotifyFunction != "" && c.Notifier == nil:
		return nil, errors.New("forwarder: a notify function needs a Notifier to invoke it")
	case c.Secrets == nil && slices.ContainsFunc(c.Routes.Routes, func(r config.Route) bool { return r.Verify != nil }):
		return nil, errors.New("forwarder: a route verifies inbound signatures, and no Secrets reads its secret")
	}
	f := &Forwarder{
		cfg:            c.Routes,
		arnPrefix:      c.StateMachineARNPrefix,
		queueURL:       c.QueueURL,
		starter:        c.Starter,
		queue:          c.Queue,
		dlqURL:         c.DLQURL,
		deadLetters:    c.DeadLetters,
		log:            c.Logger,
		now:            c.Now,
		backoff:        NewBackoff(c.Routes.Queue, c.Jitter),
		concurrency:    c.Concurrency,
		metrics:        c.Metrics,
		worst:          map[string]time.Duration{},
		finality:       config.ComputeFinality(c.Routes),
		notifyFunction: c.NotifyFunction,
		notifier:       c.Notifier,
		secrets:        c.Secrets,
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.metrics == nil {
		f.metrics = metrics.Discard
	}
	if f.concurrency <= 0 {
		f.concurrency = DefaultConcurrency
	}
	for _, rb := range config.ComputeBudget(c.Routes).Routes {
		f.worst[rb.Route] = rb.WorstExecution
	}
	limits, err := asl.AllLimits(c.Routes)
	if err != nil {
		return nil, fmt.Errorf("forwarder: %w", err)
	}
	f.limits = limits
	return f, nil
}

// outcome is how one record ended.
type outcome int

const (
	// pending is the zero value: a record whose outcome was never decided
	// (its group's goroutine panicked) counts as failed, never as delivered.
	pending outcome = iota
	succeeded
	// failed: the execution failed, timed out or could not be started; the
	// record comes back after the backoff delay.
	failed
	// permanent: the record can never succeed as it is; it comes back at once
	// and heads for the DLQ.
	permanent
	// notStarted: blocked behind an earlier failure of its group, or no time
	// left; it comes back at once, behind its group's head.
	notStarted
	// parked: failed for good and moved to the DLQ by the forwarder; to the
	// event source mapping it is done (deleted), and its group goes on.
	parked
)

// Handle forwards a batch and reports the failed records. It never returns an
// error: every problem is a record failure, so the rest of the batch is not
// redelivered with it. A record without a messageId is reported with an empty
// identifier, which makes Lambda fail the whole batch — nothing is dropped.
func (f *Forwarder) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	outcomes := make([]outcome, len(ev.Records))
	sem := make(chan struct{}, f.concurrency)
	var wg sync.WaitGroup
	for _, indexes := range groups(ev.Records) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			// A panic here would end the whole process (the runtime recovers
			// only the handler's own goroutine); the group's undecided
			// records stay pending and are reported as failures.
			defer func() {
				if r := recover(); r != nil {
					f.log.LogAttrs(ctx, slog.LevelError, "panic while forwarding a group; its remaining records are reported as failures",
						slog.String("group", ev.Records[indexes[0]].Attributes[attrMessageGroupID]),
						slog.String("panic", fmt.Sprint(r)),
						slog.String("stack", string(debug.Stack())))
				}
			}()
			f.forwardGroup(ctx, ev.Records, indexes, outcomes)
		}()
	}
	wg.Wait()

	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, o := range outcomes {
		if o != succeeded && o != parked {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// groups splits a batch into message groups: record indexes in batch order,
// groups in order of first appearance. Records without a group id share one
// (they fail as malformed anyway).
func groups(records []events.SQSMessage) [][]int {
	var order [][]int
	at := map[string]int{}
	for i, rec := range records {
		g := rec.Attributes[attrMessageGroupID]
		n, ok := at[g]
		if !ok {
			n = len(order)
			at[g] = n
			order = append(order, nil)
		}
		order[n] = append(order[n], i)
	}
	return order
}

// forwardGroup runs one group's records in order, writing outcomes[i] for each.
func (f *Forwarder) forwardGroup(ctx context.Context, records []events.SQSMessage, indexes []int, outcomes []outcome) {
	for k, i := range indexes {
		outcomes[i] = f.forward(ctx, records[i])
		if outcomes[i] == succeeded || outcomes[i] == parked {
			continue
		}
		for _, j := range indexes[k+1:] {
			outcomes[j] = notStarted
			f.logBlocked(ctx, records[j], records[i].MessageId)
			f.setVisibility(ctx, records[j], 0)
		}
		return
	}
}

// apiErrorCode is an AWS API error's code ("ThrottlingException"), or
// "StartSyncExecution" when the call failed without one (a network error).
func apiErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return "StartSyncExecution"
}

// timeLeft is the time until the invocation's deadline; ok is false when the
// context has none.
func (f *Forwarder) timeLeft(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return d.Sub(f.now()), true
}

// setVisibility makes a failed record visible again after delay. A failure
// here is only logged: the record then comes back after the queue's
// visibility timeout, later but still in order.
func (f *Forwarder) setVisibility(ctx context.Context, rec events.SQSMessage, delay time.Duration) {
	if rec.ReceiptHandle == "" {
		return
	}
	url := f.queueURL
	if url == "" {
		var err error
		if url, err = queueURL(rec.EventSourceARN); err != nil {
			f.log.LogAttrs(ctx, slog.LevelWarn, "cannot set visibility: no queue URL",
				recordAttrs(rec, slog.String("error", err.Error()))...)
			return
		}
	}
	seconds := visibilitySeconds(delay)
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sqsCallTimeout)
	defer cancel()
	_, err := f.queue.ChangeMessageVisibility(callCtx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(url),
		ReceiptHandle:     aws.String(rec.ReceiptHandle),
		VisibilityTimeout: seconds,
	})
	if err != nil {
		f.log.LogAttrs(ctx, slog.LevelWarn, "ChangeMessageVisibility failed; the message comes back after the queue's visibility timeout",
			recordAttrs(rec, slog.Int("visibility_seconds", int(seconds)), slog.String("error", err.Error()))...)
	}
}

// recordAttrs identifies a record in a log line from its raw fields (for
// records that were not, or could not be, parsed). The message attributes are
// as long as the sender made them, so they are bounded.
func recordAttrs(rec events.SQSMessage, extra ...slog.Attr) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("message_id", rec.MessageId),
		slog.String("group", rec.Attributes[attrMessageGroupID]),
	}
	if a, ok := rec.MessageAttributes[webhook.AttrWebhookID]; ok && a.StringValue != nil {
		attrs = append(attrs, slog.String("webhook_id", webhook.Bound(*a.StringValue, maxLoggedCause)))
	}
	if a, ok := rec.MessageAttributes[webhook.AttrRoute]; ok && a.StringValue != nil {
		attrs = append(attrs, slog.String("route", webhook.Bound(*a.StringValue, maxLoggedCause)))
	}
	return append(attrs, extra...)
}
