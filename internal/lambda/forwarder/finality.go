package forwarder

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

// uncatchableErrors are the execution errors a workflow cannot catch, so its
// Notify state never ran for them: States.ALL matches neither
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
// An execution that timed out as a whole (status TIMED_OUT) did not notify
// either.
var uncatchableErrors = []string{webhook.ErrDataLimitExceeded, "States.Runtime"}

// logBlocked logs a record held back behind its group's failed head. It is
// never final: it comes back behind the head, however often SQS counts it.
// Past SQS's receive limit its whole group goes to the DLQ by the redrive
// policy (the head could not be parked), which an operator must see.
func (f *Forwarder) logBlocked(ctx context.Context, rec events.SQSMessage, head string) {
	receiveCount, _ := strconv.Atoi(rec.Attributes[attrReceiveCount])
	attrs := recordAttrs(rec,
		slog.String("blocked_by", head),
		slog.Int("receive_count", receiveCount))
	if receiveCount >= f.finality.MaxReceiveCount {
		f.log.LogAttrs(ctx, slog.LevelError, "not started on the last receive SQS's redrive policy allows: an earlier message of its group was not forwarded or parked; SQS will move the group to the DLQ without a failure record",
			append(attrs, slog.Int("max_receive_count", f.finality.MaxReceiveCount))...)
		return
	}
	f.log.LogAttrs(ctx, slog.LevelWarn, "not started: an earlier message of its group was not forwarded; it comes back", attrs...)
}

