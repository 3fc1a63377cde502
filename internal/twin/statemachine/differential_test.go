package statemachine

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/webhook"
)

// localSFNResult is one execution on aws-local-stepfunctions, as
// testdata/local-sfn-scenarios.mjs reports it.
type localSFNResult struct {
	Name   string          `json:"name"`
	Status Status          `json:"status"`
	Error  string          `json:"error"`
	Cause  string          `json:"cause"`
	Output json.RawMessage `json:"output"`
	Calls  struct {
		Deliver []json.RawMessage `json:"Deliver"`
		Notify  []json.RawMessage `json:"Notify"`
	} `json:"calls"`
}

// TestDifferentialAgainstAWSLocalStepFunctions runs the generated workflows
// over the scenario table on this runner and on npm aws-local-stepfunctions
// (an independent ASL interpreter), with the same scripted functions, and
// compares outcome, error name and cause, output, attempt counts, the
// $$.State.RetryCount each attempt saw and the error the notify function got.
//
// Differences in the harness, not the workflows: the npm tool has no
// $$.State.RetryCount (a context getter counting Deliver calls stands in),
// no injectable clock (retry waits are overridden to 0 and Task
// TimeoutSeconds shortened to 1 s there), and no lambda:invoke result shape
// (the handlers return {Payload: …} themselves).
func TestDifferentialAgainstAWSLocalStepFunctions(t *testing.T) {
	t.Parallel()
	modules := testenv.NodeModules(t)
	dir := testenv.RepoRoot(t)
	type run struct {
		Name               string              `json:"name"`
		Definition         json.RawMessage     `json:"definition"`
		Input              json.RawMessage     `json:"input"`
		Context            map[string]any      `json:"context"`
		Script             map[string][]string `json:"script"`
		TaskTimeoutSeconds int                 `json:"taskTimeoutSeconds"`
	}
	var runs []run
	for _, sc := range scenarios {
		name, file := generatedWorkflow(t, sc.notify)
		rendered := bytes.ReplaceAll(file, []byte(asl.Placeholder(asl.DeliverFunctionARNVar)), []byte(deliverFunction))
		rendered = bytes.ReplaceAll(rendered, []byte(asl.Placeholder(asl.NotifyFunctionARNVar)), []byte(notifyFunction))
		runs = append(runs, run{
			Name:       sc.name,
			Definition: rendered,
			Input:      envelope(t, sc.final),
			Context: map[string]any{
				"Execution":    map[string]any{"Id": "arn:aws:states:us-east-1:123456789012:express:" + name + ":x:y", "Name": "x"},
				"StateMachine": map[string]any{"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:" + name, "Name": name},
			},
			Script:             map[string][]string{"Deliver": sc.deliver, "Notify": sc.notifyF},
			TaskTimeoutSeconds: 1,
		})
	}
	request, err := json.Marshal(map[string]any{"modules": modules, "runs": runs})
	if err != nil {
		t.Fatal(err)
	}
	harness := filepath.Join(dir, "internal", "twin", "statemachine", "testdata")
	cmd := exec.Command("node", "--import", "file://"+filepath.Join(harness, "with-resolvers.mjs"), filepath.Join(harness, "local-sfn-scenarios.mjs"))
	cmd.Stdin = bytes.NewReader(request)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node aws-local-stepfunctions harness: %v\n%s", err, stderr.String())
	}
	var theirs []localSFNResult
	if err := json.Unmarshal(out, &theirs); err != nil {
		t.Fatalf("harness output %q: %v", out, err)
	}
	if len(theirs) != len(scenarios) {
		t.Fatalf("%d results for %d scenarios", len(theirs), len(scenarios))
	}
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ref := theirs[i]
			exec, fns, _ := runScenario(t, sc)
			type compared struct {
				Status      Status
				Error       string
				Deliver     int
				Notify      int
				RetryCounts []int
				NotifyError []string
			}
			mine := compared{exec.Status, exec.Error, fns.callCount(deliverFunction), fns.callCount(notifyFunction),
				retryCounts(t, fns.payloads(deliverFunction)), notifyErrors(t, fns.payloads(notifyFunction))}
			other := compared{ref.Status, ref.Error, len(ref.Calls.Deliver), len(ref.Calls.Notify),
				retryCounts(t, ref.Calls.Deliver), notifyErrors(t, ref.Calls.Notify)}
			if mine.Status != other.Status || mine.Error != other.Error || mine.Deliver != other.Deliver || mine.Notify != other.Notify ||
				!slices.Equal(mine.RetryCounts, other.RetryCounts) || !slices.Equal(mine.NotifyError, other.NotifyError) {
				t.Fatalf("runner %+v\naws-local-stepfunctions %+v", mine, other)
			}
			// Both must also agree with the table, or a shared mistake would pass.
			if mine.Status != sc.wantStatus || mine.Error != sc.wantError || mine.Deliver != sc.wantDeliver || mine.Notify != sc.wantNotify {
				t.Fatalf("both interpreters say %+v; the table says %s %s deliver=%d notify=%d", mine, sc.wantStatus, sc.wantError, sc.wantDeliver, sc.wantNotify)
			}
			// What the functions received, field by field (the notify
			// payload's executionId and startTime come from each
			// interpreter's own context object).
			for i, p := range fns.payloads(deliverFunction) {
				if i < len(ref.Calls.Deliver) && !jsonEqual(t, p, ref.Calls.Deliver[i]) {
					t.Errorf("deliver call %d: runner sent %s, aws-local-stepfunctions %s", i+1, p, ref.Calls.Deliver[i])
				}
			}
			for i, p := range fns.payloads(notifyFunction) {
				if i < len(ref.Calls.Notify) && !jsonEqual(t, withoutRunFields(t, p), withoutRunFields(t, ref.Calls.Notify[i])) {
					t.Errorf("notify call %d: runner sent %s, aws-local-stepfunctions %s", i+1, p, ref.Calls.Notify[i])
				}
			}
			// The cause of a function error is the error document on both;
			// a task timeout's cause is free text in each.
			if mine.Error != ErrTimeout && exec.Cause != ref.Cause {
				t.Errorf("cause %q, aws-local-stepfunctions %q", exec.Cause, ref.Cause)
			}
			if exec.Status == StatusSucceeded && !jsonEqual(t, exec.Output, ref.Output) {
				t.Errorf("output %s, aws-local-stepfunctions %s", exec.Output, ref.Output)
			}
		})
	}
}

