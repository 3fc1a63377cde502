package ingress

import (
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// The bucket holds burst requests and refills at rate a second, never above
// burst: API Gateway's token bucket.
func TestBucket(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	b := newBucket(config.Throttle{Rate: 2, Burst: 3}, start)
	for i := range 3 {
		if !b.take(start) {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if b.take(start) {
		t.Fatal("a fourth request at once taken beyond the burst of 3")
	}
	if b.take(start.Add(499 * time.Millisecond)) {
		t.Fatal("taken before a whole token refilled (rate 2/s: one per 500 ms)")
	}
	if !b.take(start.Add(500 * time.Millisecond)) {
		t.Fatal("refused after 500 ms at 2/s")
	}
	later := start.Add(time.Hour) // a long idle refills to the burst, not beyond
	for i := range 3 {
		if !b.take(later) {
			t.Fatalf("after an idle hour, request %d refused", i+1)
		}
	}
	if b.take(later) {
		t.Fatal("an idle hour filled the bucket beyond its burst")
	}
	if b.take(start) {
		t.Fatal("a clock going back refilled the bucket")
	}
}
