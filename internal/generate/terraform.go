package generate

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// TerraformDiagnostic is one problem terraform validate reported.
type TerraformDiagnostic struct {
	Severity string
	Summary  string
	Detail   string
	// File and Line locate it, relative to the staged repository root
	// ("terraform/main.tf"); empty and zero when Terraform gave no range.
	File string
	Line int
}

// String is "file:line: summary: detail", with "warning: " before the
// summary of anything that is not an error.
func (d TerraformDiagnostic) String() string {
	where := "terraform"
	if d.File != "" {
		where = fmt.Sprintf("%s:%d", d.File, d.Line)
	}
	s := where + ": " + d.Summary
	if d.Severity != "error" {
		s = where + ": " + d.Severity + ": " + d.Summary
	}
	if d.Detail != "" {
		s += ": " + d.Detail
	}
	return s
}

// StageTerraform lays out dst like a repository checkout for Terraform: the
// hand-written module (root/terraform/*.tf) and files (paths relative to the
// repository root: the generated workflows and locals, the zips). Terraform
// then runs in dst/terraform without touching the repository.
func StageTerraform(dst, root string, files map[string][]byte) error {
	module, err := filepath.Glob(filepath.Join(root, "terraform", "*.tf"))
	if err != nil {
		return err
	}
	if len(module) == 0 {
		return fmt.Errorf("no Terraform module in %s", filepath.Join(root, "terraform"))
	}
	for _, p := range module {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := writeStaged(dst, "terraform/"+filepath.Base(p), data); err != nil {
			return err
		}
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if err := writeStaged(dst, p, files[p]); err != nil {
			return err
		}
	}
	return nil
}

func writeStaged(dst, rel string, data []byte) error {
	p := filepath.Join(dst, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// ValidateTerraform runs terraform init (providers only from pluginDir when it
// is set, no backend) and terraform validate in root/terraform, and returns
// validate's diagnostics. An error means Terraform could not run at all; a
// failed init is reported with Terraform's own message.
func ValidateTerraform(ctx context.Context, terraformBin, root, pluginDir string) ([]TerraformDiagnostic, error) {
	tf, err := tfexec.NewTerraform(filepath.Join(root, "terraform"), terraformBin)
	if err != nil {
		return nil, err
	}
	opts := []tfexec.InitOption{tfexec.Backend(false)}
	if pluginDir != "" {
		opts = append(opts, tfexec.PluginDir(pluginDir))
	}
	if err := tf.Init(ctx, opts...); err != nil {
		return nil, fmt.Errorf("terraform init: %w", err)
	}
	out, err := tf.Validate(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform validate: %w", err)
	}
	var diags []TerraformDiagnostic
	for _, d := range out.Diagnostics {
		td := TerraformDiagnostic{Severity: string(d.Severity), Summary: d.Summary, Detail: d.Detail}
		if d.Range != nil {
			td.File, td.Line = "terraform/"+filepath.ToSlash(d.Range.Filename), d.Range.Start.Line
		}
		diags = append(diags, td)
	}
	return diags, nil
}