func retryCounts(t *testing.T, payloads []json.RawMessage) []int {
	t.Helper()
	var out []int
	for _, p := range payloads {
		var req webhook.DeliverRequest
		if err := json.Unmarshal(p, &req); err != nil {
			t.Fatalf("deliver payload %s: %v", p, err)
		}
		out = append(out, req.RetryCount)
	}
	return out
}

func notifyErrors(t *testing.T, payloads []json.RawMessage) []string {
	t.Helper()
	var out []string
	for _, p := range payloads {
		var req webhook.NotifyRequest
		if err := json.Unmarshal(p, &req); err != nil {
			t.Fatalf("notify payload %s: %v", p, err)
		}
		if req.Webhook.WebhookID == "" || req.StateMachine == "" {
			t.Errorf("notify payload lacks the webhook or the context: %s", p)
		}
		out = append(out, req.Error.Error)
	}
	return out
}

// withoutRunFields drops the notify payload's fields that name the run,
// and a task timeout's cause.
func withoutRunFields(t *testing.T, payload []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("notify payload %s: %v", payload, err)
	}
	delete(m, "executionId")
	delete(m, "startTime")
	// A task timeout's cause is each interpreter's own text.
	for _, holder := range []any{m, m["webhook"]} {
		if h, ok := holder.(map[string]any); ok {
			if e, ok := h["error"].(map[string]any); ok && e["Error"] == ErrTimeout {
				delete(e, "Cause")
			}
		}
	}
	b, _ := json.Marshal(m)
	return b
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}
