package statemachine

import (
	"bytes"
	"fmt"
	"os"
	slashpath "path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/webhook"
)

// WorkflowSuffix ends every workflow file name: workflows/<route>.asl.json.
const WorkflowSuffix = ".asl.json"

// StaleError says a workflow file on disk is not what the generator writes
// now; the fix is always the same command.
type StaleError struct {
	// File is the path as the generator names it, e.g. workflows/x.asl.json.
	File   string
	Reason string // "differs", "missing", "not generated"
}

func (e *StaleError) Error() string {
	switch e.Reason {
	case "missing":
		return e.File + " is missing: run go run ./cmd/generate"
	case "not generated":
		return e.File + " is stale (no route generates it): run go run ./cmd/generate"
	}
	return e.File + " is stale: run go run ./cmd/generate"
}

// Workflow is one loaded workflow file.
type Workflow struct {
	Route string // the file name without WorkflowSuffix
	File  string // e.g. workflows/x.asl.json
	Bytes []byte // the file as Terraform deploys it (placeholders included)
}

// LoadWorkflows reads the workflow files in dir (the repository's workflows/
// folder) and checks each against expected, the generator's output for the
// current routes.yaml keyed by repository path ("workflows/<route>.asl.json",
// as internal/generate.Files returns it; other keys are ignored). A file that
// differs, is missing or is not generated any more is a *StaleError.
func LoadWorkflows(dir string, expected map[string][]byte) ([]Workflow, error) {
	want := map[string][]byte{}
	for k, b := range expected {
		if strings.HasSuffix(k, WorkflowSuffix) {
			want[slashpath.Base(k)] = b
		}
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*"+WorkflowSuffix))
	if err != nil {
		return nil, err
	}
	sort.Strings(matches)
	rel := func(base string) string { return slashpath.Join(filepath.Base(dir), base) }
	var out []Workflow
	for _, f := range matches {
		base := filepath.Base(f)
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		w, ok := want[base]
		switch {
		case !ok:
			return nil, &StaleError{File: rel(base), Reason: "not generated"}
		case !bytes.Equal(b, w):
			return nil, &StaleError{File: rel(base), Reason: "differs"}
		}
		delete(want, base)
		out = append(out, Workflow{Route: strings.TrimSuffix(base, WorkflowSuffix), File: rel(base), Bytes: b})
	}
	missing := make([]string, 0, len(want))
	for base := range want {
		missing = append(missing, base)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return nil, &StaleError{File: rel(missing[0]), Reason: "missing"}
	}
	return out, nil
}

// Render substitutes the Terraform templatefile placeholders of a workflow
// ("${deliver_function_arn}", …) the way templatefile does, with vars (for
// the twin: local function names), and compiles the result. A placeholder
// without a value is an error.
func Render(name string, workflow []byte, vars map[string]string) (*Machine, error) {
	s := string(workflow)
	for k, v := range vars {
		s = strings.ReplaceAll(s, asl.Placeholder(k), jsonStringContent(v))
	}
	if i := strings.Index(s, "${"); i >= 0 {
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			end = len(s) - i - 1
		}
		return nil, fmt.Errorf("state machine %s: no value for placeholder %s", name, s[i:i+end+1])
	}
	def, err := asl.Unmarshal([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("state machine %s: %w", name, err)
	}
	m, err := Compile(name, def)
	if err != nil {
		return nil, err
	}
	m.Source = workflow
	return m, nil
}

// Load is what the twin does at start: LoadWorkflows, then Render each with
// its state machine name (e.g. config.Config.StateMachineName) and the local
// function names. The machines are keyed by route.
func Load(dir string, expected map[string][]byte, stateMachineName func(route string) string, vars map[string]string) (map[string]*Machine, error) {
	ws, err := LoadWorkflows(dir, expected)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Machine, len(ws))
	for _, w := range ws {
		m, err := Render(stateMachineName(w.Route), w.Bytes, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.File, err)
		}
		out[w.Route] = m
	}
	return out, nil
}

// jsonStringContent escapes v for use inside a JSON string literal.
func jsonStringContent(v string) string {
	b, _ := webhook.CompactJSON(v)
	return string(b[1 : len(b)-1])
}
