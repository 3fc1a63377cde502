package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/webhookq/webhookq/internal/webhook"
)

// Reach is whether deliver can reach a target without sending it anything:
// the name resolves (dns), a TCP connection opens (tcp), and for https a TLS
// handshake with the name's certificate completes (tls). Steps stop at the
// first that fails.
type Reach struct {
	// Target is the host and port probed.
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	Steps  []Step `json:"steps"`
}

// Step is one stage of reaching the target.
type Step struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	MS   int64  `json:"ms"`
	// Detail is what the step found: the addresses, the peer, the TLS
	// version and certificate.
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
}

// The step names.
const (
	StepDNS = "dns"
	StepTCP = "tcp"
	StepTLS = "tls"
)

// Network is how deliver reaches hosts; the zero value is the system's
// resolver and dialer and the system's roots.
type Network struct {
	Resolver *net.Resolver
	Dialer   *net.Dialer
	// TLS is the delivery client's TLS configuration (its roots); nil is
	// the default. ServerName is set to the target's host.
	TLS *tls.Config
}

// maxStepError bounds an error in the answer (it reaches a log line and the
// workflow's state data).
const maxStepError = 300

// Check probes the reachability of targetURL's host until ctx ends. It never
// sends an HTTP request.
func Check(ctx context.Context, targetURL string, n Network) Reach {
	u, err := url.Parse(targetURL)
	if err != nil || u.Hostname() == "" {
		return Reach{Target: webhook.Bound(targetURL, 200), Steps: []Step{{Name: StepDNS, Error: "not a URL with a host"}}}
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	r := Reach{Target: net.JoinHostPort(host, port)}
	resolver, dialer := n.Resolver, n.Dialer
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	if dialer == nil {
		dialer = &net.Dialer{}
	}
	run := func(name string, step func() (string, error)) bool {
		start := time.Now()
		detail, err := step()
		s := Step{Name: name, OK: err == nil, MS: time.Since(start).Milliseconds(), Detail: detail}
		if err != nil {
			s.Error = webhook.Bound(err.Error(), maxStepError)
		}
		r.Steps = append(r.Steps, s)
		return s.OK
	}

	var addrs []string
	ok := run(StepDNS, func() (string, error) {
		if ip := net.ParseIP(host); ip != nil {
			addrs = []string{ip.String()}
			return "an IP address, nothing to resolve", nil
		}
		found, err := resolver.LookupHost(ctx, host)
		if err != nil {
			return "", err
		}
		addrs = found
		return strings.Join(first(found, 4), ", "), nil
	})
	var conn net.Conn
	ok = ok && run(StepTCP, func() (string, error) {
		// The first address that answers, in the resolver's order, as an
		// HTTP client would try them.
		var last error
		for _, a := range first(addrs, 4) {
			c, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(a, port))
			if err == nil {
				conn = c
				return "connected to " + c.RemoteAddr().String(), nil
			}
			last = err
		}
		return "", last
	})
	if conn != nil {
		defer conn.Close()
	}
	if ok && u.Scheme == "https" {
		ok = run(StepTLS, func() (string, error) {
			cfg := &tls.Config{}
			if n.TLS != nil {
				cfg = n.TLS.Clone()
			}
			cfg.ServerName = host
			tc := tls.Client(conn, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				return "", err
			}
			st := tc.ConnectionState()
			detail := tls.VersionName(st.Version)
			if len(st.PeerCertificates) > 0 {
				c := st.PeerCertificates[0]
				detail += fmt.Sprintf(", certificate %s valid until %s", webhook.Bound(c.Subject.String(), 120), c.NotAfter.UTC().Format(time.RFC3339))
			}
			return detail, nil
		})
	}
	r.OK = ok
	return r
}

func first(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}
