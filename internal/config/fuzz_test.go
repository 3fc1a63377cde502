package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse proves Parse never panics or hangs on any input, and that what it
// returns is coherent: either a Config that satisfies the invariants the
// other packages rely on, or positioned diagnostics, one line each.
func FuzzParse(f *testing.F) {
	for _, path := range validConfigs(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range badCases {
		f.Add([]byte(tc.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			var diags Diagnostics
			if !errors.As(err, &diags) || len(diags) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty Diagnostics", err, err)
			}
			if c != nil {
				t.Fatalf("a Config came back with diagnostics")
			}
			for _, d := range diags {
				if d.File != "fuzz.yaml" || d.Line < 1 || d.Col < 1 || d.Message == "" {
					t.Fatalf("diagnostic without a position or message: %+v", d)
				}
			}
			if lines := strings.Count(err.Error(), "\n") + 1; lines < len(diags) {
				t.Fatalf("%d diagnostics printed on %d lines", len(diags), lines)
			}
			return
		}
		if c.Service == "" || c.Region == "" || len(c.Routes) == 0 {
			t.Fatalf("valid config without service, region or routes: %+v", c)
		}
		b := ComputeBudget(c)
		if b.WorstExecution >= ExpressMaxDuration || b.ForwardTimeout > LambdaMaxTimeout || b.VisibilityTimeout > SQSMaxVisibility {
			t.Fatalf("valid config with a budget past AWS limits: %+v", b)
		}
		names := map[string]bool{}
		for _, r := range c.Routes {
			if r.Name == "" || names[r.Name] || !strings.HasPrefix(r.Path, "/") || checkURL(r.TargetURL, true) != "" {
				t.Fatalf("valid config with a bad route: %+v", r)
			}
			names[r.Name] = true
			if len(c.StateMachineName(r)) > 80 || len(r.Headers) > MaxCarriedHeaders {
				t.Fatalf("valid route past AWS limits: %+v", r)
			}
		}
		if len(c.DLQName()) > 80 || len(c.FunctionName("forward")) > 64 {
			t.Fatalf("valid service name past AWS limits: %q", c.Service)
		}
	})
}
