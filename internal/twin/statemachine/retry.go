package statemachine

import (
	"math"
	"time"

	"github.com/webhookq/webhookq/internal/generate/asl"
)

// RetryDelay is the wait before retry number n (1-based) of a retrier, as
// Step Functions computes it: IntervalSeconds × BackoffRate^(n-1), capped at
// MaxDelaySeconds when set; with JitterStrategy FULL the wait is that times
// u, u uniform in [0, 1) (full jitter: uniform in [0, cap)). A pure function
// of its arguments, so the schedule is testable without a clock.
func RetryDelay(r asl.Retrier, n int, u float64) time.Duration {
	seconds := float64(r.EffectiveIntervalSeconds()) * math.Pow(r.EffectiveBackoffRate(), float64(n-1))
	if r.MaxDelaySeconds > 0 {
		seconds = math.Min(seconds, float64(r.MaxDelaySeconds))
	}
	if r.JitterStrategy == asl.JitterFull {
		seconds *= u
	}
	// Guard the conversion: an uncapped backoff can exceed time.Duration.
	if seconds*float64(time.Second) >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(seconds * float64(time.Second))
}
