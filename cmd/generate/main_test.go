package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate"
	"github.com/webhookq/webhookq/internal/generate/bundle"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// workspace is a temporary repository root holding a copy of the example
// routes.yaml, for running the CLI in-process.
func workspace(t *testing.T) (root, configPath string) {
	t.Helper()
	root = t.TempDir()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "config", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	configPath = filepath.Join(root, "config", "routes.yaml")
	mustWrite(t, configPath, src)
	return root, configPath
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheckReportsStaleMissingAndRemovedFiles(t *testing.T) {
	t.Parallel()
	root, cfg := workspace(t)
	if code, _, stderr := runCLI(t, "-config", cfg, "-out", root, "-skip-build", "-quiet"); code != exitOK {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	if code, stdout, _ := runCLI(t, "-config", cfg, "-out", root, "-check", "-quiet"); code != exitOK || stdout != "" {
		t.Fatalf("check right after generate: exit %d, output %q", code, stdout)
	}
	// Atomic writes leave no temporary files behind.
	for _, dir := range []string{"workflows", "terraform"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("%s/%s left behind", dir, e.Name())
			}
		}
	}

	// A hand edit makes a workflow stale.
	wf := filepath.Join(root, "workflows", "approval-progress.asl.json")
	orig, err := os.ReadFile(wf)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(orig, []byte(`"StartAt": "Deliver"`), []byte(`"StartAt": "Edited"`), 1)
	if bytes.Equal(edited, orig) {
		t.Fatal("test setup: the workflow has no StartAt Deliver line to edit")
	}
	mustWrite(t, wf, edited)
	// The locals file goes missing.
	locals := filepath.Join(root, filepath.FromSlash(generate.TerraformLocalsPath))
	if err := os.Remove(locals); err != nil {
		t.Fatal(err)
	}
	// A route was removed: its generated workflow is stale; a hand-written
	// file beside it is not generate's to judge.
	mustWrite(t, filepath.Join(root, "workflows", "old-route.asl.json"), orig)
	hand := filepath.Join(root, "workflows", "hand-written.asl.json")
	mustWrite(t, hand, []byte(`{"Comment": "mine", "StartAt": "A", "States": {}}`))

	code, stdout, _ := runCLI(t, "-config", cfg, "-out", root, "-check")
	if code != exitInvalid {
		t.Errorf("check on stale files: exit %d, want %d", code, exitInvalid)
	}
	for _, want := range []string{
		"workflows/approval-progress.asl.json: stale\n",
		"--- a/workflows/approval-progress.asl.json\n+++ b/workflows/approval-progress.asl.json\n",
		"-  \"StartAt\": \"Edited\",\n+  \"StartAt\": \"Deliver\",\n",
		"terraform/generated.tf.json: missing\n",
		"workflows/old-route.asl.json: no longer generated",
		// The closing line names them all: the diffs above may be long.
		"3 generated file(s) stale: terraform/generated.tf.json (missing), workflows/approval-progress.asl.json, workflows/old-route.asl.json (no longer generated)\n" +
			"run go run ./cmd/generate and commit the result\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "hand-written") {
		t.Errorf("check reported the hand-written file:\n%s", stdout)
	}
	if _, err := os.Stat(locals); !os.IsNotExist(err) {
		t.Errorf("check wrote %s", locals)
	}
	if got, _ := os.ReadFile(wf); !bytes.Equal(got, edited) {
		t.Error("check rewrote a stale workflow")
	}

	// Generating repairs everything, deletes only the generated leftover.
	if code, _, stderr := runCLI(t, "-config", cfg, "-out", root, "-skip-build", "-quiet"); code != exitOK {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "workflows", "old-route.asl.json")); !os.IsNotExist(err) {
		t.Error("the stale generated workflow was not deleted")
	}
	if _, err := os.Stat(hand); err != nil {
		t.Errorf("the hand-written file is gone: %v", err)
	}
	if code, stdout, _ := runCLI(t, "-config", cfg, "-out", root, "-check", "-quiet"); code != exitOK {
		t.Errorf("check after regenerating: exit %d\n%s", code, stdout)
	}
	if _, err := os.Stat(filepath.Join(root, "dist")); !os.IsNotExist(err) {
		t.Error("-skip-build or -check created dist/")
	}
}

func TestInvalidConfigWritesNothing(t *testing.T) {
	t.Parallel()
	root, cfg := workspace(t)
	src, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(src, []byte("  max_attempts: 5\n"), []byte("  max_atempts: 5\n  backoff_rate: fast\n"), 1)
	mustWrite(t, cfg, bad)
	code, stdout, stderr := runCLI(t, "-config", cfg, "-out", root, "-skip-build")
	if code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
	// Every problem, each pinned to file:line:col.
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(regexp.QuoteMeta(cfg) + `:\d+:\d+: retry.max_atempts: .*did you mean "max_attempts"`),
		regexp.MustCompile(regexp.QuoteMeta(cfg) + `:\d+:\d+: retry.backoff_rate: `),
	} {
		if !want.MatchString(stderr) {
			t.Errorf("stderr lacks %s:\n%s", want, stderr)
		}
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	for _, dir := range []string{"workflows", "terraform", "dist"} {
		if _, err := os.Stat(filepath.Join(root, dir)); !os.IsNotExist(err) {
			t.Errorf("%s was created for an invalid config", dir)
		}
	}
}

