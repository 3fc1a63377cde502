package asl

import (
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
)

// testBounds bounds the one function of the hand-written definitions below.
func testBounds() DataBounds {
	return DataBounds{
		Payload:        1000,
		Context:        map[string]int{"$$.Execution.Id": 50},
		Templates:      map[string]int{"fn": 20},
		Functions:      map[string]FunctionBounds{Placeholder("fn"): {Result: 30, Error: 40}},
		InvokeMetadata: 10,
	}
}

func invoke(params map[string]any, resultPath Path, next string, catch ...Catcher) State {
	params["FunctionName"] = Placeholder("fn")
	return State{Type: TypeTask, Resource: ResourceLambdaInvoke, Parameters: params, ResultPath: resultPath, Next: next, End: next == "", Catch: catch}
}

// MaxInput's arithmetic on a definition small enough to count by hand.
func TestMaxInputCountsEachPath(t *testing.T) {
	t.Parallel()
	// A carries the input twice; its caught error goes to B under "err",
	// which B passes on with the execution id.
	sm := StateMachine{StartAt: "A", States: map[string]State{
		"A": invoke(map[string]any{"Payload": map[string]any{"in.$": "$", "again.$": "$"}}, PathOf("$.out"), "",
			Catcher{ErrorEquals: []string{ErrorAll}, ResultPath: PathOf("$.err"), Next: "B"}),
		"B": invoke(map[string]any{"Payload": map[string]any{"e.$": "$.err", "id.$": "$$.Execution.Id"}}, NullPath(), ""),
	}}
	got, err := MaxInput(sm, testBounds())
	if err != nil {
		t.Fatal(err)
	}
	// A's parameters, {"FunctionName":"<20 bytes>","Payload":{"in":…,"again":…}}:
	// "FunctionName": 15 + the quoted ARN 22 + "Payload": 10 + inner braces
	// 2 + comma 1 + "in": 5 + "again": 8 + outer braces 2 + comma 1 = 66,
	// plus the input twice; B's input, the input plus ,"err": and 40, binds later.
	want := DataLimit{MaxInput: (1000 - 66) / 2, Binding: "the parameters of A", Overhead: 66}
	if got != want {
		t.Errorf("MaxInput = %+v, want %+v", got, want)
	}
}

func TestMaxInputRefusesWhatItCannotBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		state State
		want  string
	}{
		{"intrinsic", invoke(map[string]any{"Payload": map[string]any{"x.$": "States.JsonToString($)"}}, Path{}, ""), "only paths of dotted names"},
		{"nested result path", invoke(map[string]any{}, PathOf("$.a.b"), ""), "only top-level fields"},
		{"bracket path", invoke(map[string]any{"Payload": map[string]any{"x.$": "$['a']"}}, Path{}, ""), "only paths of dotted names"},
		{"unknown context value", invoke(map[string]any{"Payload": map[string]any{"x.$": "$$.Execution.RoleArn"}}, Path{}, ""), "no bound for the context object's $$.Execution.RoleArn"},
		{"another integration", State{Type: TypeTask, Resource: "arn:aws:states:::sqs:sendMessage", End: true}, "knows only arn:aws:states:::lambda:invoke"},
		{"an unbounded function", State{Type: TypeTask, Resource: ResourceLambdaInvoke, Parameters: map[string]any{"FunctionName": "other"}, End: true}, `no bounds for the function "other"`},
	} {
		_, err := MaxInput(StateMachine{StartAt: "S", States: map[string]State{"S": tc.state}}, testBounds())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// A loop that wraps the data again on every turn has no bound.
func TestMaxInputStopsAGrowingLoop(t *testing.T) {
	t.Parallel()
	sm := StateMachine{StartAt: "Wrap", States: map[string]State{
		"Wrap": {Type: TypePass, Parameters: map[string]any{"inner.$": "$"}, Next: "Wrap"},
	}}
	if _, err := MaxInput(sm, testBounds()); err == nil || !strings.Contains(err.Error(), "keeps growing around a loop") {
		t.Errorf("MaxInput = %v, want the loop refused", err)
	}
}

// Every generated workflow has a limit below Step Functions' own, set by
// data that grows with the input once: the Notify parameters when the route
// notifies (the caught error is in them twice), the failure path otherwise;
// and the body limit leaves room for the envelope.
func TestLimitsOfGeneratedWorkflows(t *testing.T) {
	t.Parallel()
	forEachWorkflow(t, func(t *testing.T, cfg *config.Config, r config.Route, _ StateMachine) {
		l, err := Limits(cfg, r)
		if err != nil {
			t.Fatal(err)
		}
		wantBinding := "the parameters of " + StateNotify
		if r.Notify.When == config.NotifyNever {
			wantBinding = "the input of " + StateRethrow
		}
		if l.Binding != wantBinding || l.MaxInput+l.Overhead != config.StatePayloadMax {
			t.Errorf("binds at %q with input %d + overhead %d; want %q, summing to %d", l.Binding, l.MaxInput, l.Overhead, wantBinding, config.StatePayloadMax)
		}
		if base64 := (l.DerivedMaxBody + 2) / 3 * 4; l.EnvelopeOverhead+base64 > l.MaxInput || l.EnvelopeOverhead+base64+4 <= l.MaxInput {
			t.Errorf("a body of %d bytes (base64 %d) + envelope %d is not the largest within %d", l.DerivedMaxBody, base64, l.EnvelopeOverhead, l.MaxInput)
		}
	})
}
