package applytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// terraformRun drives terraform in the staged module and records how long
// each command took.
type terraformRun struct {
	tf      *tfexec.Terraform
	Timings map[string]time.Duration
}

func newTerraform(t *testing.T, s *staged) *terraformRun {
	t.Helper()
	bin, tfEnv := testenv.Terraform(t)
	tf, err := tfexec.NewTerraform(filepath.Join(s.Dir, "terraform"), bin)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") {
			continue // nothing of the developer's AWS setup reaches the provider
		}
		env[k] = v
	}
	for k, v := range tfEnv {
		env[k] = v
	}
	env["AWS_CONFIG_FILE"], env["AWS_SHARED_CREDENTIALS_FILE"] = os.DevNull, os.DevNull
	env["AWS_EC2_METADATA_DISABLED"] = "true"
	if err := tf.SetEnv(tfexec.CleanEnv(env)); err != nil {
		t.Fatal(err)
	}
	return &terraformRun{tf: tf, Timings: map[string]time.Duration{}}
}

func (r *terraformRun) init(t *testing.T) {
	t.Helper()
	start := time.Now()
	if err := r.tf.Init(context.Background()); err != nil {
		t.Fatalf("terraform init (provider mirror %s): %v", testenv.ProviderMirror, err)
	}
	r.Timings["init"] = time.Since(start)
}

// apply runs terraform apply -auto-approve; on failure the test fails with
// every diagnostic as file:line: summary: detail.
func (r *terraformRun) apply(t *testing.T) {
	t.Helper()
	var out bytes.Buffer
	start := time.Now()
	err := r.tf.ApplyJSON(context.Background(), &out)
	r.Timings["apply"] = time.Since(start)
	if err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, diagnostics(out.Bytes()))
	}
}

// planIsEmpty runs terraform plan on the applied state and reports every
// change it would still make: a module that applies cleanly converges.
func (r *terraformRun) planIsEmpty(t *testing.T) {
	t.Helper()
	start := time.Now()
	plan := filepath.Join(t.TempDir(), "replan")
	changes, err := r.tf.Plan(context.Background(), tfexec.Out(plan))
	r.Timings["plan"] = time.Since(start)
	if err != nil {
		t.Fatalf("terraform plan after apply: %v", err)
	}
	if !changes {
		return
	}
	shown, err := r.tf.ShowPlanFile(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range shown.ResourceChanges {
		if rc.Change != nil && !rc.Change.Actions.NoOp() && !rc.Change.Actions.Read() {
			t.Errorf("terraform plan after apply would %v %s: %s", rc.Change.Actions, rc.Address, changedAttributes(rc.Change.Before, rc.Change.After))
		}
	}
}

// planFails runs terraform plan with opts and wants it to fail with an
// error that mentions want (what must stop the plan, described by why).
func (r *terraformRun) planFails(t *testing.T, why, want string, opts ...tfexec.PlanOption) {
	t.Helper()
	_, err := r.tf.Plan(context.Background(), opts...)
	if err == nil {
		t.Errorf("terraform plan with %s succeeded; want it refused", why)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("terraform plan with %s failed without %q:\n%v", why, want, err)
	}
}

func (r *terraformRun) destroy(t *testing.T) {
	t.Helper()
	var out bytes.Buffer
	start := time.Now()
	err := r.tf.DestroyJSON(context.Background(), &out)
	r.Timings["destroy"] = time.Since(start)
	if err != nil {
		t.Fatalf("terraform destroy: %v\n%s", err, diagnostics(out.Bytes()))
	}
}

// outputs reads the module's outputs into v (a struct with json tags).
func (r *terraformRun) outputs(t *testing.T, v any) {
	t.Helper()
	metas, err := r.tf.Output(context.Background())
	if err != nil {
		t.Fatalf("terraform output: %v", err)
	}
	values := map[string]json.RawMessage{}
	for name, m := range metas {
		values[name] = m.Value
	}
	raw, err := json.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("terraform output: %v", err)
	}
}

// diagnostics extracts Terraform's diagnostics from its machine-readable UI
// stream (-json), one per line as file:line: severity: summary: detail.
func diagnostics(stream []byte) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(stream))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var msg struct {
			Type       string `json:"type"`
			Diagnostic struct {
				Severity, Summary, Detail string
				Range                     *struct {
					Filename string `json:"filename"`
					Start    struct {
						Line int `json:"line"`
					} `json:"start"`
				} `json:"range"`
			} `json:"diagnostic"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil || msg.Type != "diagnostic" {
			continue
		}
		d := msg.Diagnostic
		where := "terraform"
		if d.Range != nil {
			where = fmt.Sprintf("terraform/%s:%d", d.Range.Filename, d.Range.Start.Line)
		}
		lines = append(lines, fmt.Sprintf("%s: %s: %s: %s", where, d.Severity, d.Summary, d.Detail))
	}
	if len(lines) == 0 {
		return "(no diagnostics in terraform's output)"
	}
	return strings.Join(lines, "\n")
}

// changedAttributes lists the top-level attributes a planned change alters.
func changedAttributes(before, after any) string {
	b, _ := before.(map[string]any)
	a, _ := after.(map[string]any)
	var diffs []string
	for k, v := range a {
		if !reflect.DeepEqual(b[k], v) {
			diffs = append(diffs, fmt.Sprintf("%s: %v → %v", k, b[k], v))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}