func TestEnvSecretReferencesAreWarnedAbout(t *testing.T) {
	t.Parallel()
	root, cfg := workspace(t)
	src, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	twinOnly := bytes.Replace(src, []byte("ssm_parameter: /sales-approvals/slack-webhook-url"), []byte("env: SLACK_WEBHOOK_URL"), 1)
	if bytes.Equal(twinOnly, src) {
		t.Fatal("the example no longer references the Slack URL in SSM; adapt the test")
	}
	mustWrite(t, cfg, twinOnly)
	code, _, stderr := runCLI(t, "-config", cfg, "-out", root, "-skip-build", "-quiet")
	if code != exitOK {
		t.Fatalf("exit %d, want %d (a warning only):\n%s", code, exitOK, stderr)
	}
	if !strings.Contains(stderr, "warning: "+cfg+": notify.slack_webhook_url reads the environment variable SLACK_WEBHOOK_URL") {
		t.Errorf("stderr lacks the warning about the env reference:\n%s", stderr)
	}
	if strings.Count(stderr, "reads the environment variable") != 1 {
		t.Errorf("want exactly one env warning (the other secrets are in SSM):\n%s", stderr)
	}
}

// TestPrivateTargetIsWarnedAbout: the example's internal target without a
// VPC is a warning with its place in routes.yaml; generation goes on.
func TestPrivateTargetIsWarnedAbout(t *testing.T) {
	t.Parallel()
	root, cfg := workspace(t)
	code, _, stderr := runCLI(t, "-config", cfg, "-out", root, "-skip-build", "-quiet")
	if code != exitOK {
		t.Fatalf("exit %d, want %d (a warning only):\n%s", code, exitOK, stderr)
	}
	want := regexp.MustCompile(`(?m)^generate: warning: ` + regexp.QuoteMeta(cfg) + `:\d+:\d+: target\.base_url: host sales-support\.internal\.example\.com looks private .*set target\.vpc`)
	if !want.MatchString(stderr) {
		t.Errorf("stderr lacks the private-target warning at target.base_url:\n%s", stderr)
	}
}

