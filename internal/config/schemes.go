package config

import "strings"

// VerifyScheme names an inbound signature scheme.
type VerifyScheme string

// The inbound signature schemes; Schemes describes each.
const (
	VerifyGitHub VerifyScheme = "github"
	VerifyStripe VerifyScheme = "stripe"
	VerifySlack  VerifyScheme = "slack"
	VerifyHMAC   VerifyScheme = "hmac"
	// VerifyNone verifies nothing; a route says so with a reason.
	VerifyNone VerifyScheme = "none"
)

// Scheme is one inbound signature scheme: what routes.yaml calls it, the
// request headers it reads and what its signature covers. The loader, the
// verifier (internal/lambda/signature), the JSON Schema test and the docs
// test all read Schemes, so a scheme is added in one place.
type Scheme struct {
	Name VerifyScheme
	// SignatureHeader carries the signature; empty when the route names it
	// (NamedHeader) and for none.
	SignatureHeader string
	// TimestampHeader carries the signed timestamp when it travels apart
	// from the signature (Slack's); Stripe's is inside its signature header.
	TimestampHeader string
	// NamedHeader: the route names the signature header (verify.header).
	NamedHeader bool
	// Timestamped schemes sign a timestamp; verify.tolerance bounds its age.
	Timestamped bool
	// Format is what the signature is, for the docs and messages.
	Format string
}

// Schemes lists every inbound signature scheme, in documentation order.
var Schemes = []Scheme{
	{Name: VerifyGitHub, SignatureHeader: "X-Hub-Signature-256",
		Format: "`sha256=` + hex HMAC-SHA256 of the body"},
	{Name: VerifyStripe, SignatureHeader: "Stripe-Signature", Timestamped: true,
		Format: "`t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>` (any of several `v1` may match)"},
	{Name: VerifySlack, SignatureHeader: "X-Slack-Signature", TimestampHeader: "X-Slack-Request-Timestamp", Timestamped: true,
		Format: "`v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`"},
	{Name: VerifyHMAC, NamedHeader: true,
		Format: "hex HMAC-SHA256 of the body, optionally prefixed `sha256=`, in the route's `header`"},
	{Name: VerifyNone,
		Format: "nothing is verified; the route must give its `reason`"},
}

// SchemeOf returns the scheme named name.
func SchemeOf(name VerifyScheme) (Scheme, bool) {
	for _, s := range Schemes {
		if s.Name == name {
			return s, true
		}
	}
	return Scheme{}, false
}

// SchemeNames lists the schemes' names, in documentation order.
func SchemeNames() []string {
	names := make([]string, len(Schemes))
	for i, s := range Schemes {
		names[i] = string(s.Name)
	}
	return names
}

// verifyingSchemeNames reads "github, stripe, slack or hmac".
func verifyingSchemeNames() string {
	var names []string
	for _, s := range Schemes {
		if s.Name != VerifyNone {
			names = append(names, string(s.Name))
		}
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Headers returns the request headers the route's scheme reads; they must be
// among the route's carried headers, or forward and deliver cannot see them.
func (v Verify) Headers() []string {
	s, ok := SchemeOf(v.Scheme)
	if !ok {
		return nil
	}
	var out []string
	for _, h := range []string{s.SignatureHeader, s.TimestampHeader} {
		if h != "" {
			out = append(out, h)
		}
	}
	if s.NamedHeader && v.Header != "" {
		out = append(out, v.Header)
	}
	return out
}
