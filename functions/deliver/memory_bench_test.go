package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/webhook"
)

// BenchmarkDeliverAtMemory measures the real deliver bootstrap under the
// Lambda emulator, held to the CPU share of 128, 256 and 512 MB
// (lambdarie.StartAtMemory), delivering a signed 4 KiB webhook to a local
// HTTPS target that answers at once, so ns/op is what a warm function adds
// to the target's own latency:
//   - fresh-tls: the target closes every connection, so each delivery
//     dials and verifies a TLS handshake (a target behind a load balancer
//     that does not keep connections, or a cold function);
//   - reused: the warm function's kept-alive connection carries each one.
//
// ms/first-delivery is the cold start's (the emulator starts the bootstrap
// on it); cpu-ms/delivery (warm, from /proc, 10 ms resolution averaged) and
// peak-RSS-MB are the bootstrap's own.
// Run it with -benchtime=20x; docs/generate.md has the numbers.
func BenchmarkDeliverAtMemory(b *testing.B) {
	bootstrap := lambdarie.Build(b, "./functions/deliver")
	body := []byte(`{"order":"o-1","pad":"` + strings.Repeat("x", 4<<10-24) + `"}`)
	for _, memory := range []int{128, 256, 512} {
		for _, mode := range []string{"fresh-tls", "reused"} {
			b.Run(fmt.Sprintf("%dMB/%s", memory, mode), func(b *testing.B) {
				target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					if mode == "fresh-tls" {
						w.Header().Set("Connection", "close")
					}
					_, _ = io.WriteString(w, `{"accepted":true}`)
				}))
				b.Cleanup(target.Close)
				routes := filepath.Join(b.TempDir(), "routes.yaml")
				if err := os.WriteFile(routes, []byte(fmt.Sprintf(routesYAML, target.URL)), 0o644); err != nil {
					b.Fatal(err)
				}
				fn := lambdarie.StartAtMemory(b, bootstrap, map[string]string{
					webhook.EnvConfig:              routes,
					"SSL_CERT_FILE":                testenv.TrustedRoots(b, target.Certificate()),
					"WEBHOOKQ_TEST_SIGNING_SECRET": "whsec_" + base64.StdEncoding.EncodeToString([]byte(signingKey)),
				}, memory)
				fn.Bench(b, event(b, "ok", body, 0), "delivery", checkDelivered)
			})
		}
	}
}

func checkDelivered(tb testing.TB, answer []byte) {
	tb.Helper()
	var res webhook.DeliverResult
	if err := json.Unmarshal(answer, &res); err != nil || res.Status != http.StatusOK {
		tb.Fatalf("delivery answer %s, want status 200", answer)
	}
}