// docs/deploy.md's first deploy stores the example's secrets with the
// commands the summary prints for it: the same parameters, type and region (a
// parameter created in the CLI's default region is not one the functions find).
func TestDeployDocStoresTheSummarysSecrets(t *testing.T) {
	t.Parallel()
	root, cfg := workspace(t)
	code, stdout, stderr := runCLI(t, "-config", cfg, "-out", root, "-skip-build")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^\s+aws ssm put-parameter (--region \S+ --type SecureString --name \S+) --value `).FindAllStringSubmatch(stdout, -1) {
		want = append(want, m[1])
	}
	if len(want) == 0 {
		t.Fatalf("the summary prints no aws ssm put-parameter command:\n%s", stdout)
	}
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range regexp.MustCompile(`aws ssm put-parameter (.*?) +--value`).FindAllStringSubmatch(strings.ReplaceAll(string(doc), "\\\n", " "), -1) {
		got = append(got, strings.Join(strings.Fields(m[1]), " "))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("docs/deploy.md stores\n  %s\nthe summary says to create\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// Without an SNS topic the alarms notify no one: cmd/generate says so, even
// with -quiet, and the summary names the dashboard and every alarm.
func TestAlarmsWithoutATopicAreWarnedAbout(t *testing.T) {
	t.Parallel()
	root, cfg := workspace(t)
	code, _, stderr := runCLI(t, "-config", cfg, "-out", root, "-skip-build", "-quiet")
	if code != exitOK {
		t.Fatalf("exit %d, want %d (a warning only):\n%s", code, exitOK, stderr)
	}
	if !strings.Contains(stderr, "warning: "+cfg+": notify.sns_topic_arn is not set, so the 7 alarms (terraform/alarms.tf) notify no one") {
		t.Errorf("stderr lacks the warning about the alarms:\n%s", stderr)
	}
	code, stdout, _ := runCLI(t, "-config", cfg, "-out", root, "-skip-build")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"Dashboard (the dashboard_urls output): https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1#dashboards/dashboard/sales-approvals",
		"Alarms (notify no one: set notify.sns_topic_arn;",
		"sales-approvals-backlog-age",
		"sales-approvals-approval-progress-execution-failures",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}

	src, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	withTopic := bytes.Replace(src, []byte("notify:\n"), []byte("notify:\n  sns_topic_arn: arn:aws:sns:ap-northeast-1:123456789012:webhooks\n"), 1)
	mustWrite(t, cfg, withTopic)
	code, stdout, stderr = runCLI(t, "-config", cfg, "-out", root, "-skip-build")
	if code != exitOK || strings.Contains(stderr, "sns_topic_arn") {
		t.Errorf("exit %d, stderr with a topic set:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "Alarms (notify arn:aws:sns:ap-northeast-1:123456789012:webhooks;") {
		t.Errorf("summary does not name the topic:\n%s", stdout)
	}
}

func TestCommandLineErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-no-such-flag"}, {"extra-argument"}, {"-check=maybe"}} {
		code, _, stderr := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
		if !strings.Contains(stderr, "Exit status:") {
			t.Errorf("%q: usage text with the exit statuses not printed:\n%s", args, stderr)
		}
	}
	if code, _, _ := runCLI(t, "-config", filepath.Join(t.TempDir(), "absent.yaml"), "-check"); code != exitInvalid {
		t.Errorf("missing config: exit %d, want %d", code, exitInvalid)
	}
}

func TestWritable(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"workflows/a.asl.json":        true,
		"terraform/generated.tf.json": true,
		"dist/forward.zip":            true,
		"terraform/main.tf":           false,
		"workflows/a.json":            false,
		"workflows/sub/a.asl.json":    false,
		"../workflows/a.asl.json":     false,
		"config/routes.yaml":          false,
		"dist/notes.txt":              false,
	} {
		if got := writable(p); got != want {
			t.Errorf("writable(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestGenerateBuildsZipsAndSummary runs the whole command: the real functions
// are cross-compiled, each zip carries the config bytes as given, and the
// summary is printed.
func TestGenerateBuildsZipsAndSummary(t *testing.T) {
	t.Parallel()
	root, cfg := workspace(t)
	code, stdout, stderr := runCLI(t, "-config", cfg, "-out", root)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	source, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range config.Functions {
		p := filepath.Join(root, "dist", fn+".zip")
		r, err := zip.OpenReader(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		names := []string{}
		for _, f := range r.File {
			names = append(names, f.Name)
			if f.Name == bundle.ConfigEntry {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(rc)
				rc.Close()
				if !bytes.Equal(got, source) {
					t.Errorf("%s: routes.yaml differs from %s", p, cfg)
				}
			}
		}
		r.Close()
		if strings.Join(names, ",") != "bootstrap,routes.yaml" {
			t.Errorf("%s: entries %q", p, names)
		}
		if !strings.Contains(stdout, "building "+fn) {
			t.Errorf("no progress line for building %s:\n%s", fn, stdout)
		}
	}
	for _, want := range []string{
		"approval-progress   POST /hooks/approval-progress",
		"forward Lambda timeout",
		"queue visibility timeout",
		"Estimated AWS cost per million webhooks in ap-northeast-1: $",
		"Assumes: 4 KiB average body",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if code, out, _ := runCLI(t, "-config", cfg, "-out", root, "-check", "-quiet"); code != exitOK {
		t.Errorf("check after a full generate: exit %d\n%s", code, out)
	}
}

// TestValidateRunsTerraform drives -validate against the real terraform and
// provider mirror, once on the generated output and once with a broken
// module, whose diagnostic must come back as file:line.
func TestValidateRunsTerraform(t *testing.T) {
	testenv.Terraform(t) // fails with an install hint when terraform is absent
	root, cfg := workspace(t)
	module, err := filepath.Glob(filepath.Join(testenv.RepoRoot(t), "terraform", "*.tf"))
	if err != nil || len(module) == 0 {
		t.Fatalf("no Terraform module to copy (%v)", err)
	}
	for _, p := range module {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(root, "terraform", filepath.Base(p)), data)
	}
	args := []string{"-config", cfg, "-out", root, "-skip-build", "-validate", "-plugin-dir", testenv.ProviderMirror}
	code, stdout, stderr := runCLI(t, args...)
	if code != exitOK || !strings.Contains(stdout, "terraform validate: ok") {
		t.Fatalf("-validate: exit %d\n%s\n%s", code, stdout, stderr)
	}

	mustWrite(t, filepath.Join(root, "terraform", "broken.tf"), []byte("output \"broken\" {\n  value = local.no_such_local\n}\n"))
	code, stdout, stderr = runCLI(t, append(args, "-quiet")...)
	if code != exitInvalid {
		t.Errorf("-validate on a broken module: exit %d, want %d\n%s\n%s", code, exitInvalid, stdout, stderr)
	}
	if !strings.Contains(stdout, "terraform/broken.tf:2: Reference to undeclared local value: ") {
		t.Errorf("diagnostic not printed as file:line: summary: detail:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(root, "terraform", ".terraform")); !os.IsNotExist(err) {
		t.Error("-validate initialised Terraform inside the output folder")
	}
}
