// Package tfrun runs the terraform CLI for the commands, always through
// terraform-exec (github.com/hashicorp/terraform-exec), never by hand: it
// stages the hand-written module with generated files in a scratch folder and
// validates it there (cmd/generate -validate, the apply test), and reads an
// applied module's outputs (cmd/redrive --terraform-dir).
package tfrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Find is the terraform binary on PATH; what asks names itself in the error
// (e.g. "-validate", "--terraform-dir").
func Find(what string) (string, error) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		return "", fmt.Errorf("%s needs terraform on PATH (Terraform 1.11): %w", what, err)
	}
	return bin, nil
}

// Diagnostic is one problem terraform validate reported.
type Diagnostic struct {
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
func (d Diagnostic) String() string {
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

// Stage lays out dst like a repository checkout for Terraform: the
// hand-written module (root/terraform/*.tf) and files (paths relative to the
// repository root: the generated workflows and locals, the zips). Terraform
// then runs in dst/terraform without touching the repository.
func Stage(dst, root string, files map[string][]byte) error {
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

// Validate runs terraform init (providers only from pluginDir when it is
// set, no backend) and terraform validate in root/terraform, and returns
// validate's diagnostics. An error means Terraform could not run at all; a
// failed init is reported with Terraform's own message.
func Validate(ctx context.Context, terraformBin, root, pluginDir string) ([]Diagnostic, error) {
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
	var diags []Diagnostic
	for _, d := range out.Diagnostics {
		td := Diagnostic{Severity: string(d.Severity), Summary: d.Summary, Detail: d.Detail}
		if d.Range != nil {
			td.File, td.Line = "terraform/"+filepath.ToSlash(d.Range.Filename), d.Range.Start.Line
		}
		diags = append(diags, td)
	}
	return diags, nil
}

// StringOutputs runs terraform output in dir (an applied root module) and
// returns its outputs whose value is a string, by name. A module that was
// never applied has none.
func StringOutputs(ctx context.Context, terraformBin, dir string) (map[string]string, error) {
	tf, err := tfexec.NewTerraform(dir, terraformBin)
	if err != nil {
		return nil, fmt.Errorf("terraform output in %s: %w", dir, err)
	}
	outs, err := tf.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform output in %s: %w", dir, err)
	}
	strs := map[string]string{}
	for name, o := range outs {
		var s string
		var typeErr *json.UnmarshalTypeError
		switch err := json.Unmarshal(o.Value, &s); {
		case err == nil:
			strs[name] = s
		case errors.As(err, &typeErr):
			// Not a string (a map, a list, a number): not asked for.
		default:
			return nil, fmt.Errorf("terraform output %s in %s: %w", name, dir, err)
		}
	}
	return strs, nil
}

// DecodeOutputs runs terraform output in dir (an applied root module) and
// decodes every output's value into v, a pointer to a struct whose json
// tags name the outputs (a null output leaves its field alone).
func DecodeOutputs(ctx context.Context, terraformBin, dir string, v any) error {
	tf, err := tfexec.NewTerraform(dir, terraformBin)
	if err != nil {
		return fmt.Errorf("terraform output in %s: %w", dir, err)
	}
	outs, err := tf.Output(ctx)
	if err != nil {
		return fmt.Errorf("terraform output in %s: %w", dir, err)
	}
	values := map[string]json.RawMessage{}
	for name, o := range outs {
		values[name] = o.Value
	}
	raw, err := json.Marshal(values)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("terraform output in %s: %w", dir, err)
	}
	return nil
}
