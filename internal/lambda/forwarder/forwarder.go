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
// Parking. With a DLQ configured (Config.DLQURL) the forwarder moves a
// message there itself when its failure is final — a failed execution on the
// final receive, or a Webhook.Permanent one on any receive (the workflow has
// notified in both cases), or a record that can never run (malformed, unknown
// route, oversize) at once — with webhook.AttrFailure
// saying why, and reports it as done: the event source mapping deletes it and
// its group goes on in the same batch. Otherwise, or when that send fails,
// SQS's redrive policy moves it after max_receive_count receives.
package forwarder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
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
	// worst is each route's worst-case execution time (config.ComputeBudget).
	worst map[string]time.Duration
	// limits are each route's size limits (asl.Limits), by route name.
	limits map[string]asl.RouteLimits
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
	}
	f := &Forwarder{
		cfg:         c.Routes,
		arnPrefix:   c.StateMachineARNPrefix,
		queueURL:    c.QueueURL,
		starter:     c.Starter,
		queue:       c.Queue,
		dlqURL:      c.DLQURL,
		deadLetters: c.DeadLetters,
		log:         c.Logger,
		now:         c.Now,
		backoff:     NewBackoff(c.Routes.Queue, c.Jitter),
		concurrency: c.Concurrency,
		metrics:     c.Metrics,
		worst:       map[string]time.Duration{},
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

// logBlocked logs a record held back behind its group's failed head. SQS
// counts a receive for it all the same: on its final receive it goes to the
// DLQ with the head without ever having been tried (and the workflow, which
// notifies, never ran for it), so that case is an error an operator must see.
func (f *Forwarder) logBlocked(ctx context.Context, rec events.SQSMessage, head string) {
	receiveCount, _ := strconv.Atoi(rec.Attributes[attrReceiveCount])
	final := receiveCount >= f.cfg.Queue.MaxReceiveCount
	attrs := recordAttrs(rec,
		slog.String("blocked_by", head),
		slog.Int("receive_count", receiveCount),
		slog.Bool("final_attempt", final))
	if final {
		f.log.LogAttrs(ctx, slog.LevelError, "not started on its final receive: an earlier message of its group was not forwarded; it will go to the DLQ untried", attrs...)
		return
	}
	f.log.LogAttrs(ctx, slog.LevelWarn, "not started: an earlier message of its group was not forwarded", attrs...)
}

// forward runs one record's execution. A failed record is parked in the DLQ
// when its failure is final and a DLQ is configured, else made visible again
// after its delay.
func (f *Forwarder) forward(ctx context.Context, rec events.SQSMessage) outcome {
	v := f.execute(ctx, rec)
	if v.outcome == succeeded {
		return succeeded
	}
	if v.final != nil && f.park(ctx, rec, *v.final) {
		f.recordParked(rec, v.final.Reason)
		return parked
	}
	f.setVisibility(ctx, rec, v.delay)
	return v.outcome
}

// verdict is how one attempt at a record ended and what should happen to it.
type verdict struct {
	outcome outcome
	// delay is how long a failed record stays invisible.
	delay time.Duration
	// final, when set, is a failure the record will not get past: with a DLQ
	// configured the record is parked there with it instead of coming back.
	final *webhook.Failure
}

// execute starts the record's execution and judges the result.
func (f *Forwarder) execute(ctx context.Context, rec events.SQSMessage) verdict {
	p, err := parseRecord(f.cfg, rec)
	if err != nil {
		// The message may quote attribute values (an unknown route's name),
		// which are as long as the sender made them: bound it like a cause.
		f.log.LogAttrs(ctx, slog.LevelError, "record rejected; it will go to the DLQ",
			recordAttrs(rec, slog.String("error", webhook.Bound(err.Error(), maxLoggedCause)))...)
		return verdict{outcome: permanent, final: &webhook.Failure{Reason: webhook.ReasonMalformed, Error: webhook.ErrPermanent, Cause: webhook.Bound(err.Error(), maxFailureCause)}}
	}
	env := p.envelope
	attrs := []slog.Attr{
		slog.String("webhook_id", env.WebhookID),
		slog.String("route", env.Route),
		slog.String("group", env.Group),
		slog.String("message_id", env.MessageID),
		slog.Int("receive_count", env.ReceiveCount),
		slog.Bool("final_attempt", env.FinalAttempt),
	}
	if p.webhookIDFallback {
		f.log.LogAttrs(ctx, slog.LevelWarn, "no webhook id attribute; the message id stands in", attrs...)
	}

	input, err := webhook.EncodeInput(env)
	if err != nil {
		f.log.LogAttrs(ctx, slog.LevelError, "cannot encode execution input", append(attrs, slog.String("error", err.Error()))...)
		return verdict{outcome: permanent, final: &webhook.Failure{Reason: webhook.ReasonMalformed, Error: webhook.ErrPermanent, Cause: "execution input: " + err.Error()}}
	}
	// Larger data would fail the execution with States.DataLimitExceeded,
	// which its Catch cannot catch, so without a notification: it never runs.
	limits := f.limits[p.route.Name]
	if err := limits.TooLarge(p.bodyBytes, len(input)); err != nil {
		f.log.LogAttrs(ctx, slog.LevelError, "too large for the workflow; the message will go to the DLQ",
			append(attrs, slog.Int("body_bytes", p.bodyBytes), slog.Int("max_body_bytes", limits.MaxBody),
				slog.Int("input_bytes", len(input)), slog.Int("max_input_bytes", limits.MaxInput))...)
		return verdict{outcome: permanent, final: &webhook.Failure{Reason: webhook.ReasonTooLarge, Error: webhook.ErrPermanent, Cause: err.Error()}}
	}
	if left, ok := f.timeLeft(ctx); ok && left < f.worst[p.route.Name] {
		attrs = append(attrs, slog.Duration("time_left", left), slog.Duration("worst_execution", f.worst[p.route.Name]))
		if env.FinalAttempt {
			f.log.LogAttrs(ctx, slog.LevelError, "not started on its final receive: less time left than the route's worst-case execution; it will go to the DLQ untried", attrs...)
		} else {
			f.log.LogAttrs(ctx, slog.LevelWarn, "not started: less time left than the route's worst-case execution", attrs...)
		}
		return verdict{outcome: notStarted}
	}

	arn := f.arnPrefix + p.route.Name
	out, err := f.starter.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{
		StateMachineArn: aws.String(arn),
		Name:            aws.String(ExecutionName(env.MessageID, env.ReceiveCount)),
		Input:           aws.String(string(input)),
	})
	delay := f.backoff.Delay(env.ReceiveCount)
	if err != nil {
		f.log.LogAttrs(ctx, slog.LevelError, "StartSyncExecution failed",
			append(attrs, slog.String("state_machine_arn", arn), slog.String("error", err.Error()), slog.Duration("redelivery_delay", delay))...)
		v := verdict{outcome: failed, delay: delay}
		if env.FinalAttempt {
			v.final = &webhook.Failure{Reason: webhook.ReasonExhausted, Error: apiErrorCode(err), Cause: webhook.Bound(err.Error(), maxFailureCause)}
		}
		return v
	}
	attrs = append(attrs,
		slog.String("execution_arn", aws.ToString(out.ExecutionArn)),
		slog.String("status", string(out.Status)))
	if out.Status == sfntypes.SyncExecutionStatusSucceeded {
		f.log.LogAttrs(ctx, slog.LevelInfo, "delivered", attrs...)
		f.recordDelivered(env, aws.ToString(out.Output))
		return verdict{outcome: succeeded}
	}
	execErr := aws.ToString(out.Error)
	attrs = append(attrs, slog.String("error", execErr), slog.String("cause", webhook.Bound(aws.ToString(out.Cause), maxLoggedCause)))
	v := verdict{outcome: failed, delay: delay}
	// The data limit fails the same way on every receive, and uncaught: the
	// workflow has not notified (the limits derived from it should keep any
	// execution from reaching it).
	dataLimit := execErr == webhook.ErrDataLimitExceeded
	if execErr == webhook.ErrPermanent || dataLimit {
		f.log.LogAttrs(ctx, slog.LevelError, "execution failed permanently", attrs...)
		v = verdict{outcome: permanent}
	} else {
		f.log.LogAttrs(ctx, slog.LevelError, "execution failed", append(attrs, slog.Duration("redelivery_delay", delay))...)
	}
	// A permanent error would fail the same way on every receive: the
	// workflow has notified already, so park it now rather than hold its
	// group through max_receive_count pointless receives.
	if env.FinalAttempt || v.outcome == permanent {
		if execErr == "" {
			execErr = "States." + string(out.Status)
		}
		reason := webhook.ReasonExhausted
		switch {
		case execErr == webhook.ErrPermanent:
			reason = webhook.ReasonPermanent
		case dataLimit:
			reason = webhook.ReasonTooLarge
		}
		v.final = &webhook.Failure{Reason: reason, Error: execErr, Cause: webhook.Bound(aws.ToString(out.Cause), maxFailureCause), ExecutionARN: aws.ToString(out.ExecutionArn)}
	}
	return v
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
