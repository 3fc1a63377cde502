package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin"
)

// verifySecret is the example routes' inbound verification secret, as the
// twin reads it and as the check reads it to sign its probes.
const verifySecret = "workflow-saas-shared-secret"

// startTwin runs the local twin with the example routes, every target
// pointed at a local server that counts what it receives.
func startTwin(t *testing.T) (*twin.Twin, *config.Config, string, *atomic.Int32) {
	t.Helper()
	root := testenv.RepoRoot(t)
	cfgPath := filepath.Join(root, "config", "routes.yaml")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var received atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { received.Add(1) }))
	t.Cleanup(target.Close)
	for _, r := range cfg.Routes {
		if r.Verify != nil && r.Verify.Secret.SSMParameter != "" {
			t.Setenv(twin.SecretEnvName(r.Verify.Secret), verifySecret)
		}
	}
	tw, err := twin.Start(twin.Options{
		Config: cfg, WorkflowsDir: filepath.Join(root, "workflows"), DataPath: filepath.Join(t.TempDir(), "twin.db"),
		Addr: "127.0.0.1:0", ControlAddr: "127.0.0.1:0", TargetOverride: target.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = tw.Shutdown(ctx)
	})
	return tw, cfg, cfgPath, &received
}

func runCheck(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestCheckPassesOnTheTwin: against a running twin every route's probe
// travels ingress → queue → mapping → forward → workflow → deliver and
// comes back answered, with its target reachable; what the twin does not
// have is skipped; the application receives nothing.
func TestCheckPassesOnTheTwin(t *testing.T) {
	tw, cfg, cfgPath, received := startTwin(t)
	code, out, errOut := runCheck(t, "--local", tw.ControlURL, "--ingress-url", tw.IngressURL, "--config", cfgPath, "--wait", "60s")
	if code != exitOK {
		t.Fatalf("exit %d, want %d:\n%s\n%s", code, exitOK, out, errOut)
	}
	for _, r := range cfg.Routes {
		for _, want := range []string{
			`(?m)^PASS  route ` + r.Name + `: probe through the pipeline: probe [0-9a-f]{16} answered by deliver after .*→ ` + cfg.StateMachineName(r) + ` → deliver, nothing delivered$`,
			`(?m)^PASS  route ` + r.Name + `: target reachable from deliver: 127\.0\.0\.1:\d+: dns \d+ms \(an IP address, nothing to resolve\); tcp \d+ms \(connected to 127\.0\.0\.1:\d+\)$`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		}
	}
	for _, want := range []string{
		"PASS  event source mapping (queue → forward): " + tw.MappingUUID + " is Enabled",
		"SKIP  API stage: the local twin has no API Gateway",
		"SKIP  alarms: the local twin has no alarms",
		"PASS  function log groups: /aws/lambda/" + cfg.FunctionName("forward"),
		"all 6 checks passed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := received.Load(); n != 0 {
		t.Errorf("the application received %d requests; the check sends it none", n)
	}
}

// TestCheckFailsWhenTheMappingIsPaused: a paused mapping fails the check
// with the command that resumes it, and the probe that cannot get through
// is traced: it never reached forward.
func TestCheckFailsWhenTheMappingIsPaused(t *testing.T) {
	tw, cfg, cfgPath, _ := startTwin(t)
	mappings := lambda.NewFromConfig(testenv.AWSConfig(tw.ControlURL, cfg.Region))
	if _, err := mappings.UpdateEventSourceMapping(context.Background(), &lambda.UpdateEventSourceMappingInput{UUID: aws.String(tw.MappingUUID), Enabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	// A long poll under way keeps it Disabling for up to a second.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		m, err := mappings.GetEventSourceMapping(context.Background(), &lambda.GetEventSourceMappingInput{UUID: aws.String(tw.MappingUUID)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(m.State) == "Disabled" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mapping is still %s", aws.ToString(m.State))
		}
	}
	route := cfg.Routes[0].Name
	code, out, errOut := runCheck(t, "--local", tw.ControlURL, "--ingress-url", tw.IngressURL, "--config", cfgPath, "--route", route, "--wait", "3s")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d:\n%s\n%s", code, exitFailed, out, errOut)
	}
	for _, want := range []string{
		"FAIL  event source mapping (queue → forward): " + tw.MappingUUID + " is Disabled",
		"→ resume it on the twin's web page, or: aws lambda update-event-source-mapping --endpoint-url <control URL> --uuid " + tw.MappingUUID + " --enabled",
		"FAIL  route " + route + ": probe through the pipeline: no answer from deliver within 3s for probe ",
		"→ forward never logged webhook ",
		"SKIP  route " + route + ": target reachable from deliver: not probed",
		"checks failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestCheckUsage: bad flags are usage errors; no reachable deployment is
// "could not run".
func TestCheckUsage(t *testing.T) {
	t.Parallel()
	if code, _, errOut := runCheck(t, "--wait", "10ms"); code != exitUsage || !strings.Contains(errOut, "--wait must be at least 1s") {
		t.Errorf("--wait 10ms: exit %d, %q", code, errOut)
	}
	if code, _, _ := runCheck(t, "extra"); code != exitUsage {
		t.Errorf("an argument: exit %d, want %d", code, exitUsage)
	}
	cfgPath := filepath.Join(testenv.RepoRoot(t), "config", "routes.yaml")
	if code, _, errOut := runCheck(t, "--local", "http://127.0.0.1:1", "--config", cfgPath); code != exitCannot || !strings.Contains(errOut, "is go run ./cmd/local running") {
		t.Errorf("no twin: exit %d, %q", code, errOut)
	}
	if code, out, _ := runCheck(t, "-h"); code != exitOK || out != "" {
		t.Errorf("-h: exit %d, stdout %q", code, out)
	}
}
