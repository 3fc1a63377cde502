// Package probe is the post-deploy probe: a webhook cmd/check posts to a
// route's public URL that travels the whole pipeline (API Gateway, the queue,
// the event source mapping, forward and its signature check, the route's
// Express workflow) and that deliver answers itself instead of sending it to
// the application. Deliver then reports whether it can reach the target
// (DNS, TCP, TLS) without sending it anything.
//
// A probe is recognised by its body, the one part of a webhook that reaches
// deliver unchanged: a JSON object with a "webhookq_probe" member. What makes
// it a probe is not that member but its MAC: an HMAC-SHA256 of the route,
// the probe's id and its expiry under the deployment's probe key, a KMS HMAC
// key that only the operator may use to make MACs (kms:GenerateMac) and
// deliver only to check them (kms:VerifyMac). So:
//
//   - nobody without the operator's rights can make deliver swallow a
//     webhook: a body posing as a probe whose MAC does not verify is refused
//     as a permanent failure, never delivered and never retried;
//   - a probe is not a way around verification: it is an ordinary webhook up
//     to deliver, so it passes the route's inbound signature check like any
//     other (cmd/check signs it with the route's scheme), and a forged one is
//     refused there first;
//   - a probe costs what a webhook costs and never more: one execution, one
//     deliver invocation, no retry, no notification, whatever the outcome
//     and whatever the target does. Deliver only ever probes the route's
//     configured target, never a host the probe names.
//
// The MAC binds the route (a probe for one route is refused on another) and
// an expiry (Validity after it was made), so a captured probe is worth
// little and not for long.
package probe

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Field is the member of a webhook body's JSON object that holds a probe.
const Field = "webhookq_probe"

// Version is the probe format this package reads and writes.
const Version = 1

// Validity is how long after it is made deliver still answers a probe; a
// later one is answered Expired, without a reachability check.
const Validity = 15 * time.Minute

// Algorithm is the KMS MAC algorithm of the probe key (an HMAC_256 key).
const Algorithm = kmstypes.MacAlgorithmSpecHmacSha256

// maxFieldBytes bounds the probe's members: a probe is small, and a body
// posing as one must not make deliver work on megabytes.
const maxFieldBytes = 256

// Probe is the "webhookq_probe" member of a probe's body.
type Probe struct {
	V     int    `json:"v"`
	Route string `json:"route"`
	// ID names this probe: deliver logs it, cmd/check looks for it.
	ID string `json:"id"`
	// Expires is when deliver stops answering it, RFC 3339 in UTC.
	Expires string `json:"expires"`
	// MAC is the base64 HMAC-SHA256 of Message under the probe key.
	MAC string `json:"mac"`
}

// Message is what the MAC covers: the format, the route, the id, the expiry.
func (p Probe) Message() []byte {
	return []byte(fmt.Sprintf("webhookq-probe/v%d\n%s\n%s\n%s", p.V, p.Route, p.ID, p.Expires))
}

// ErrMalformed is a body that holds a "webhookq_probe" member which is not a
// well-formed probe.
var ErrMalformed = errors.New("malformed probe")

// Find reports whether body is a probe, and returns it. ok is false for any
// body that does not pose as one (not JSON, not an object, no Field): an
// ordinary webhook. A body that poses as one but is not well formed is
// ErrMalformed.
func Find(body []byte) (p Probe, ok bool, err error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || !bytes.Contains(trimmed, []byte(`"`+Field+`"`)) {
		return Probe{}, false, nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(trimmed, &top) != nil {
		return Probe{}, false, nil
	}
	raw, ok := top[Field]
	if !ok {
		return Probe{}, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Probe{}, true, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case p.V != Version:
		return p, true, fmt.Errorf("%w: version %d, want %d", ErrMalformed, p.V, Version)
	case p.Route == "" || p.ID == "" || p.Expires == "" || p.MAC == "":
		return p, true, fmt.Errorf("%w: route, id, expires and mac are required", ErrMalformed)
	case len(p.Route) > maxFieldBytes || len(p.ID) > maxFieldBytes || len(p.Expires) > maxFieldBytes || len(p.MAC) > maxFieldBytes:
		return Probe{}, true, fmt.Errorf("%w: a member is over %d bytes", ErrMalformed, maxFieldBytes)
	}
	return p, true, nil
}

// MacMaker is the KMS operation cmd/check makes a probe's MAC with (the kms
// client's method; the operator needs kms:GenerateMac on the probe key).
type MacMaker interface {
	GenerateMac(ctx context.Context, in *kms.GenerateMacInput, opts ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
}

// MacChecker is the KMS operation deliver checks a MAC with (the kms
// client's method; deliver's role has kms:VerifyMac on the probe key only).
type MacChecker interface {
	VerifyMac(ctx context.Context, in *kms.VerifyMacInput, opts ...func(*kms.Options)) (*kms.VerifyMacOutput, error)
}

// New makes a probe for route, valid until now + Validity, with its MAC
// from KMS under keyID.
func New(ctx context.Context, maker MacMaker, keyID, route, id string, now time.Time) (Probe, error) {
	p := Probe{V: Version, Route: route, ID: id, Expires: now.UTC().Add(Validity).Format(time.RFC3339)}
	out, err := maker.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: aws.String(keyID), Message: p.Message(), MacAlgorithm: Algorithm})
	if err != nil {
		return Probe{}, fmt.Errorf("make the probe's MAC with %s: %w", keyID, err)
	}
	p.MAC = base64.StdEncoding.EncodeToString(out.Mac)
	return p, nil
}

