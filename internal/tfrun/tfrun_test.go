package tfrun

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

func TestDiagnosticString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    Diagnostic
		want string
	}{
		{Diagnostic{Severity: "error", Summary: "Unsupported argument", Detail: "An argument named \"x\" is not expected here.", File: "terraform/queue.tf", Line: 12},
			`terraform/queue.tf:12: Unsupported argument: An argument named "x" is not expected here.`},
		{Diagnostic{Severity: "warning", Summary: "Deprecated attribute", File: "terraform/functions.tf", Line: 3},
			"terraform/functions.tf:3: warning: Deprecated attribute"},
		{Diagnostic{Severity: "error", Summary: "Module not installed"},
			"terraform: Module not installed"},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestStringOutputs applies a module of outputs only (no provider) with the
// real terraform and reads it back: strings by name, other types left out;
// before the apply there are none.
func TestStringOutputs(t *testing.T) {
	t.Parallel()
	bin, env := testenv.Terraform(t)
	dir := t.TempDir()
	module := `output "queue_url" { value = "https://sqs.example/q.fifo" }
output "count" { value = 3 }
output "urls" { value = { a = "x" } }
output "nothing" { value = null }
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(module), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	outs, err := StringOutputs(ctx, bin, dir)
	if err != nil || len(outs) != 0 {
		t.Fatalf("before apply: %v, %v; want no outputs", outs, err)
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := tf.SetEnv(tfexec.CleanEnv(env)); err != nil {
		t.Fatal(err)
	}
	if err := tf.Init(ctx, tfexec.Backend(false)); err != nil {
		t.Fatal(err)
	}
	if err := tf.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	outs, err = StringOutputs(ctx, bin, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs["queue_url"] != "https://sqs.example/q.fifo" {
		t.Errorf("outputs %v, want only queue_url", outs)
	}

	// Every output, maps included, decoded by name; a null one leaves its
	// field alone.
	var decoded struct {
		QueueURL string            `json:"queue_url"`
		Count    int               `json:"count"`
		URLs     map[string]string `json:"urls"`
		Nothing  *string           `json:"nothing"`
	}
	if err := DecodeOutputs(ctx, bin, dir, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.QueueURL != "https://sqs.example/q.fifo" || decoded.Count != 3 || decoded.URLs["a"] != "x" || decoded.Nothing != nil {
		t.Errorf("decoded %+v", decoded)
	}
}

// TestStringOutputsReportsTerraform: a folder terraform cannot read is an
// error naming it, not an empty result.
func TestStringOutputsReportsTerraform(t *testing.T) {
	t.Parallel()
	bin, _ := testenv.Terraform(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "terraform.tfstate"), []byte("not a state file"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := StringOutputs(context.Background(), bin, dir)
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("StringOutputs on a broken state: %v, want an error naming %s", err, dir)
	}
}
