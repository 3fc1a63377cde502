package forwarder_test

import (
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
)

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	fixed := func(v float64) func() float64 { return func() float64 { return v } }
	std := forwarder.Backoff{Base: 30 * time.Second, Max: 15 * time.Minute}
	tests := []struct {
		name    string
		backoff forwarder.Backoff
		receive int
		want    time.Duration
	}{
		{"first receive waits the base", std, 1, 30 * time.Second},
		{"receive count 0 is treated as the first", std, 0, 30 * time.Second},
		{"doubles per receive", std, 2, time.Minute},
		{"third", std, 3, 2 * time.Minute},
		{"fifth", std, 5, 8 * time.Minute},
		{"capped at max", std, 6, 15 * time.Minute},
		{"huge receive counts do not overflow", std, 1 << 20, 15 * time.Minute},
		{"no max: capped at SQS's 12 h", forwarder.Backoff{Base: time.Hour}, 10, config.SQSMaxVisibility},
		{"max beyond SQS's limit: 12 h", forwarder.Backoff{Base: time.Hour, Max: 48 * time.Hour}, 10, config.SQSMaxVisibility},
		{"no base: no delay", forwarder.Backoff{Max: time.Hour}, 3, 0},
		{"jitter 0 keeps the delay", forwarder.Backoff{Base: 30 * time.Second, Max: 15 * time.Minute, Jitter: fixed(0)}, 2, time.Minute},
		{"jitter 0.5 takes a tenth off", forwarder.Backoff{Base: 30 * time.Second, Max: 15 * time.Minute, Jitter: fixed(0.5)}, 2, 54 * time.Second},
		{"jitter just below 1 takes almost a fifth off", forwarder.Backoff{Base: 100 * time.Second, Jitter: fixed(0.999)}, 1, 80*time.Second + 20*time.Millisecond},
		{"jitter applies at the cap too", forwarder.Backoff{Base: 30 * time.Second, Max: 15 * time.Minute, Jitter: fixed(0.5)}, 9, 810 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.backoff.Delay(tc.receive); got != tc.want {
				t.Errorf("Delay(%d) = %s, want %s", tc.receive, got, tc.want)
			}
		})
	}
}

func TestNewBackoffFromConfig(t *testing.T) {
	t.Parallel()
	b := forwarder.NewBackoff(config.Queue{RedeliveryDelay: 10 * time.Second, MaxRedeliveryDelay: 25 * time.Second}, nil)
	got := []time.Duration{b.Delay(1), b.Delay(2), b.Delay(3)}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 25 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Delay(%d) = %s, want %s", i+1, got[i], want[i])
		}
	}
}

// TestBackoffJitterRange: over the whole range of the random source the delay
// stays within [80 %, 100 %] of the schedule.
func TestBackoffJitterRange(t *testing.T) {
	t.Parallel()
	for i := 0; i < 1000; i++ {
		r := float64(i) / 1000
		b := forwarder.Backoff{Base: 30 * time.Second, Max: 15 * time.Minute, Jitter: func() float64 { return r }}
		for receive := 1; receive <= 8; receive++ {
			plain := forwarder.Backoff{Base: b.Base, Max: b.Max}.Delay(receive)
			got := b.Delay(receive)
			if got > plain || got < plain*8/10 {
				t.Fatalf("r=%.3f receive %d: %s outside [%s, %s]", r, receive, got, plain*8/10, plain)
			}
		}
	}
}
