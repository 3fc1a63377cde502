package signature

import (
	"bytes"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

func BenchmarkVerify(b *testing.B) {
	body := bytes.Repeat([]byte(`{"event":"approval.step","ok":true}`), 30) // ~1 KiB
	const now = 1_700_000_000
	cases := []struct {
		name    string
		in      Inbound
		headers map[string]string
	}{
		{"github", Inbound{Scheme: config.VerifyGitHub, Secret: []byte("k")},
			map[string]string{headerGitHub: "sha256=" + hexMAC("k", string(body))}},
		{"stripe", Inbound{Scheme: config.VerifyStripe, Secret: []byte("k"), Now: at(now)},
			map[string]string{headerStripe: stripeHeader("k", now, string(body))}},
		{"slack", Inbound{Scheme: config.VerifySlack, Secret: []byte("k"), Now: at(now)},
			slackHeaders("k", now, string(body))},
		{"hmac", Inbound{Scheme: config.VerifyHMAC, Secret: []byte("k"), Header: "X-Sig"},
			map[string]string{"X-Sig": hexMAC("k", string(body))}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.in.Verify(c.headers, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	body := bytes.Repeat([]byte(`{"event":"approval.step","ok":true}`), 30)
	key := []byte("0123456789abcdef0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		_ = Sign(key, "msg_1", time.Unix(1614265330, 0), body)
	}
}
