package twin

import (
	"fmt"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/secret"
	"github.com/webhookq/webhookq/internal/twin/console"
)

// SignatureCheck is one route's inbound signature verification as the twin
// runs it (the page shows it).
type SignatureCheck = console.SignatureCheck

// SignatureChecks lists each route's inbound signature check: on, off for
// want of its secret (secrets come from the environment), or none by the
// config.
func (t *Twin) SignatureChecks() []SignatureCheck {
	var out []SignatureCheck
	for i, r := range t.cfg.Routes {
		c := SignatureCheck{Route: r.Name, Scheme: config.VerifyNone, Detail: r.Unverified}
		if r.Verify != nil {
			c.Scheme = r.Verify.Scheme
			c.On = t.local.Routes[i].Verify != nil
			switch {
			case !c.On:
				c.Detail = fmt.Sprintf("set %s (%s) to check it", SecretEnvName(r.Verify.Secret), secret.Describe(r.Verify.Secret))
			case r.Verify.Header != "":
				c.Detail = "header " + r.Verify.Header
			}
		}
		out = append(out, c)
	}
	return out
}
