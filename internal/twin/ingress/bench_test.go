package ingress_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIngressAck measures acknowledged webhooks per second over HTTP
// with durability on: every 200 waits for the store's fsync (group commit
// shares one among the concurrent requests).
func BenchmarkIngressAck(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			h, _, _ := setup(b)
			srv := httptest.NewServer(h)
			defer srv.Close()
			var n atomic.Int64
			body := `{"account":{"id":"acct-1"},"event":"bench"}`
			b.SetParallelism(max(1, clients/2)) // RunParallel runs parallelism × GOMAXPROCS goroutines
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				client := &http.Client{}
				for pb.Next() {
					i := n.Add(1)
					req, _ := http.NewRequest("POST", srv.URL+"/hooks/s", strings.NewReader(fmt.Sprintf("%s%d", body, i)))
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "acks/s")
		})
	}
}
