package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// A Lambda function outside a VPC resolves names with public DNS and
// reaches only public addresses; with a VPC it resolves and reaches what the
// VPC does (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).
// A target whose host looks private is therefore out of deliver's reach
// unless target.vpc is set, and a loopback host is out of reach on AWS
// whatever is set: there it is the deliver function itself.

// privateName is one kind of host name that public DNS does not answer.
type privateName struct {
	// matches reports whether the lower-cased host name is of this kind.
	matches func(host string) bool
	// why says what the kind is, for the warning.
	why string
	// loopback: the name is the machine itself, which no VPC makes reachable.
	loopback bool
}

// privateNames are the host names cmd/generate warns about; docs/config.md
// lists the same.
var privateNames = []privateName{
	{func(h string) bool { return h == "localhost" || strings.HasSuffix(h, ".localhost") },
		"localhost is, on AWS, the deliver function itself", true},
	{func(h string) bool { return !strings.Contains(h, ".") },
		"a name without a dot resolves only through a search domain", false},
	{func(h string) bool { return strings.HasSuffix(h, ".internal") },
		".internal is reserved for private use (ICANN, 2024) and private hosted zones", false},
	{func(h string) bool { return strings.HasSuffix(h, ".local") },
		".local is multicast DNS (RFC 6762), answered only on the local link", false},
	{func(h string) bool { return strings.HasSuffix(h, ".home.arpa") },
		".home.arpa is for home networks (RFC 8375)", false},
	{func(h string) bool { return strings.Contains("."+h+".", ".internal.") },
		"an \"internal\" label usually names a private hosted zone or split-horizon DNS", false},
}

// sharedAddressSpace is 100.64.0.0/10 (RFC 6598), carrier-grade NAT space
// that netip does not count as private.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// hostReach says what is wrong with delivering to host from a Lambda
// function: "" when nothing looks wrong; loopback is true when no VPC helps.
func hostReach(host string) (why string, loopback bool) {
	if addr, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addr = addr.Unmap()
		switch {
		case addr.IsLoopback():
			return "a loopback address is, on AWS, the deliver function itself", true
		case addr.IsUnspecified():
			return "the unspecified address reaches no host", true
		case addr.IsLinkLocalUnicast():
			return "a link-local address is reachable only on its own network segment", false
		case addr.IsPrivate():
			return "a private address (RFC 1918 / RFC 4193) is reachable only inside its network", false
		case sharedAddressSpace.Contains(addr):
			return "a shared address (100.64.0.0/10, RFC 6598) is reachable only inside its network", false
		}
		return "", false
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	for _, n := range privateNames {
		if n.matches(h) {
			return n.why, n.loopback
		}
	}
	return "", false
}

// warnPrivateTargets warns about every target URL whose host deliver cannot
// reach as configured: a private-looking host without target.vpc, or a
// loopback host at all.
func (d *decoder) warnPrivateTargets(c *Config, baseURL *yaml.Node, routes []routeNodes) {
	check := func(n *yaml.Node, path, raw string) {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			return
		}
		why, loopback := hostReach(u.Hostname())
		switch {
		case why == "":
		case loopback:
			d.warn(n, path, "host %s: %s; such a target works only on the local twin (go run ./cmd/local), never on AWS", u.Hostname(), why)
		case c.Target.VPC == nil:
			d.warn(n, path, "host %s looks private (%s), and deliver runs outside any VPC, where it can neither resolve nor reach a private host; set target.vpc (subnet_ids, security_group_ids) to the VPC the target is in (docs/deploy.md)", u.Hostname(), why)
		}
	}
	usesBase := false
	for i, rn := range routes {
		if rn.targetURL != nil {
			check(rn.targetURL, indexPath("routes", i)+".target_url", c.Routes[i].TargetURL)
		} else {
			usesBase = true
		}
	}
	if baseURL != nil && usesBase {
		check(baseURL, "target.base_url", c.Target.BaseURL)
	}
}

// warn records a problem that does not stop generation (Config.Warnings).
func (d *decoder) warn(n *yaml.Node, path, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	d.warnings = append(d.warnings, Diagnostic{File: d.file, Line: line, Col: col, Path: path, Message: fmt.Sprintf(format, args...)})
}
