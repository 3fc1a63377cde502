package delivery

import (
	"bytes"
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/testkit/emfcheck"
)

// Every attempt's EMF line parses as EMF and says what happened: a failed
// attempt counts once under its route and class, an attempt the target
// answered (whatever it answered) records the target's response time, and a
// delivered one records no failure.
func TestAttemptMetrics(t *testing.T) {
	t.Parallel()
	refusedRT := roundTrip(func(*http.Request) (*http.Response, error) { return nil, refused })
	tests := []struct {
		name     string
		rt       http.RoundTripper
		tweak    func(*config.Config)
		class    metrics.Class // "" for a delivered attempt
		answered bool
	}{
		{"200", answer(200, nil, "ok"), nil, "", true},
		{"404", answer(404, nil, ""), nil, metrics.ClassClientError, true},
		{"429", answer(429, nil, ""), nil, metrics.ClassThrottled, true},
		{"503", answer(503, nil, ""), nil, metrics.ClassServerError, true},
		{"408", answer(408, nil, ""), nil, metrics.ClassTimeout, true},
		{"no answer in time", hang, nil, metrics.ClassTimeout, false},
		{"connection refused", refusedRT, nil, metrics.ClassConnection, false},
		{"302", answer(302, http.Header{"Location": {"https://elsewhere.test/"}}, ""), nil, metrics.ClassRedirect, true},
		{"invalid signature", answer(200, nil, ""), func(c *config.Config) {
			ref := config.SecretRef{Env: "GH"}
			c.Routes[0].Verify = &config.Verify{Scheme: config.VerifyGitHub, Secret: ref}
			c.Routes[0].Headers = append(c.Routes[0].Headers, "X-Hub-Signature-256")
		}, metrics.ClassSignature, false},
		{"secret unreadable", answer(200, nil, ""), func(c *config.Config) {
			c.Target.Signing = &config.SecretRef{SSMParameter: "/missing"}
		}, metrics.ClassNotSent, false},
		{"invalid target", answer(200, nil, ""), func(c *config.Config) { c.Routes[0].TargetURL = "ftp://x.test/" }, metrics.ClassNotSent, false},
	}
	seen := map[metrics.Class]bool{}
	for _, tt := range tests {
		seen[tt.class] = true
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig("https://target.test", allOutcomes)
			cfg.Routes[0].Timeout = 50 * time.Millisecond
			if tt.tweak != nil {
				tt.tweak(cfg)
			}
			var out bytes.Buffer
			emf, err := metrics.NewEMF(&out, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			secrets := &fakeSecrets{values: map[config.SecretRef]string{{Env: "GH"}: "s3cret"}}
			d := newDeliverer(t, cfg, tt.rt, func(c *Config) { c.Metrics = emf; c.Secrets = secrets })
			req := request(`{"id":1}`, 0)
			req.Webhook.Headers["X-Hub-Signature-256"] = "sha256=00"
			_, _ = d.Handle(context.Background(), req)

			data, err := emfcheck.ParseLines(out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range data {
				if d.Namespace != "webhookq/svc" || d.Dimensions["Route"] != "orders" || len(d.Values) != 1 {
					t.Errorf("datum %+v", d)
				}
				switch d.Name {
				case "FailedAttempts":
					got = append(got, "FailedAttempts/"+d.Dimensions["Class"])
					if d.Values[0] != 1 || d.Unit != "Count" {
						t.Errorf("FailedAttempts %v %s", d.Values, d.Unit)
					}
				case "TargetResponseTime":
					got = append(got, "TargetResponseTime")
					if d.Values[0] < 0 || d.Unit != "Milliseconds" {
						t.Errorf("TargetResponseTime %v %s", d.Values, d.Unit)
					}
				default:
					got = append(got, d.Name)
				}
			}
			var want []string
			if tt.class != "" {
				want = append(want, "FailedAttempts/"+string(tt.class))
			}
			if tt.answered {
				want = append(want, "TargetResponseTime")
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("metrics %v, want %v\n%s", got, want, out.String())
			}
		})
	}
	for _, c := range metrics.Classes {
		if !seen[c.Class] {
			t.Errorf("class %s is not exercised", c.Class)
		}
	}
}
