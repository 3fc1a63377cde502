package delivery

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

// FuzzDeliver feeds untrusted input from both sides — the envelope (headers,
// body, encoding) and the target's answer (status, Retry-After, body) — and
// checks an attempt never panics, always ends in a result or a *Failure, and
// keeps its excerpt and cause bounded, valid UTF-8 and free of the body.
func FuzzDeliver(f *testing.F) {
	f.Add("X-Event-Type", "a", "{\"n\":1}", webhook.EncodingUTF8, 200, "", "ok")
	f.Add("Connection", "close", "/w==", webhook.EncodingBase64, 429, "Wed, 21 Oct 2015 07:28:00 GMT", "\xff")
	f.Add("", "", "", "", 503, "-1", "")
	f.Fuzz(func(t *testing.T, hk, hv, body, encoding string, status int, retryAfter, reply string) {
		if status < 100 || status > 999 {
			status = 500
		}
		cfg := testConfig("https://t.test", config.AllOutcomes)
		d := newDeliverer(t, cfg, answer(status, http.Header{"Retry-After": {retryAfter}}, reply))
		req := webhook.DeliverRequest{Webhook: webhook.Envelope{
			WebhookID: "wh", Route: "orders", Headers: map[string]string{hk: hv}, Body: "SECRET-BODY" + body, BodyEncoding: encoding,
		}}
		res, err := d.Deliver(context.Background(), req)
		if err == nil {
			if len(res.Excerpt) > ExcerptBytes+len("\uFFFD") || !utf8.ValidString(res.Excerpt) {
				t.Fatalf("excerpt %q", res.Excerpt)
			}
			return
		}
		var fl *Failure
		if !errors.As(err, &fl) {
			t.Fatalf("error %v is not a *Failure", err)
		}
		if len(fl.Message) > 1024 || strings.Contains(fl.Message, "SECRET-BODY") {
			t.Fatalf("cause %q", fl.Message)
		}
	})
}
