package signature

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// SignInbound signs body as a provider of scheme would, for a request made
// at now: the headers to send, by name. cmd/check signs its probes with it,
// so a probe passes the route's verification like any webhook (a probe is
// not a way around it). header names the signature header of a scheme with
// NamedHeader.
func SignInbound(scheme config.VerifyScheme, secret []byte, header string, now time.Time, body []byte) (map[string]string, error) {
	if len(secret) == 0 {
		return nil, errors.New("signing secret is empty")
	}
	s, known := config.SchemeOf(scheme)
	sign, ok := signers[scheme]
	if !known || !ok {
		return nil, fmt.Errorf("no signer for scheme %q", scheme)
	}
	name := s.SignatureHeader
	if s.NamedHeader {
		if header == "" {
			return nil, fmt.Errorf("%s signing has no header configured", scheme)
		}
		name = header
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	out := map[string]string{name: sign(secret, ts, body)}
	if s.TimestampHeader != "" {
		out[s.TimestampHeader] = ts
	}
	return out, nil
}

// signers makes each verifying scheme's signature value from the secret,
// the unix timestamp (for the schemes that sign one) and the body; the
// inverse of checks (a test holds the two equal and round-trips each).
var signers = map[config.VerifyScheme]func(secret []byte, ts string, body []byte) string{
	config.VerifyGitHub: func(secret []byte, _ string, body []byte) string {
		return "sha256=" + hex.EncodeToString(mac(secret, body))
	},
	config.VerifyHMAC: func(secret []byte, _ string, body []byte) string {
		return hex.EncodeToString(mac(secret, body))
	},
	config.VerifyStripe: func(secret []byte, ts string, body []byte) string {
		return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, []byte(ts), []byte("."), body))
	},
	config.VerifySlack: func(secret []byte, ts string, body []byte) string {
		return "v0=" + hex.EncodeToString(mac(secret, []byte("v0:"+ts+":"), body))
	},
}
