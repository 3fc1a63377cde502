package config

import (
	"strings"
	"testing"
)

// TestPrivateTargetWarnings: a target host deliver cannot reach from outside
// a VPC is warned about, where it is written, unless target.vpc is set; a
// loopback host is warned about even then (on AWS it is the function
// itself); public hosts are not warned about.
func TestPrivateTargetWarnings(t *testing.T) {
	t.Parallel()
	const vpc = "  vpc:\n    subnet_ids: [subnet-0123456789abcdef0]\n    security_group_ids: [sg-0123456789abcdef0]\n"
	cases := []struct {
		host    string
		withVPC bool
		want    string // a fragment of the one warning, "" for none
	}{
		{"app.example.com", false, ""},
		{"203.0.113.7", false, ""},
		{"[2001:db8::1]", false, ""},
		{"sales-support.internal.example.com", false, `host sales-support.internal.example.com looks private (an "internal" label`},
		{"orders.internal", false, "host orders.internal looks private (.internal is reserved"},
		{"ORDERS.INTERNAL.", false, "host ORDERS.INTERNAL. looks private (.internal is reserved"},
		{"printer.local", false, "host printer.local looks private (.local is multicast DNS"},
		{"nas.home.arpa", false, "looks private (.home.arpa"},
		{"orders", false, "host orders looks private (a name without a dot"},
		{"10.0.12.4", false, "host 10.0.12.4 looks private (a private address"},
		{"172.31.0.9", false, "looks private (a private address"},
		{"192.168.1.20", false, "looks private (a private address"},
		{"100.64.3.1", false, "looks private (a shared address"},
		{"169.254.169.254", false, "looks private (a link-local address"},
		{"[fd12:3456::1]", false, "host fd12:3456::1 looks private (a private address"},
		{"[fe80::1]", false, "looks private (a link-local address"},
		{"[::ffff:10.1.2.3]", false, "host ::ffff:10.1.2.3 looks private (a private address"},
		{"10.0.12.4", true, ""},
		{"orders.internal", true, ""},
		{"127.0.0.1", false, "host 127.0.0.1: a loopback address is, on AWS, the deliver function itself; such a target works only on the local twin"},
		{"127.0.0.1", true, "host 127.0.0.1: a loopback address"},
		{"[::1]", true, "host ::1: a loopback address"},
		{"localhost", true, "host localhost: localhost is, on AWS, the deliver function itself"},
		{"api.localhost", false, "host api.localhost: localhost is"},
	}
	for _, tc := range cases {
		scheme := "https"
		if strings.Contains(tc.host, "127.0.0.1") || tc.host == "[::1]" || tc.host == "localhost" {
			scheme = "http"
		}
		src := head + "target:\n  base_url: " + scheme + "://" + tc.host + "\n"
		if tc.withVPC {
			src += vpc
		}
		cfg, err := Parse("w.yaml", []byte(src))
		if err != nil {
			t.Errorf("%s: %v", tc.host, err)
			continue
		}
		if tc.want == "" {
			if len(cfg.Warnings) != 0 {
				t.Errorf("%s (vpc %v): unexpected warnings:\n%v", tc.host, tc.withVPC, cfg.Warnings)
			}
			continue
		}
		if len(cfg.Warnings) != 1 {
			t.Errorf("%s (vpc %v): %d warnings, want 1: %v", tc.host, tc.withVPC, len(cfg.Warnings), cfg.Warnings)
			continue
		}
		got := cfg.Warnings[0].String()
		if !strings.HasPrefix(got, "w.yaml:9:13: target.base_url: ") || !strings.Contains(got, tc.want) {
			t.Errorf("%s (vpc %v): warning\n  %s\nwant at w.yaml:9:13, target.base_url, containing\n  %s", tc.host, tc.withVPC, got, tc.want)
		}
	}
}

// TestPrivateTargetWarningsPerRoute: a route's own target_url is checked
// where it is written; the base URL only when some route uses it.
func TestPrivateTargetWarningsPerRoute(t *testing.T) {
	t.Parallel()
	src := `service: shop
region: us-east-1
target:
  base_url: https://orders.internal
routes:
  - name: a
    path: /a
    group: static:a
    target_url: https://10.1.2.3/hooks/a
    verify: {scheme: none, reason: test}
  - name: b
    path: /b
    group: static:b
    target_url: https://public.example.com/b
    verify: {scheme: none, reason: test}
`
	cfg, err := Parse("r.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0].String(), "r.yaml:9:17: routes[0].target_url: host 10.1.2.3 looks private") {
		t.Errorf("warnings %v; want only routes[0].target_url's (no route uses the base URL)", cfg.Warnings)
	}
}

// TestExampleWarnsAboutItsInternalTarget: the example's application is
// internal and the example sets no VPC (its ids would be someone else's), so
// generating it says what to add.
func TestExampleWarnsAboutItsInternalTarget(t *testing.T) {
	t.Parallel()
	cfg, err := Load("../../config/routes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Path != "target.base_url" || !strings.Contains(cfg.Warnings[0].Message, "set target.vpc") {
		t.Errorf("example warnings %v; want one on target.base_url asking for target.vpc", cfg.Warnings)
	}
}
