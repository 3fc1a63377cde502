// Package asl is the typed model of the Amazon States Language (JSONPath query
// language) that webhookq's Express workflows are written in: the model and its
// deterministic encoding (model.go), a validator (validate.go), and the
// workflow built for each route (build.go), written by cmd/generate to
// workflows/<route>.asl.json and read back by the local twin with Unmarshal.
//
// # The workflow
//
// Deliver invokes the deliver function once per attempt. Its first retrier
// retries Webhook.Retryable (and States.Timeout when the route retries
// timeouts) with the route's interval, attempts, backoff, maximum delay and
// jitter; it is left out when max_attempts is 1. Its other retriers retry
// Lambda's own errors, one per kind of config.LambdaRetries (throttling with
// backoff, service faults once); Step Functions counts each retrier apart, so
// config.ComputeRouteBudget adds those invocations to the worst case.
// Webhook.Permanent matches no retrier: a permanent error goes straight to
// the Catch. So does an error of the deliver function itself (a crash or its
// own timeout, Lambda.Unknown / Sandbox.Timedout): SQS redelivery is the retry
// for those.
//
// The Catch keeps the execution input and adds the caught error at $.error.
// What happens next follows notify.when:
//
//   - final: ShouldNotify sends the execution to Notify when the message is
//     headed for the dead-letter queue: the input's finalAttempt is true (the
//     forwarder judged this execution the message's last: it could end past
//     the message's retry window, config.RetryPolicy), or the caught error is
//     Webhook.Permanent, which would fail the same way on every receive — the
//     forwarder parks such a message at once instead of retrying it for its
//     whole window while its group waits. Either way the message is reported
//     once, with the error that parked it — invariant 6, "notify once per
//     message". What the workflow cannot report (a message that never ran, an
//     error Catch cannot catch), the forwarder reports itself. (A redriven
//     message that fails again is reported again: that is a new failure.)
//   - every_failure: the Catch leads straight to Notify (a Choice whose every
//     branch notifies would be a state without a decision).
//   - never: the Catch leads straight to Rethrow and there is no Notify state.
//
// Notify retries Lambda's own errors like Deliver; any other failure is
// caught into $.notifyError and the execution still ends in Rethrow, so a
// broken notifier never hides the delivery error. Rethrow is a Fail state with
// ErrorPath $.error.Error and CausePath $.error.Cause: the execution fails with
// the caught error's own name and cause, the forwarder reports the record as
// a batch item failure, and SQS redelivers it. Step Functions documents
// ErrorPath and CausePath for JSONPath Fail states (they must select strings;
// a caught error always has both, States.Timeout with an empty Cause);
// asl-validator 4 accepts them and aws-local-stepfunctions 3 executes them,
// which this package's tests check.
//
// The two function ARNs are Terraform templatefile placeholders
// (Placeholder(DeliverFunctionARNVar), Placeholder(NotifyFunctionARNVar)); no
// other "${" or "%{" appears in a workflow, so templatefile renders exactly
// the built definition.
package asl
