package generate

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/bundle"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/tfrun"
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
			for _, fn := range config.Functions {
				zip, err := bundle.Zip([]byte("placeholder bootstrap"), source)
				if err != nil {
					t.Fatal(err)
				}
				files[bundle.ZipPath(fn)] = zip
			}
			stage := t.TempDir()
			if err := tfrun.Stage(stage, root, files); err != nil {
				t.Fatal(err)
			}
			diags, err := tfrun.Validate(context.Background(), bin, stage, testenv.ProviderMirror)
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
