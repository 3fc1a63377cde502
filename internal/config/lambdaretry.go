package config

import (
	"time"

	"github.com/webhookq/webhookq/internal/webhook"
)

// LambdaRetry is a fixed retry of errors Lambda itself raises when a
// workflow task invokes a function, beside the configured retry of delivery
// outcomes; Step Functions counts each retrier apart.
type LambdaRetry struct {
	// Name says what the errors are, for the docs and messages.
	Name string
	// Errors are the error names the retrier matches.
	Errors []string
	// Retry is the policy; MaxAttempts counts the first invocation.
	Retry Retry
	// Invocation is how long a failed invocation of this kind can take: 0
	// means up to the task's TimeoutSeconds.
	Invocation time.Duration
}

// throttledInvocation is kept for an invocation Lambda refuses for want of
// concurrency: it answers TooManyRequestsException before the function runs
// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html), so
// the call costs a round trip, not the task's timeout. An allowance, not a
// documented figure.
const throttledInvocation = time.Second

// LambdaRetries are the Deliver and Notify tasks' retries of Lambda's own
// errors, the one table the workflow builder, the budget and the docs read.
//
// Throttling is retried with backoff for up to 23 s (1+2+4+8+8, full
// jitter): a new account's reduced concurrency, or every forward invocation
// running its groups at once, makes invocations wait for one another, and a
// refused invocation costs nothing but the wait. A service fault is retried
// once, after a jittered second: it may have run to the task's timeout, so
// each retry costs a whole attempt of the budget; SQS redelivery is the
// retry beyond it.
var LambdaRetries = []LambdaRetry{
	{
		Name:       "throttling",
		Errors:     webhook.LambdaThrottleErrors,
		Retry:      Retry{MaxAttempts: 6, Interval: time.Second, BackoffRate: 2, MaxDelay: 8 * time.Second, Jitter: JitterFull},
		Invocation: throttledInvocation,
	},
	{
		Name:   "service faults",
		Errors: webhook.LambdaServiceErrors,
		Retry:  Retry{MaxAttempts: 2, Interval: time.Second, BackoffRate: 2, Jitter: JitterFull},
	},
}

// lambdaRetriesWorst is the longest a task with the given timeout spends on
// the retries of LambdaRetries: each retried invocation and each wait.
func lambdaRetriesWorst(taskTimeout time.Duration) time.Duration {
	var total time.Duration
	for _, lr := range LambdaRetries {
		invocation := lr.Invocation
		if invocation == 0 {
			invocation = taskTimeout
		}
		total = addSat(total, addSat(mulSat(invocation, lr.Retry.MaxAttempts-1), lr.Retry.Backoff()))
	}
	return total
}

// ParallelInvocations is the most deliver (and notify) invocations the
// pipeline runs at once: the event source mapping runs up to
// queue.max_concurrency forward invocations, each forwards the message groups
// of its batch (at most batch_size) at once, and each group's execution
// invokes one function at a time. Deliver's reserved concurrency should be at
// least this, or invocations are throttled (docs/operations.md).
func (c *Config) ParallelInvocations() int { return c.Queue.MaxConcurrency * c.Queue.BatchSize }
