// Package generate turns a validated config into every file `terraform apply`
// needs: one Express workflow per route and the Terraform locals. It is pure —
// the same config always gives the same bytes — and writes nothing; the CLI
// (cmd/generate) writes the files, builds the Lambda zips
// (internal/generate/bundle) and runs terraform validate (internal/tfrun).
package generate

import (
	"fmt"
	"path"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/generate/tfgen"
)

// Output locations, relative to the repository root.
const (
	WorkflowsDir        = "workflows"
	WorkflowSuffix      = ".asl.json"
	TerraformLocalsPath = "terraform/generated.tf.json"
)

// WorkflowPath is a route's ASL file, relative to the repository root.
func WorkflowPath(route string) string { return path.Join(WorkflowsDir, route+WorkflowSuffix) }

// workflowRefs maps each route to its ASL file as the Terraform module in
// terraform/ reads it (templatefile paths are relative to the module).
func workflowRefs(cfg *config.Config) map[string]string {
	refs := make(map[string]string, len(cfg.Routes))
	for _, r := range cfg.Routes {
		refs[r.Name] = "../" + WorkflowPath(r.Name)
	}
	return refs
}

// Files returns every generated file of cfg, keyed by its path relative to the
// repository root: workflows/<route>.asl.json for each route and
// terraform/generated.tf.json. Every workflow is validated before it is
// returned; an invalid one is a bug in the builder, reported as an error.
func Files(cfg *config.Config) (map[string][]byte, error) {
	files := make(map[string][]byte, len(cfg.Routes)+1)
	for _, r := range cfg.Routes {
		sm := asl.Build(cfg, r)
		if err := asl.Validate(sm); err != nil {
			return nil, fmt.Errorf("workflow %s: %w", r.Name, err)
		}
		def, err := asl.Marshal(sm)
		if err != nil {
			return nil, fmt.Errorf("workflow %s: %w", r.Name, err)
		}
		files[WorkflowPath(r.Name)] = def
	}
	locals, err := tfgen.Locals(cfg, workflowRefs(cfg))
	if err != nil {
		return nil, err
	}
	files[TerraformLocalsPath] = locals
	return files, nil
}
