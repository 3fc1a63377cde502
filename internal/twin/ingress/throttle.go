package ingress

import (
	"sync"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// bucket is one route's throttle as API Gateway applies it: a token bucket
// that holds Burst tokens and refills at Rate a second; a request takes one,
// and a request that finds none is answered 429 and never queued
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html).
// AWS throttles on a best-effort basis; the twin's bucket is exact.
type bucket struct {
	rate, burst float64

	mu     sync.Mutex
	tokens float64
	at     time.Time
}

func newBucket(t config.Throttle, now time.Time) *bucket {
	return &bucket{rate: t.Rate, burst: float64(t.Burst), tokens: float64(t.Burst), at: now}
}

// take spends a token at now, when there is one.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed.Seconds()*b.rate)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
