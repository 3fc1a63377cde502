package forwarder

import (
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// Backoff is the outer retry schedule: how long a failed message stays
// invisible before SQS hands it back, by how often it has been received
// (config.Queue.RedeliveryWait: the first failure waits Base, each further
// one twice as long, up to Max and SQS's 12-hour visibility limit).
//
// The schedule is pure: randomness comes in through Jitter, so tests pin it.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
	// Jitter returns a number in [0, 1); nil means no jitter. Each delay is
	// shortened by up to config.RedeliveryJitter of itself, so a burst of
	// failures spreads out without any delay exceeding the configured cap;
	// the SQS backstop (config.ComputeFinality) counts on that bound.
	Jitter func() float64
}

// NewBackoff is the schedule configured in routes.yaml (queue.redelivery_delay
// and queue.max_redelivery_delay).
func NewBackoff(q config.Queue, jitter func() float64) Backoff {
	return Backoff{Base: q.RedeliveryDelay, Max: q.MaxRedeliveryDelay, Jitter: jitter}
}

// Delay is the wait after the receiveCount-th receive (1-based) failed.
func (b Backoff) Delay(receiveCount int) time.Duration {
	d := config.Queue{RedeliveryDelay: b.Base, MaxRedeliveryDelay: b.Max}.RedeliveryWait(receiveCount)
	if b.Jitter != nil {
		d -= time.Duration(b.Jitter() * config.RedeliveryJitter * float64(d))
	}
	return d
}

// visibilitySeconds is a delay as ChangeMessageVisibility takes it: whole
// seconds, rounded up so a delay never comes out shorter than scheduled.
func visibilitySeconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	return int32((d + time.Second - 1) / time.Second)
}
