package statemachine

import (
	"context"
	"math/rand/v2"
	"time"
)

// Clock is the runner's time: Wait states and retry backoff sleep on it, task
// and execution timeouts are measured on it. Tests inject a virtual clock so
// a five-minute retry schedule runs in microseconds.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first.
	Sleep(ctx context.Context, d time.Duration) error
	// After delivers once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }

func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Rand is the randomness of full jitter: uniform in [0, 1).
// *math/rand/v2.Rand satisfies it.
type Rand interface {
	Float64() float64
}

// globalRand is math/rand/v2's top-level source, safe for concurrent use.
type globalRand struct{}

func (globalRand) Float64() float64 { return rand.Float64() }
