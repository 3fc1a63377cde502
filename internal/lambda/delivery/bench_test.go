package delivery

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
)

// BenchmarkDeliver measures one attempt against a loopback target (keep-alive
// connection, 1 KiB body): the deliver function's per-attempt overhead over
// the HTTP exchange itself, with and without outbound signing, and with the
// network taken out by a fake transport.
func BenchmarkDeliver(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	body := strings.Repeat(`{"event":"approval.step","ok":true}`, 30)
	signing := config.SecretRef{Env: "SIGNING"}
	secrets := &fakeSecrets{values: map[config.SecretRef]string{signing: "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))}}
	cases := []struct {
		name string
		sign bool
		rt   http.RoundTripper
	}{
		{"loopback", false, nil},
		{"loopback-signed", true, nil},
		{"no-network-signed", true, answer(200, nil, `{"ok":true}`)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cfg := testConfig(srv.URL, config.AllOutcomes)
			if c.sign {
				cfg.Target.Signing = &signing
			}
			client := NewHTTPClient()
			if c.rt != nil {
				client.Transport = c.rt
			}
			d, err := New(&Config{Routes: cfg, Secrets: secrets, HTTPClient: client, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			req := request(body, 0)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Handle(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
