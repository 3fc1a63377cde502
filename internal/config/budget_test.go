package config

import (
	"math"
	"testing"
	"time"
)

func TestRetryWait(t *testing.T) {
	t.Parallel()
	doubling := Retry{Interval: 2 * time.Second, BackoffRate: 2, MaxDelay: 30 * time.Second}
	for _, tc := range []struct {
		name  string
		retry Retry
		n     int
		want  time.Duration
	}{
		{"first wait is the interval", doubling, 1, 2 * time.Second},
		{"doubles", doubling, 2, 4 * time.Second},
		{"doubles again", doubling, 4, 16 * time.Second},
		{"capped at max_delay", doubling, 5, 30 * time.Second},
		{"stays capped", doubling, 40, 30 * time.Second},
		{"fractional rate", Retry{Interval: time.Second, BackoffRate: 1.5}, 3, 2250 * time.Millisecond},
		{"constant", Retry{Interval: 3 * time.Second, BackoffRate: 1, MaxDelay: time.Minute}, 7, 3 * time.Second},
		{"no cap saturates", Retry{Interval: time.Second, BackoffRate: 2}, 100, math.MaxInt64},
	} {
		if got := tc.retry.RetryWait(tc.n); got != tc.want {
			t.Errorf("%s: RetryWait(%d) = %v, want %v", tc.name, tc.n, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		retry Retry
		want  time.Duration
	}{
		{"one attempt waits never", Retry{MaxAttempts: 1, Interval: 2 * time.Second, BackoffRate: 2, MaxDelay: 30 * time.Second}, 0},
		{"example top level", Retry{MaxAttempts: 5, Interval: 2 * time.Second, BackoffRate: 2, MaxDelay: 30 * time.Second}, 30 * time.Second},
		{"runs into the cap", Retry{MaxAttempts: 8, Interval: 2 * time.Second, BackoffRate: 2, MaxDelay: 30 * time.Second}, 120 * time.Second},
		{"constant interval", Retry{MaxAttempts: 4, Interval: 3 * time.Second, BackoffRate: 1}, 9 * time.Second},
		{"Step Functions' largest count, constant", Retry{MaxAttempts: 99999999, Interval: time.Second, BackoffRate: 1}, 99999998 * time.Second},
		{"Step Functions' largest count, uncapped", Retry{MaxAttempts: 99999999, Interval: time.Second, BackoffRate: 2}, math.MaxInt64},
	} {
		if got := tc.retry.Backoff(); got != tc.want {
			t.Errorf("%s: Backoff() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The shortcut in Backoff must agree with summing every wait.
func TestBackoffMatchesTheSumOfWaits(t *testing.T) {
	t.Parallel()
	for attempts := 1; attempts <= 12; attempts++ {
		for _, rate := range []float64{1, 1.5, 2, 3.7} {
			for _, maxDelay := range []time.Duration{0, 5 * time.Second, 60 * time.Second} {
				r := Retry{MaxAttempts: attempts, Interval: 2 * time.Second, BackoffRate: rate, MaxDelay: maxDelay}
				var sum time.Duration
				for n := 1; n < attempts; n++ {
					sum += r.RetryWait(n)
				}
				if got := r.Backoff(); got != sum {
					t.Errorf("%+v: Backoff() = %v, sum of waits %v", r, got, sum)
				}
			}
		}
	}
}

func TestComputeBudget(t *testing.T) {
	t.Parallel()
	example := Retry{MaxAttempts: 5, Interval: 2 * time.Second, BackoffRate: 2, MaxDelay: 30 * time.Second}
	completed := Retry{MaxAttempts: 4, Interval: 5 * time.Second, BackoffRate: 2, MaxDelay: 30 * time.Second}
	for _, tc := range []struct {
		name      string
		batchSize int
		routes    []Route
		want      []RouteBudget
		forward   time.Duration
		sdk       time.Duration
	}{
		{
			// 5 × 17s + 30s backoff + Lambda retries (throttling: 5 × 1s +
			// 1+2+4+8+8 s; a service fault: 17s + 1s) 46s + notify (32s and its
			// Lambda retries, 28s + 33s) 93s.
			name:      "example approval-progress, notify final, one message a batch",
			batchSize: 1,
			routes:    []Route{{Name: "p", Timeout: 10 * time.Second, Retry: example, Notify: Notify{When: NotifyFinal}}},
			want:      []RouteBudget{{Route: "p", DeliverTimeout: 15 * time.Second, TaskTimeout: 17 * time.Second, Backoff: 30 * time.Second, LambdaRetries: 46 * time.Second, WorstExecution: 254 * time.Second}},
			forward:   284 * time.Second,
			sdk:       264 * time.Second,
		},
		{
			name:      "no notify, fractional timeout rounds up",
			batchSize: 2,
			routes:    []Route{{Name: "p", Timeout: 9500 * time.Millisecond, Retry: example, Notify: Notify{When: NotifyNever}}},
			want:      []RouteBudget{{Route: "p", DeliverTimeout: 15 * time.Second, TaskTimeout: 17 * time.Second, Backoff: 30 * time.Second, LambdaRetries: 46 * time.Second, WorstExecution: 161 * time.Second}},
			forward:   352 * time.Second,
			sdk:       171 * time.Second,
		},
		{
			// 4 × 27s + 35s + (28s + 28s) + 93s; ten messages of one group back to back exceed Lambda's 900s.
			name:      "the example's two routes, a full batch",
			batchSize: 10,
			routes: []Route{
				{Name: "p", Timeout: 10 * time.Second, Retry: example, Notify: Notify{When: NotifyFinal}},
				{Name: "c", Timeout: 20 * time.Second, Retry: completed, Notify: Notify{When: NotifyEveryFailure}},
			},
			want: []RouteBudget{
				{Route: "p", DeliverTimeout: 15 * time.Second, TaskTimeout: 17 * time.Second, Backoff: 30 * time.Second, LambdaRetries: 46 * time.Second, WorstExecution: 254 * time.Second},
				{Route: "c", DeliverTimeout: 25 * time.Second, TaskTimeout: 27 * time.Second, Backoff: 35 * time.Second, LambdaRetries: 56 * time.Second, WorstExecution: 292 * time.Second},
			},
			forward: 900 * time.Second,
			sdk:     302 * time.Second,
		},
		{
			name:      "absurd retry saturates instead of wrapping",
			batchSize: 10,
			routes:    []Route{{Name: "x", Timeout: time.Second, Retry: Retry{MaxAttempts: 99999999, Interval: time.Second, BackoffRate: 2}, Notify: Notify{When: NotifyFinal}}},
			want:      []RouteBudget{{Route: "x", DeliverTimeout: 6 * time.Second, TaskTimeout: 8 * time.Second, Backoff: math.MaxInt64, LambdaRetries: 37 * time.Second, WorstExecution: math.MaxInt64}},
			forward:   900 * time.Second,
			sdk:       math.MaxInt64,
		},
	} {
		c := &Config{Queue: Queue{BatchSize: tc.batchSize}, Routes: tc.routes}
		b := ComputeBudget(c)
		if len(b.Routes) != len(tc.want) {
			t.Fatalf("%s: %d route budgets, want %d", tc.name, len(b.Routes), len(tc.want))
		}
		var worst time.Duration
		for i, w := range tc.want {
			if b.Routes[i] != w {
				t.Errorf("%s: route budget\n got %+v\nwant %+v", tc.name, b.Routes[i], w)
			}
			worst = max(worst, w.WorstExecution)
		}
		if b.WorstExecution != worst || b.ForwardTimeout != tc.forward || b.SDKTimeout != tc.sdk || b.VisibilityTimeout != 6*tc.forward {
			t.Errorf("%s: worst %v forward %v sdk %v visibility %v; want %v %v %v %v",
				tc.name, b.WorstExecution, b.ForwardTimeout, b.SDKTimeout, b.VisibilityTimeout, worst, tc.forward, tc.sdk, 6*tc.forward)
		}
		if b.VisibilityTimeout > SQSMaxVisibility {
			t.Errorf("%s: visibility %v over SQS's 12h", tc.name, b.VisibilityTimeout)
		}
	}
}

func TestWholeSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{time.Second, 1},
		{1500 * time.Millisecond, 2},
		{time.Nanosecond, 1},
		{5400 * time.Second, 5400},
		{math.MaxInt64, int(math.MaxInt64 / int64(time.Second))}, // no overflow into a negative
	} {
		if got := WholeSeconds(tc.d); got != tc.want {
			t.Errorf("WholeSeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}