// forward runs one record's execution. A record whose failure is final is
// parked in the DLQ (and announced when the workflow did not notify), else
// it is made visible again after its delay.
func (f *Forwarder) forward(ctx context.Context, rec events.SQSMessage) outcome {
	v := f.execute(ctx, rec)
	if v.outcome == succeeded {
		return succeeded
	}
	if v.final != nil && f.park(ctx, rec, *v.final) {
		f.recordParked(rec, v.final.Reason)
		if v.announce != nil {
			f.announce(ctx, rec, *v.announce)
		}
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
	// announce, when set with final, is the notification the forwarder sends
	// once the record is parked: the workflow did not notify for it.
	announce *webhook.NotifyRequest
}

// execute decides whether the record runs, runs it, and judges the result.
//
// The rules, in order: a record that can never run is final at once; a
// record runs only with time left for its route's worst case; its execution
// is final when it could end past its retry window, or on the last receive
// SQS's redrive policy allows; a record that did not run (no time left, or
// StartSyncExecution refused it) is never final, except on that last
// receive; a failed final execution, or a permanent failure, parks it.
func (f *Forwarder) execute(ctx context.Context, rec events.SQSMessage) verdict {
	p, err := parseRecord(f.cfg, rec)
	if err != nil {
		// The message may quote attribute values (an unknown route's name),
		// which are as long as the sender made them: bound it like a cause.
		f.log.LogAttrs(ctx, slog.LevelError, "record rejected: it can never run",
			recordAttrs(rec, slog.String("error", webhook.Bound(err.Error(), maxLoggedCause)))...)
		failure := webhook.Failure{Reason: webhook.ReasonMalformed, Error: webhook.ErrPermanent, Cause: webhook.Bound(err.Error(), maxFailureCause)}
		return verdict{outcome: permanent, final: &failure, announce: f.notice(p, rec, failure, "")}
	}
	env := &p.envelope
	worst := f.worst[p.route.Name]
	now := f.now()
	windowFinal := f.finality.Final(p.sent, now, worst)
	lastReceive := env.ReceiveCount >= f.finality.MaxReceiveCount
	env.FinalAttempt = windowFinal || lastReceive
	attrs := []slog.Attr{
		slog.String("webhook_id", env.WebhookID),
		slog.String("route", env.Route),
		slog.String("group", env.Group),
		slog.String("message_id", env.MessageID),
		slog.Int("receive_count", env.ReceiveCount),
		slog.String("retry_until", env.RetryUntil),
		slog.Bool("final_attempt", env.FinalAttempt),
	}
	if p.webhookIDFallback {
		f.log.LogAttrs(ctx, slog.LevelWarn, "no webhook id attribute; the message id stands in", attrs...)
	}
	if len(p.uncarried) > 0 {
		f.log.LogAttrs(ctx, slog.LevelWarn, "header attributes of headers the route does not carry were left out (ingress never writes them: a crafted header value may have added them)",
			append(attrs, slog.String("attributes", webhook.Bound(strings.Join(p.uncarried, ","), maxLoggedCause)))...)
	}
	// notRun is the verdict on a record that did not run: it comes back
	// after delay, unless this is the last receive SQS allows, when the
	// forwarder parks and announces it rather than let SQS move it silently.
	notRun := func(o outcome, delay time.Duration, errName, cause string) verdict {
		if !lastReceive {
			return verdict{outcome: o, delay: delay}
		}
		failure := webhook.Failure{Reason: webhook.ReasonReceiveLimit, Error: errName, Cause: webhook.Bound(cause, maxFailureCause)}
		return verdict{outcome: o, delay: delay, final: &failure, announce: f.notice(p, rec, failure, "")}
	}

	refused, err := f.verify(ctx, p, attrs)
	if refused != nil {
		return *refused
	}
	if err != nil {
		return notRun(failed, f.backoff.Delay(env.ReceiveCount), errSecretUnavailable, err.Error())
	}

	input, err := webhook.EncodeInput(*env)
	if err != nil {
		f.log.LogAttrs(ctx, slog.LevelError, "cannot encode execution input", append(attrs, slog.String("error", err.Error()))...)
		failure := webhook.Failure{Reason: webhook.ReasonMalformed, Error: webhook.ErrPermanent, Cause: "execution input: " + err.Error()}
		return verdict{outcome: permanent, final: &failure, announce: f.notice(p, rec, failure, "")}
	}
	// Larger data would fail the execution with States.DataLimitExceeded,
	// which its Catch cannot catch, so without a notification: it never runs.
	limits := f.limits[p.route.Name]
	if err := limits.TooLarge(p.bodyBytes, len(input)); err != nil {
		f.log.LogAttrs(ctx, slog.LevelError, "too large for the workflow: it can never run",
			append(attrs, slog.Int("body_bytes", p.bodyBytes), slog.Int("max_body_bytes", limits.MaxBody),
				slog.Int("input_bytes", len(input)), slog.Int("max_input_bytes", limits.MaxInput))...)
		failure := webhook.Failure{Reason: webhook.ReasonTooLarge, Error: webhook.ErrPermanent, Cause: err.Error()}
		return verdict{outcome: permanent, final: &failure, announce: f.notice(p, rec, failure, "")}
	}
	if left, ok := f.timeLeft(ctx); ok && left < worst {
		attrs = append(attrs, slog.Duration("time_left", left), slog.Duration("worst_execution", worst))
		f.log.LogAttrs(ctx, slog.LevelWarn, "not started: less time left than the route's worst-case execution; it comes back", attrs...)
		return notRun(notStarted, 0, "OutOfTime", fmt.Sprintf("not started on the last receive SQS allows (%d): the forward invocation had %s left, less than the route's worst-case execution of %s", env.ReceiveCount, left.Round(time.Second), worst))
	}

	arn := f.arnPrefix + p.route.Name
	startTime := now.UTC().Format(time.RFC3339Nano)
	out, err := f.starter.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{
		StateMachineArn: aws.String(arn),
		Name:            aws.String(ExecutionName(env.MessageID, env.ReceiveCount)),
		Input:           aws.String(string(input)),
	})
	delay := f.backoff.Delay(env.ReceiveCount)
	if err != nil {
		// An API error means the execution did not run (the API reserves
		// error codes for what prevents an execution from running,
		// https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartSyncExecution.html),
		// so it comes back, however late in its window. A broken connection
		// is ambiguous; it is treated the same (docs/testing.md).
		f.log.LogAttrs(ctx, slog.LevelError, "StartSyncExecution failed; the message did not run and comes back",
			append(attrs, slog.String("state_machine_arn", arn), slog.String("error", err.Error()), slog.Duration("redelivery_delay", delay))...)
		return notRun(failed, delay, apiErrorCode(err), err.Error())
	}
	attrs = append(attrs,
		slog.String("execution_arn", aws.ToString(out.ExecutionArn)),
		slog.String("status", string(out.Status)))
	if out.Status == sfntypes.SyncExecutionStatusSucceeded {
		f.log.LogAttrs(ctx, slog.LevelInfo, "delivered", attrs...)
		f.recordDelivered(*env, aws.ToString(out.Output))
		return verdict{outcome: succeeded}
	}
	return f.judgeFailure(ctx, p, rec, out, judged{windowFinal: windowFinal, lastReceive: lastReceive, delay: delay, startTime: startTime, attrs: attrs})
}

