package asl

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// runASLValidator runs npm asl-validator on the files, in one process, and
// returns its exit code and combined output.
func runASLValidator(t *testing.T, files []string) (int, string) {
	t.Helper()
	args := make([]string, 0, 2*len(files))
	for _, f := range files {
		args = append(args, "--json-path", f)
	}
	cmd := exec.Command(testenv.NodeTool(t, "asl-validator"), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	default:
		t.Fatalf("asl-validator: %v\n%s", err, out.String())
		return 0, ""
	}
}

// TestASLValidatorAcceptsBuiltWorkflows checks every workflow Build produces,
// as committed (with the templatefile placeholders) and as Terraform renders it.
func TestASLValidatorAcceptsBuiltWorkflows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var files []string
	for name, cfg := range buildCases(t) {
		for _, r := range cfg.Routes {
			sm := Build(cfg, r)
			template, err := Marshal(sm)
			if err != nil {
				t.Fatal(err)
			}
			for kind, def := range map[string][]byte{"template": template, "rendered": render(t, sm)} {
				f := filepath.Join(dir, name+"-"+r.Name+"-"+kind+".asl.json")
				if err := os.WriteFile(f, def, 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
		}
	}
	code, out := runASLValidator(t, files)
	if code != 0 {
		t.Fatalf("asl-validator exit %d:\n%s", code, out)
	}
	for _, f := range files {
		if !strings.Contains(out, `"`+f+`" is valid`) {
			t.Errorf("asl-validator did not report %s valid:\n%s", f, out)
		}
	}
}

// TestASLValidatorRejectsBrokenWorkflow shows the tool really checks: a
// built workflow whose Catch leads nowhere is refused, by it and by Validate.
func TestASLValidatorRejectsBrokenWorkflow(t *testing.T) {
	t.Parallel()
	cfg := exampleConfig()
	sm := Build(cfg, cfg.Routes[0])
	deliver := sm.States[StateDeliver]
	deliver.Catch = []Catcher{{ErrorEquals: []string{ErrorAll}, ResultPath: PathOf(PathError), Next: "Nowhere"}}
	sm.States[StateDeliver] = deliver
	if Validate(sm) == nil {
		t.Error("Validate accepted a Catch to a missing state")
	}
	b, err := Marshal(sm)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "broken.asl.json")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runASLValidator(t, []string{f})
	if code != 1 || !strings.Contains(out, "Nowhere") {
		t.Fatalf("asl-validator exit %d, want 1 naming the missing state:\n%s", code, out)
	}
}
