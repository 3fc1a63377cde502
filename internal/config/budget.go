package config

import (
	"math"
	"time"
)

// AWS limits the derived budgets are checked against.
const (
	ExpressMaxDuration    = 300 * time.Second // Express workflow maximum duration
	LambdaMaxTimeout      = 900 * time.Second
	SQSMaxVisibility      = 12 * time.Hour
	NotifyTimeout         = 30 * time.Second // notify Lambda timeout
	deliverOverhead       = 5 * time.Second  // deliver Lambda beyond the HTTP attempt (cold start, secrets)
	taskOverhead          = 2 * time.Second  // Task TimeoutSeconds beyond the deliver Lambda
	forwardMargin         = 30 * time.Second // forward Lambda beyond its executions
	visibilityPerLambda   = 6                // AWS: visibility timeout ≥ 6 × function timeout
	sdkTimeoutBeyondWorst = 10 * time.Second
)

// Budget is the derived time budget of a configuration: every timeout that
// generate writes comes from here, so the ASL, Terraform, the forwarder and the
// local twin agree.
type Budget struct {
	// Routes holds each route's budget, in config order.
	Routes []RouteBudget
	// WorstExecution is the longest any route's execution can take.
	WorstExecution time.Duration
	// ForwardTimeout is the forward Lambda's timeout: room for a batch's
	// executions of one message group run back to back, capped at Lambda's 900 s.
	ForwardTimeout time.Duration
	// SDKTimeout is the forward Lambda's HTTP client timeout for StartSyncExecution.
	SDKTimeout time.Duration
	// VisibilityTimeout is the queue's visibility timeout.
	VisibilityTimeout time.Duration
}

// RouteBudget is one route's execution budget.
type RouteBudget struct {
	Route string
	// DeliverTimeout is the deliver Lambda's timeout: one HTTP attempt plus overhead.
	DeliverTimeout time.Duration
	// TaskTimeout is the Deliver state's TimeoutSeconds.
	TaskTimeout time.Duration
	// Backoff is the sum of the capped waits between attempts (full jitter
	// only shortens them).
	Backoff time.Duration
	// LambdaRetries is the longest the Deliver task spends retrying Lambda's
	// own errors (LambdaRetries): the retried invocations and their waits.
	LambdaRetries time.Duration
	// WorstExecution is attempts × TaskTimeout + Backoff + LambdaRetries +
	// notify (with its own Lambda retries).
	WorstExecution time.Duration
}

// DeliverTimeout is the deliver Lambda's timeout for an attempt timeout.
func DeliverTimeout(attempt time.Duration) time.Duration {
	return ceilSecond(attempt) + deliverOverhead
}

// TaskTimeout is the Deliver state's TimeoutSeconds for an attempt timeout.
func TaskTimeout(attempt time.Duration) time.Duration {
	return DeliverTimeout(attempt) + taskOverhead
}

// NotifyTaskTimeout is the Notify state's TimeoutSeconds.
func NotifyTaskTimeout() time.Duration { return NotifyTimeout + taskOverhead }

// RetryWait is the longest wait before retry number n (1-based: the wait
// between attempt n and attempt n+1), as Step Functions computes it:
// Interval × BackoffRate^(n-1), capped at MaxDelay. A wait too long for a
// Duration saturates at the largest one instead of wrapping around.
func (r Retry) RetryWait(n int) time.Duration {
	w := float64(r.Interval) * math.Pow(r.BackoffRate, float64(n-1))
	if r.MaxDelay > 0 && w > float64(r.MaxDelay) {
		return r.MaxDelay
	}
	if w >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(w)
}

// Backoff is the sum of the longest waits between MaxAttempts attempts.
// Waits never shrink, so once one wait equals the next (the cap is reached, or
// BackoffRate is 1) the rest are summed in one step: huge MaxAttempts cost
// nothing, and the sum saturates rather than overflows.
func (r Retry) Backoff() time.Duration {
	var total time.Duration
	for n := 1; n < r.MaxAttempts; n++ {
		w := r.RetryWait(n)
		if w == r.RetryWait(n+1) {
			return addSat(total, mulSat(w, r.MaxAttempts-n))
		}
		total = addSat(total, w)
	}
	return total
}

// ComputeBudget derives the budget of a configuration.
func ComputeBudget(c *Config) Budget {
	var b Budget
	for _, r := range c.Routes {
		rb := ComputeRouteBudget(r)
		b.WorstExecution = max(b.WorstExecution, rb.WorstExecution)
		b.Routes = append(b.Routes, rb)
	}
	b.ForwardTimeout = min(LambdaMaxTimeout, ceilSecond(addSat(mulSat(b.WorstExecution, max(c.Queue.BatchSize, 1)), forwardMargin)))
	b.SDKTimeout = addSat(b.WorstExecution, sdkTimeoutBeyondWorst)
	b.VisibilityTimeout = visibilityPerLambda * b.ForwardTimeout
	return b
}

// ComputeRouteBudget derives one route's execution budget.
func ComputeRouteBudget(r Route) RouteBudget {
	rb := RouteBudget{
		Route:          r.Name,
		DeliverTimeout: DeliverTimeout(r.Timeout),
		TaskTimeout:    TaskTimeout(r.Timeout),
	}
	rb.Backoff = r.Retry.Backoff()
	// Lambda's own errors have retriers of their own, counted apart from the
	// configured one.
	rb.LambdaRetries = lambdaRetriesWorst(rb.TaskTimeout)
	rb.WorstExecution = addSat(mulSat(rb.TaskTimeout, r.Retry.MaxAttempts), addSat(rb.Backoff, rb.LambdaRetries))
	rb.WorstExecution = addSat(rb.WorstExecution, notifyWorst(r))
	return rb
}

// notifyWorst is the longest the Notify state can take: an invocation to its
// task timeout and its retries of Lambda's own errors; 0 when the route never
// notifies.
func notifyWorst(r Route) time.Duration {
	if r.Notify.When == NotifyNever {
		return 0
	}
	return addSat(NotifyTaskTimeout(), lambdaRetriesWorst(NotifyTaskTimeout()))
}

// WholeSeconds is d in whole seconds, rounded up: AWS takes integer seconds
// (ASL intervals and timeouts, SQS and Lambda settings), and a wait or timeout
// must never come out shorter than configured.
func WholeSeconds(d time.Duration) int { return int(ceilSecond(d) / time.Second) }

func ceilSecond(d time.Duration) time.Duration {
	if d > math.MaxInt64-time.Second {
		return d
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// addSat and mulSat saturate at the largest Duration: budgets of absurd
// configs must compare as too long, not wrap around to negative.
func addSat(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulSat(d time.Duration, n int) time.Duration {
	if n <= 0 || d <= 0 {
		return 0
	}
	if d > math.MaxInt64/time.Duration(n) {
		return math.MaxInt64
	}
	return d * time.Duration(n)
}