// Verdict is how deliver judged a body posing as a probe.
type Verdict string

// The verdicts.
const (
	// Answered: an authentic probe for this route, in time; deliver probed
	// the target's reachability and delivered nothing.
	Answered Verdict = "answered"
	// Expired: authentic, but past its expiry or made for another route;
	// deliver answered it without probing, and delivered nothing.
	Expired Verdict = "expired"
	// Forged: its MAC does not verify (or it is malformed): refused as a
	// permanent failure, delivered to nobody.
	Forged Verdict = "forged"
	// Unverifiable: KMS could not check its MAC (no permission, no route to
	// KMS from the VPC, throttled); refused as a permanent failure, so a
	// probe is never retried.
	Unverifiable Verdict = "unverifiable"
)

// Judge checks a probe found in a webhook of route, at now: its MAC with
// KMS, its route, its expiry.
func Judge(ctx context.Context, checker MacChecker, keyID string, p Probe, route string, now time.Time) (Verdict, error) {
	if checker == nil || keyID == "" {
		return Unverifiable, errors.New("deliver has no probe key (WEBHOOKQ_PROBE_KEY unset)")
	}
	mac, err := base64.StdEncoding.DecodeString(p.MAC)
	if err != nil {
		return Forged, fmt.Errorf("%w: mac is not base64", ErrMalformed)
	}
	out, err := checker.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: aws.String(keyID), Message: p.Message(), Mac: mac, MacAlgorithm: Algorithm})
	var invalid *kmstypes.KMSInvalidMacException
	switch {
	case errors.As(err, &invalid):
		return Forged, errors.New("its MAC does not verify under the probe key")
	case err != nil:
		return Unverifiable, fmt.Errorf("KMS could not check its MAC: %w", err)
	case !out.MacValid:
		return Forged, errors.New("its MAC does not verify under the probe key")
	}
	expires, err := time.Parse(time.RFC3339, p.Expires)
	switch {
	case err != nil:
		return Forged, fmt.Errorf("%w: expires is not RFC 3339", ErrMalformed)
	case p.Route != route:
		return Expired, fmt.Errorf("made for route %q, received on %q", p.Route, route)
	case now.After(expires):
		return Expired, fmt.Errorf("expired at %s", p.Expires)
	}
	return Answered, nil
}

// Answer is what deliver reports for a probe, in its log line (under
// LogKey) and its result: cmd/check reads it from deliver's log group.
type Answer struct {
	ID      string  `json:"id"`
	Route   string  `json:"route"`
	Verdict Verdict `json:"verdict"`
	// Reason says why a probe was not Answered.
	Reason string `json:"reason,omitempty"`
	// Reach is the target's reachability from deliver, for Answered.
	Reach *Reach `json:"reach,omitempty"`
}

// LogKey is the log attribute deliver writes an Answer under.
const LogKey = "probe_answer"

// Body is a probe's webhook body for a route whose messages are grouped by
// group (config's "body:a.b" source: the body must hold that field, or API
// Gateway refuses the request before it reaches the queue). groupValue fills
// it.
func Body(p Probe, bodyGroupPath, groupValue string) ([]byte, error) {
	doc := map[string]any{Field: p}
	if bodyGroupPath != "" {
		parts := strings.Split(bodyGroupPath, ".")
		if parts[0] == Field {
			return nil, fmt.Errorf("the route groups by body:%s, which is the probe's own field", bodyGroupPath)
		}
		node := doc
		for _, part := range parts[:len(parts)-1] {
			next := map[string]any{}
			node[part] = next
			node = next
		}
		node[parts[len(parts)-1]] = groupValue
	}
	return json.Marshal(doc)
}
