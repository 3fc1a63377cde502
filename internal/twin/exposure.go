package twin

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/secret"
)

// What the twin refuses or warns about when it is reachable from elsewhere.
// The control plane has no authentication, so it stays on loopback unless
// asked; ingress may face the internet (a tunnel, a public address), so there
// a route that verifies signatures must be able to.

// isLoopback reports whether a listener accepts connections only from this
// machine. An unspecified address (0.0.0.0, [::]) listens on every
// interface, so it is not.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// checkControlExposure refuses a non-loopback control plane unless remote,
// and then warns that it has no authentication.
func (t *Twin) checkControlExposure(a net.Addr, remote bool) error {
	if isLoopback(a) {
		return nil
	}
	if !remote {
		return fmt.Errorf("the control plane would listen on %s, which is not a loopback address, and it has no authentication: "+
			"whoever reaches it can read, delete or forge the queue's messages. Keep it on 127.0.0.1 (reach it from "+
			"another machine through an SSH tunnel), or allow it explicitly with -control-remote", a)
	}
	t.Warnings = append(t.Warnings, fmt.Sprintf("the control plane listens on %s, which is not loopback, and has NO authentication: "+
		"whoever reaches it can read, delete or forge the queue's messages and make the twin POST signed requests to the target", a))
	return nil
}

// checkIngressExposure refuses a public ingress — on a non-loopback address,
// or declared public (a tunnel's, which connects from loopback) — while a
// route that verifies signatures has no secret here: the twin would turn its
// check off (localConfig) and accept forged webhooks from anyone. Every such
// route is named, with the variable to set. requested is the address as
// given, for the message.
func checkIngressExposure(cfg *config.Config, requested string, bound net.Addr, public bool, secrets *envSecrets) error {
	if isLoopback(bound) && !public {
		return nil
	}
	var unset []string
	for _, r := range cfg.Routes {
		if r.Verify != nil && !secrets.has(r.Verify.Secret) {
			unset = append(unset, fmt.Sprintf("  route %s: set %s to the sender's signing secret (%s on AWS)",
				r.Name, SecretEnvName(r.Verify.Secret), secret.Describe(r.Verify.Secret)))
		}
	}
	if len(unset) == 0 {
		return nil
	}
	where := fmt.Sprintf("ingress would listen on %s, which is not a loopback address", requested)
	if isLoopback(bound) {
		where = "ingress is declared public (-public-ingress)"
	}
	return fmt.Errorf("%s, but these routes verify signatures and their secret is not set, so they would accept forged webhooks from anyone:\n%s\n"+
		"Set the variables, or keep ingress private", where, strings.Join(unset, "\n"))
}

// loopbackHostsOnly answers 403 to a request whose Host is not a loopback
// name (localhost, 127.0.0.0/8, [::1]): a web page the user opens elsewhere
// cannot reach the control plane by pointing a name of its own at 127.0.0.1
// (DNS rebinding), since the browser sends that name as the Host.
func loopbackHostsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
		ip := net.ParseIP(host)
		if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "the twin's control plane answers only loopback host names (localhost, 127.0.0.1, [::1])", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
