package twin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/secret"
)

// There is no SSM or Secrets Manager on the twin. A secret referenced by
// name is read from an environment variable named after the reference:
// WEBHOOKQ_SECRET_ + the name in upper case with every other character an
// underscore, e.g. ssm_parameter /sales-approvals/outbound-signing-secret →
// WEBHOOKQ_SECRET_SALES_APPROVALS_OUTBOUND_SIGNING_SECRET. An env reference
// (SecretRef.Env) reads its own variable.
//
// A secret that is not set turns off, with a warning, only the feature that
// needs it: outbound signing, a route's inbound verification, a secret header,
// or the Slack channel. Values are never logged.

// SecretEnvName is the environment variable the twin reads a secret from.
func SecretEnvName(ref config.SecretRef) string {
	if ref.Env != "" {
		return ref.Env
	}
	name := ref.SSMParameter
	if name == "" {
		name = ref.SecretsManager
	}
	var b strings.Builder
	b.WriteString("WEBHOOKQ_SECRET_")
	lastUnderscore := true
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			lastUnderscore = false
		} else if !lastUnderscore {
			b.WriteByte('_')
			lastUnderscore = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

// envSecrets resolves every reference from the environment.
type envSecrets struct {
	lookup func(string) (string, bool)
	cache  secret.Resolver
}

func newEnvSecrets(lookup func(string) (string, bool)) *envSecrets {
	s := &envSecrets{lookup: lookup}
	s.cache.LookupEnv = lookup
	return s
}

func (s *envSecrets) Resolve(ctx context.Context, ref config.SecretRef) (string, error) {
	return s.cache.Resolve(ctx, config.SecretRef{Env: SecretEnvName(ref)})
}

// Reread reads the variable anew when the cached value is older than minAge.
func (s *envSecrets) Reread(ctx context.Context, ref config.SecretRef, minAge time.Duration) (string, bool, error) {
	return s.cache.Reread(ctx, config.SecretRef{Env: SecretEnvName(ref)}, minAge)
}

func (s *envSecrets) has(ref config.SecretRef) bool {
	v, ok := s.lookup(SecretEnvName(ref))
	return ok && v != ""
}

// localConfig is cfg as the twin runs it: unresolvable secrets drop the
// feature that needs them, SNS (absent locally) is dropped, and targetBase,
// when set, replaces the scheme and host of every target URL (the path is
// kept, so the log shows which route delivered). warn receives one line per
// change.
func localConfig(cfg *config.Config, s *envSecrets, targetBase string, warn func(string)) *config.Config {
	c := *cfg
	c.Target.SecretHeaders = map[string]config.SecretRef{}
	for h, ref := range cfg.Target.SecretHeaders {
		if s.has(ref) {
			c.Target.SecretHeaders[h] = ref
		} else {
			warn(fmt.Sprintf("target header %s is not sent: set %s (%s)", h, SecretEnvName(ref), secret.Describe(ref)))
		}
	}
	if cfg.Target.Signing != nil && !s.has(*cfg.Target.Signing) {
		warn(fmt.Sprintf("outbound signing is OFF: set %s to a whsec_ secret (%s) to sign deliveries", SecretEnvName(*cfg.Target.Signing), secret.Describe(*cfg.Target.Signing)))
		c.Target.Signing = nil
	}
	c.Notify = localNotify(cfg.Notify, s, warn)
	c.Routes = make([]config.Route, len(cfg.Routes))
	for i, r := range cfg.Routes {
		if r.Verify != nil && !s.has(r.Verify.Secret) {
			warn(fmt.Sprintf("route %s: inbound signature verification is OFF: set %s (%s)", r.Name, SecretEnvName(r.Verify.Secret), secret.Describe(r.Verify.Secret)))
			r.Verify = nil
		}
		r.Notify = localNotify(r.Notify, s, warn)
		if targetBase != "" {
			r.TargetURL = retarget(targetBase, r.TargetURL)
		}
		c.Routes[i] = r
	}
	return &c
}

func localNotify(n config.Notify, s *envSecrets, warn func(string)) config.Notify {
	if n.SNSTopicARN != "" {
		warn("SNS notifications are not sent locally (the twin logs every notification and lists it on the page)")
		n.SNSTopicARN = ""
	}
	if n.SlackWebhookURL != nil && !s.has(*n.SlackWebhookURL) {
		warn(fmt.Sprintf("Slack notifications are OFF: set %s (%s) to post them", SecretEnvName(*n.SlackWebhookURL), secret.Describe(*n.SlackWebhookURL)))
		n.SlackWebhookURL = nil
	}
	return n
}

// retarget keeps target's path and query below base.
func retarget(base, target string) string {
	base = strings.TrimSuffix(base, "/")
	rest := target
	if i := strings.Index(target, "://"); i >= 0 {
		rest = target[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			rest = rest[j:]
		} else {
			rest = ""
		}
	}
	return base + rest
}
