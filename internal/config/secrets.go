package config

import (
	"slices"
	"sort"
)

// SecretUse is one place the configuration references a secret.
type SecretUse struct {
	Ref SecretRef
	// Function is the Lambda that reads it at run time: forward, deliver or
	// notify.
	Function string
	// Use says what for, e.g. "outbound signing".
	Use string
}

// SecretUses lists every secret reference of the configuration with what
// reads it, in the order routes.yaml has them (secret headers by name): the
// parameters and secrets to create before the first apply.
func (c *Config) SecretUses() []SecretUse {
	var out []SecretUse
	if c.Target.Signing != nil {
		out = append(out, SecretUse{Ref: *c.Target.Signing, Function: "deliver", Use: "outbound signing (target.signing_secret)"})
	}
	headers := make([]string, 0, len(c.Target.SecretHeaders))
	for h := range c.Target.SecretHeaders {
		headers = append(headers, h)
	}
	sort.Strings(headers)
	for _, h := range headers {
		out = append(out, SecretUse{Ref: c.Target.SecretHeaders[h], Function: "deliver", Use: "target header " + h})
	}
	// A route's verification secret is read by forward, which verifies
	// before any execution, and by deliver, which verifies again.
	for _, r := range c.Routes {
		if r.Verify != nil {
			use := "route " + r.Name + ": inbound " + string(r.Verify.Scheme) + " signature"
			out = append(out,
				SecretUse{Ref: r.Verify.Secret, Function: "forward", Use: use},
				SecretUse{Ref: r.Verify.Secret, Function: "deliver", Use: use})
		}
	}
	if c.Notify.SlackWebhookURL != nil {
		out = append(out, SecretUse{Ref: *c.Notify.SlackWebhookURL, Function: "notify", Use: "Slack notifications (notify.slack_webhook_url)"})
	}
	return out
}

// Secret is one distinct secret reference and everything that reads it.
type Secret struct {
	Ref  SecretRef
	Uses []SecretUse
}

// Secrets groups SecretUses by reference, in the order each first appears.
func (c *Config) Secrets() []Secret {
	var out []Secret
	for _, u := range c.SecretUses() {
		i := slices.IndexFunc(out, func(s Secret) bool { return s.Ref == u.Ref })
		if i < 0 {
			out = append(out, Secret{Ref: u.Ref})
			i = len(out) - 1
		}
		out[i].Uses = append(out[i].Uses, u)
	}
	return out
}
