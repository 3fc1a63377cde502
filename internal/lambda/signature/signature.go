// Package signature verifies the signatures webhook providers put on inbound
// requests (the schemes of config.Schemes: GitHub, Stripe, Slack, a generic
// HMAC header) and signs outbound deliveries the Standard Webhooks way.
// VerifyRoute is what the forwarder runs before any execution (and deliver
// again, in depth): a route's check with its secret, reread when stale.
//
// Every comparison is constant-time, every timestamped scheme checks its age
// against a tolerance with an injected clock, and malformed input is an error,
// never a panic. Error messages name headers and what is wrong, never a
// secret or an expected signature.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

// DefaultTolerance bounds a timestamped signature's age when the route sets
// none (Stripe's and Slack's documented default).
const DefaultTolerance = 5 * time.Minute

// Inbound verifies one route's inbound signatures.
type Inbound struct {
	Scheme config.VerifyScheme
	Secret []byte
	// Header is the signature header of a config.Scheme with NamedHeader.
	Header string
	// Tolerance bounds the age (and future skew) of a Timestamped scheme's
	// timestamp, measured at Now.
	Tolerance time.Duration
	// Now is when the request was received: replay protection is about the
	// receipt, not the (possibly much later, retried or redriven) delivery.
	// nil means time.Now.
	Now func() time.Time
}

// Verify checks body against the signature in headers. headers maps header
// names to values; names match case-insensitively. The headers each scheme
// reads come from config.Schemes.
func (v Inbound) Verify(headers map[string]string, body []byte) error {
	if len(v.Secret) == 0 {
		return errors.New("verification secret is empty")
	}
	scheme, known := config.SchemeOf(v.Scheme)
	check, ok := checks[v.Scheme]
	if !known || !ok {
		return fmt.Errorf("unknown verification scheme %q", v.Scheme)
	}
	name := scheme.SignatureHeader
	if scheme.NamedHeader {
		if v.Header == "" {
			return fmt.Errorf("%s verification has no header configured", v.Scheme)
		}
		name = v.Header
	}
	sig, err := header(headers, name)
	if err != nil {
		return err
	}
	var ts string
	if scheme.TimestampHeader != "" {
		if ts, err = header(headers, scheme.TimestampHeader); err != nil {
			return err
		}
	}
	return check(v, signed{header: name, value: sig, timestampHeader: scheme.TimestampHeader, timestamp: ts}, body)
}

// signed is what a request carries: its signature header's name and value,
// and the separate timestamp header's, for a scheme that has one.
type signed struct {
	header, value              string
	timestampHeader, timestamp string
}

// checks verifies each scheme of config.Schemes but none (a test holds the
// two lists equal).
var checks = map[config.VerifyScheme]func(v Inbound, s signed, body []byte) error{
	config.VerifyGitHub: func(v Inbound, s signed, body []byte) error {
		return verifyHexHMAC(v.Secret, s.header, s.value, "sha256=", true, body)
	},
	config.VerifyHMAC: func(v Inbound, s signed, body []byte) error {
		return verifyHexHMAC(v.Secret, s.header, s.value, "sha256=", false, body)
	},
	config.VerifyStripe: func(v Inbound, s signed, body []byte) error {
		return v.verifyStripe(s.header, s.value, body)
	},
	config.VerifySlack: func(v Inbound, s signed, body []byte) error {
		return v.verifySlack(s, body)
	},
}

// header finds a header case-insensitively; a missing or empty one is an error.
func header(headers map[string]string, name string) (string, error) {
	v, ok := headers[name]
	if !ok {
		for k, val := range headers {
			if strings.EqualFold(k, name) {
				v, ok = val, true
				break
			}
		}
	}
	if !ok || v == "" {
		return "", fmt.Errorf("%s header is missing", name)
	}
	return v, nil
}

// verifyHexHMAC checks "hex(hmac-sha256(body))", with prefix required or optional.
func verifyHexHMAC(secret []byte, name, value, prefix string, prefixRequired bool, body []byte) error {
	rest, had := strings.CutPrefix(value, prefix)
	if prefixRequired && !had {
		return fmt.Errorf("%s does not start with %q", name, prefix)
	}
	got, err := hex.DecodeString(rest)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%s is not a hex SHA-256 HMAC", name)
	}
	if !hmac.Equal(got, mac(secret, body)) {
		return fmt.Errorf("%s does not match the body", name)
	}
	return nil
}

// verifyStripe checks "t=<unix>,v1=<hex>[,v1=…]" over "t.body"; any v1 may match.
func (v Inbound) verifyStripe(name, value string, body []byte) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(value, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = val
		case "v1":
			if b, err := hex.DecodeString(val); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == "" {
		return fmt.Errorf("%s has no timestamp (t=)", name)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%s has no hex v1 signature", name)
	}
	if err := v.checkAge(name, ts); err != nil {
		return err
	}
	want := mac(v.Secret, []byte(ts), []byte("."), body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return fmt.Errorf("%s: no v1 signature matches the body", name)
}

// verifySlack checks "v0=<hex>" over "v0:<timestamp>:body".
func (v Inbound) verifySlack(s signed, body []byte) error {
	if err := v.checkAge(s.timestampHeader, s.timestamp); err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(s.value, "v0=")
	if !ok {
		return fmt.Errorf("%s does not start with \"v0=\"", s.header)
	}
	got, err := hex.DecodeString(rest)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%s is not a hex SHA-256 HMAC", s.header)
	}
	if !hmac.Equal(got, mac(v.Secret, []byte("v0:"+s.timestamp+":"), body)) {
		return fmt.Errorf("%s does not match the body", s.header)
	}
	return nil
}

// checkAge rejects a unix-seconds timestamp farther than the tolerance from
// the moment of receipt, in either direction (a replay, or a clock far ahead).
func (v Inbound) checkAge(name, ts string) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s timestamp %q is not unix seconds", name, webhook.Bound(ts, 32))
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	age := now().Unix() - sec
	limit := int64(tol / time.Second)
	switch {
	case age > limit:
		return fmt.Errorf("%s timestamp is %ds older than the request's receipt, beyond the %s tolerance", name, age, tol)
	case -age > limit:
		return fmt.Errorf("%s timestamp is %ds ahead of the request's receipt, beyond the %s tolerance", name, -age, tol)
	}
	return nil
}

func mac(secret []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, secret)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// SecretPrefix marks a Standard Webhooks secret: "whsec_" + base64 of the key.
const SecretPrefix = "whsec_"

// SigningKey decodes a Standard Webhooks secret: base64, optionally prefixed
// with "whsec_" (the spec's libraries accept both forms).
func SigningKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(secret), SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("signing secret is not a Standard Webhooks secret (whsec_<base64>)")
	}
	return key, nil
}

// Sign returns the Standard Webhooks signature header value of a message:
// "v1," + base64(hmac-sha256(key, id "." timestamp "." body)).
func Sign(key []byte, id string, timestamp time.Time, body []byte) string {
	ts := strconv.FormatInt(timestamp.Unix(), 10)
	sum := mac(key, []byte(id+"."+ts+"."), body)
	return "v1," + base64.StdEncoding.EncodeToString(sum)
}