// judged carries what execute knew when it started the execution.
type judged struct {
	windowFinal, lastReceive bool
	delay                    time.Duration
	startTime                string
	attrs                    []slog.Attr
}

// judgeFailure decides what happens to a record whose execution ran and
// failed: a permanent failure (Webhook.Permanent, or a data limit the same
// input will hit again) and a failed final execution park it; any other
// failure brings it back after its redelivery delay. The forwarder
// announces the park when the workflow could not notify: the failure was
// one it cannot catch, or the execution timed out as a whole.
func (f *Forwarder) judgeFailure(ctx context.Context, p parsed, rec events.SQSMessage, out *sfn.StartSyncExecutionOutput, j judged) verdict {
	execErr := aws.ToString(out.Error)
	if execErr == "" {
		execErr = "States." + string(out.Status)
	}
	attrs := append(j.attrs, slog.String("error", execErr), slog.String("cause", webhook.Bound(aws.ToString(out.Cause), maxLoggedCause)))
	notified := out.Status == sfntypes.SyncExecutionStatusFailed && !slices.Contains(uncatchableErrors, execErr)
	failure := webhook.Failure{Error: execErr, Cause: webhook.Bound(aws.ToString(out.Cause), maxFailureCause), ExecutionARN: aws.ToString(out.ExecutionArn)}
	switch {
	case execErr == webhook.ErrPermanent:
		failure.Reason = webhook.ReasonPermanent
	case execErr == webhook.ErrDataLimitExceeded:
		failure.Reason = webhook.ReasonTooLarge
	case j.windowFinal:
		failure.Reason = webhook.ReasonExhausted
	case j.lastReceive:
		failure.Reason = webhook.ReasonReceiveLimit
	default:
		f.log.LogAttrs(ctx, slog.LevelError, "execution failed; it comes back", append(attrs, slog.Duration("redelivery_delay", j.delay))...)
		return verdict{outcome: failed, delay: j.delay}
	}
	f.log.LogAttrs(ctx, slog.LevelError, "execution failed for good", append(attrs, slog.String("reason", string(failure.Reason)))...)
	v := verdict{outcome: failed, delay: j.delay, final: &failure}
	if failure.Reason == webhook.ReasonPermanent || failure.Reason == webhook.ReasonTooLarge {
		// Should parking fail, it would fail the same way on every receive:
		// it comes back at once rather than hold its group through backoff.
		v.outcome, v.delay = permanent, 0
	}
	if !notified {
		v.announce = f.notice(p, rec, failure, j.startTime)
	}
	return v
}

// notice is the notification the forwarder sends for a parked record the
// workflow did not notify for: the NotifyRequest the workflow's Notify
// state builds, without the body (the notifier does not read it, and a body
// near the size limit would not fit an asynchronous invocation). It is nil
// when the record's route (the top level's policy for a record without a
// known route) never notifies.
func (f *Forwarder) notice(p parsed, rec events.SQSMessage, failure webhook.Failure, startTime string) *webhook.NotifyRequest {
	when, stateMachine := f.cfg.Notify.When, ""
	if p.route.Name != "" {
		when, stateMachine = p.route.Notify.When, f.cfg.StateMachineName(p.route)
	}
	if when == config.NotifyNever {
		return nil
	}
	env := p.envelope
	if env.MessageID == "" {
		env = rawEnvelope(rec)
	}
	env.Body, env.BodyEncoding = "", ""
	env.FinalAttempt = true
	return &webhook.NotifyRequest{
		Webhook:      env,
		Error:        webhook.CaughtError{Error: failure.Error, Cause: failure.Cause},
		ExecutionID:  failure.ExecutionARN,
		StateMachine: stateMachine,
		StartTime:    startTime,
	}
}
