package twin_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/webhook"
)

// benchConfig is one route grouped by a header, a no-retry-needed target.
const benchConfig = `service: bench
region: eu-west-1
ingress:
  base_path: /hooks
target:
  base_url: %s
  timeout: 5s
queue:
  batch_size: 10
  max_concurrency: 20
routes:
  - name: events
    path: /events
    group: header:X-Group
    target_path: /events
    dedup: request_id
    verify: {scheme: none, reason: the benchmark sender signs nothing}
`

// senders is how many clients post at once.
const senders = 32

// arrivals is a no-op target that notes when each webhook id arrived.
type arrivals struct {
	mu sync.Mutex
	at map[string]time.Time
	n  atomic.Int64
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	id := r.Header.Get(webhook.HeaderWebhookID)
	now := time.Now()
	a.mu.Lock()
	if _, dup := a.at[id]; !dup {
		a.at[id] = now
		a.n.Add(1)
	}
	a.mu.Unlock()
}

// BenchmarkEndToEnd measures sustained webhooks/s from ingress to a no-op
// loopback target and the ingress-to-delivery latency (p50, p99), for 1, 10
// and 100 message groups; "ceiling" is the raw loopback rate of the deliver
// core's HTTP client (as the twin configures it) against the same target
// with the same concurrency.
func BenchmarkEndToEnd(b *testing.B) {
	defer quiet()()
	target := &arrivals{at: map[string]time.Time{}}
	srv := httptest.NewServer(target)
	defer srv.Close()

	b.Run("ceiling", func(b *testing.B) {
		client := twin.DeliveryClient()
		body := []byte(`{"event":"bench","n":1}`)
		var next atomic.Int64
		start := time.Now()
		var wg sync.WaitGroup
		for range senders {
			wg.Go(func() {
				for next.Add(1) <= int64(b.N) {
					resp, err := client.Post(srv.URL+"/ceiling", "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	})

	// One webhook at a time: the pipeline's own latency, without queueing.
	b.Run("one-at-a-time", func(b *testing.B) {
		cfg, workflows := writeProject(b, fmt.Sprintf(benchConfig, srv.URL))
		tw := startTwin(b, twin.Options{Config: cfg, WorkflowsDir: workflows})
		client := &http.Client{}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			want := target.n.Load() + 1
			t0 := time.Now()
			if _, status, err := post(client, tw.IngressURL+"/hooks/events", map[string]string{"X-Group": fmt.Sprintf("g%d", i)}, []byte(`{"n":1}`)); err != nil || status != http.StatusOK {
				b.Fatalf("post: %d %v", status, err)
			}
			for target.n.Load() < want {
				time.Sleep(50 * time.Microsecond)
			}
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	})

	for _, groups := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("groups=%d", groups), func(b *testing.B) {
			cfg, workflows := writeProject(b, fmt.Sprintf(benchConfig, srv.URL))
			tw := startTwin(b, twin.Options{Config: cfg, WorkflowsDir: workflows})
			target.mu.Lock()
			clear(target.at)
			target.n.Store(0)
			target.mu.Unlock()

			var mu sync.Mutex
			sentAt := make(map[string]time.Time, b.N)
			var next atomic.Int64
			body := []byte(`{"event":"bench","n":1}`)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range senders {
				wg.Go(func() {
					client := &http.Client{}
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						t0 := time.Now()
						id, status, err := post(client, tw.IngressURL+"/hooks/events", map[string]string{"X-Group": fmt.Sprintf("g%d", i%int64(groups))}, body)
						if err != nil || status != http.StatusOK {
							b.Errorf("post: %d %v", status, err)
							return
						}
						mu.Lock()
						sentAt[id] = t0
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			acked := time.Since(start)
			progress, last := target.n.Load(), time.Now()
			for target.n.Load() < int64(b.N) {
				if n := target.n.Load(); n != progress {
					progress, last = n, time.Now()
				}
				if time.Since(last) > 30*time.Second {
					st, _ := tw.Store().Stats(cfg.QueueName())
					b.Fatalf("stalled: %d of %d delivered; queue %+v", progress, b.N, st)
				}
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()

			target.mu.Lock()
			lat := make([]time.Duration, 0, b.N)
			for id, t0 := range sentAt {
				lat = append(lat, target.at[id].Sub(t0))
			}
			target.mu.Unlock()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "webhooks/s")
			b.ReportMetric(float64(b.N)/acked.Seconds(), "acks/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// quiet silences the cores' default logger (one line per delivery) for the
// benchmark, and returns the function that restores it.
func quiet() func() {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	return func() { slog.SetDefault(prev) }
}
