package signature

import (
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// TestSignInboundRoundTrips: every verifying scheme can be signed, and what
// SignInbound makes verifies, and fails with another secret or body.
func TestSignInboundRoundTrips(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"webhookq_probe":{"v":1}}`)
	for _, s := range config.Schemes {
		if s.Name == config.VerifyNone {
			if _, ok := signers[s.Name]; ok {
				t.Errorf("scheme none has a signer")
			}
			continue
		}
		headers, err := SignInbound(s.Name, []byte("secret"), "X-Signature", now, body)
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
			continue
		}
		in := Inbound{Scheme: s.Name, Secret: []byte("secret"), Header: "X-Signature", Now: func() time.Time { return now }}
		if err := in.Verify(headers, body); err != nil {
			t.Errorf("%s: what SignInbound made does not verify: %v (%v)", s.Name, err, headers)
		}
		if err := in.Verify(headers, append(body, ' ')); err == nil {
			t.Errorf("%s: verifies another body", s.Name)
		}
		in.Secret = []byte("other")
		if err := in.Verify(headers, body); err == nil {
			t.Errorf("%s: verifies under another secret", s.Name)
		}
	}
	for name := range signers {
		if _, ok := checks[name]; !ok {
			t.Errorf("signer for %s, which nothing verifies", name)
		}
	}
	if _, err := SignInbound(config.VerifyNone, []byte("s"), "", now, body); err == nil {
		t.Error("signing for scheme none: want an error")
	}
}
