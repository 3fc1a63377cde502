package tfgen

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// TestTerraformModule renders the module with each configuration's locals and
// checks it with the real terraform binary and AWS provider: init from the
// local mirror, validate, fmt, and terraform test against a mocked provider
// (terraform/tests/*.tftest.hcl assert the wiring of the plan).
func TestTerraformModule(t *testing.T) {
	bin, tfEnv := testenv.Terraform(t)
	cases := []struct {
		name string
		cfg  *config.Config
	}{
		{"example-existing-api", exampleConfig(t)},
		{"created-api", createdAPIConfig(t)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, runs := renderModule(t, tc.cfg)
			tf, err := tfexec.NewTerraform(dir, bin)
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			for _, kv := range os.Environ() {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			for k, v := range tfEnv {
				env[k] = v
			}
			if err := tf.SetEnv(tfexec.CleanEnv(env)); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()

			if err := tf.Init(ctx, tfexec.Backend(false)); err != nil {
				t.Fatalf("terraform init: %v", err)
			}

			out, err := tf.Validate(ctx)
			if err != nil {
				t.Fatalf("terraform validate: %v", err)
			}
			for _, d := range out.Diagnostics {
				where := ""
				if d.Range != nil {
					where = fmt.Sprintf("%s:%d:%d: ", d.Range.Filename, d.Range.Start.Line, d.Range.Start.Column)
				}
				t.Errorf("terraform validate: %s%s: %s: %s", where, d.Severity, d.Summary, d.Detail)
			}
			if !out.Valid {
				t.Fatal("terraform validate: configuration is not valid")
			}

			ok, unformatted, err := tf.FormatCheck(ctx, tfexec.Recursive(true))
			if err != nil {
				t.Fatalf("terraform fmt: %v", err)
			}
			if !ok {
				t.Errorf("terraform fmt -check: not formatted: %v", unformatted)
			}

			var log bytes.Buffer
			testErr := tf.Test(ctx, &log)
			summary, messages := readTestLog(t, log.Bytes())
			if testErr != nil || summary.Status != "pass" {
				t.Fatalf("terraform test: %v, status %q\n%s", testErr, summary.Status, strings.Join(messages, "\n"))
			}
			// Every run block ran and passed: a file that silently stopped
			// being picked up would show here.
			if summary.Passed != runs || summary.Failed+summary.Errored+summary.Skipped != 0 {
				t.Fatalf("terraform test: %d passed, %d failed, %d errored, %d skipped; want %d passed\n%s",
					summary.Passed, summary.Failed, summary.Errored, summary.Skipped, runs, strings.Join(messages, "\n"))
			}
		})
	}
}

type testSummary struct {
	Status  string `json:"status"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Errored int    `json:"errored"`
	Skipped int    `json:"skipped"`
}

// readTestLog reads terraform test -json output: the summary line and every
// message, for the failure report.
func readTestLog(t *testing.T, log []byte) (testSummary, []string) {
	t.Helper()
	var summary testSummary
	var messages []string
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var line struct {
			Message    string       `json:"@message"`
			Summary    *testSummary `json:"test_summary"`
			Diagnostic *struct {
				Summary string `json:"summary"`
				Detail  string `json:"detail"`
				Range   *struct {
					Filename string `json:"filename"`
					Start    struct {
						Line int `json:"line"`
					} `json:"start"`
				} `json:"range"`
			} `json:"diagnostic"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			messages = append(messages, sc.Text())
			continue
		}
		if line.Summary != nil {
			summary = *line.Summary
		}
		msg := line.Message
		if d := line.Diagnostic; d != nil {
			if d.Range != nil {
				msg = fmt.Sprintf("%s:%d: %s: %s", d.Range.Filename, d.Range.Start.Line, d.Summary, d.Detail)
			} else {
				msg = d.Summary + ": " + d.Detail
			}
		}
		messages = append(messages, msg)
	}
	return summary, messages
}

// renderModule lays out what terraform apply sees after cmd/generate, in a
// temp folder: terraform/ (the hand-written files, the tests, and
// generated.tf.json for cfg), the routes' workflows built by internal/generate/asl, and
// placeholder dist/*.zip. It
// returns the terraform folder and the number of run blocks in its tests.
func renderModule(t *testing.T, cfg *config.Config) (string, int) {
	t.Helper()
	src := filepath.Join(testenv.RepoRoot(t), "terraform")
	root := t.TempDir()
	dir := filepath.Join(root, "terraform")
	copyGlob(t, filepath.Join(src, "*.tf"), dir)
	copyGlob(t, filepath.Join(src, "tests", "mocks", "*.tfmock.hcl"), filepath.Join(dir, "tests", "mocks"))
	// existing_api.tftest.hcl checks the lookup of an existing API; a
	// configuration that creates its API has no lookup to check.
	tests, err := filepath.Glob(filepath.Join(src, "tests", "*.tftest.hcl"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no terraform tests in %s (%v)", src, err)
	}
	runs := 0
	for _, f := range tests {
		if cfg.Ingress.CreatesAPI() && filepath.Base(f) == "existing_api.tftest.hcl" {
			continue
		}
		b := copyFile(t, f, filepath.Join(dir, "tests"))
		runs += bytes.Count(b, []byte("\nrun \""))
	}

	workflows := workflowFiles(cfg)
	locals, err := Locals(cfg, workflows)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "generated.tf.json"), locals)
	for _, r := range cfg.Routes {
		wf, err := asl.Marshal(asl.Build(cfg, r))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, workflows[r.Name]), wf)
	}
	for _, fn := range config.Functions {
		write(t, filepath.Join(root, "dist", fn+".zip"), placeholderZip(t))
	}
	return dir, runs
}

// placeholderZip is a deployment zip with an empty bootstrap; cmd/generate
// builds the real ones, terraform only hashes them here.
func placeholderZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if _, err := zw.Create("bootstrap"); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func copyGlob(t *testing.T, pattern, dstDir string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s (%v)", pattern, err)
	}
	for _, f := range files {
		copyFile(t, f, dstDir)
	}
}

func copyFile(t *testing.T, src, dstDir string) []byte {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dstDir, filepath.Base(src)), b)
	return b
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
