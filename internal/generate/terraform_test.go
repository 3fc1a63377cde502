package generate

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/webhookq/webhookq/internal/generate/bundle"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// TestTerraformValidatesGoldenCases runs the real terraform (init from the
// provider mirror, then validate) on the module with each golden case's
// generated files and placeholder zips. The terraform helper's
// `terraform test` files assert the plan; this test checks that every case's
// output is a valid configuration of the module.
func TestTerraformValidatesGoldenCases(t *testing.T) {
	bin, _ := testenv.Terraform(t)
	root := testenv.RepoRoot(t)
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			files, err := Files(loadCase(t, name))
			if err != nil {
				t.Fatal(err)
			}
			source, err := os.ReadFile(filepath.Join("testdata", name, "routes.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			for _, fn := range bundle.Functions {
				zip, err := bundle.Zip([]byte("placeholder bootstrap"), source)
				if err != nil {
					t.Fatal(err)
				}
				files[bundle.ZipPath(fn)] = zip
			}
			stage := t.TempDir()
			if err := StageTerraform(stage, root, files); err != nil {
				t.Fatal(err)
			}
			diags, err := ValidateTerraform(context.Background(), bin, stage, testenv.ProviderMirror)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range diags {
				if d.Severity == "error" {
					t.Error(d)
				} else {
					t.Log(d)
				}
			}
		})
	}
}

func TestTerraformDiagnosticString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    TerraformDiagnostic
		want string
	}{
		{TerraformDiagnostic{Severity: "error", Summary: "Unsupported argument", Detail: "An argument named \"x\" is not expected here.", File: "terraform/queue.tf", Line: 12},
			`terraform/queue.tf:12: Unsupported argument: An argument named "x" is not expected here.`},
		{TerraformDiagnostic{Severity: "warning", Summary: "Deprecated attribute", File: "terraform/functions.tf", Line: 3},
			"terraform/functions.tf:3: warning: Deprecated attribute"},
		{TerraformDiagnostic{Severity: "error", Summary: "Module not installed"},
			"terraform: Module not installed"},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
