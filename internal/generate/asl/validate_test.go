package asl

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// task is a minimal valid Task state going to next ("" ends).
func task(next string) State {
	s := State{Type: TypeTask, Resource: ResourceLambdaInvoke}
	if next == "" {
		s.End = true
	} else {
		s.Next = next
	}
	return s
}

func machine(states map[string]State) StateMachine {
	return StateMachine{StartAt: "A", States: states}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sm   StateMachine
		want []string // "path: message", in order; nil means valid
	}{
		{
			name: "valid minimal",
			sm:   machine(map[string]State{"A": task("B"), "B": {Type: TypeSucceed}}),
		},
		{
			name: "empty",
			sm:   StateMachine{},
			want: []string{"States: must have at least one state", "StartAt: is required"},
		},
		{
			name: "StartAt missing",
			sm:   StateMachine{StartAt: "Nope", States: map[string]State{"A": {Type: TypeSucceed}}},
			want: []string{`StartAt: no state named "Nope"`},
		},
		{
			name: "query language and timeout",
			sm:   StateMachine{StartAt: "A", QueryLanguage: "JSONata", TimeoutSeconds: -1, States: map[string]State{"A": {Type: TypeSucceed}}},
			want: []string{
				`QueryLanguage: must be "JSONPath", got "JSONata"`,
				"TimeoutSeconds: must be between 1 and 99999999, got -1",
			},
		},
		{
			name: "missing targets",
			sm: machine(map[string]State{
				"A": func() State {
					s := task("Gone")
					s.Catch = []Catcher{{ErrorEquals: []string{ErrorAll}, Next: "Lost"}}
					return s
				}(),
			}),
			want: []string{
				`States.A.Next: no state named "Gone"`,
				`States.A.Catch[0].Next: no state named "Lost"`,
			},
		},
		{
			name: "terminal states",
			sm: machine(map[string]State{
				"A": {Type: TypeTask, Resource: "r", Next: "B", End: true},
				"B": {Type: TypePass},
				"C": {Type: TypeSucceed, Next: "A"},
				"D": {Type: TypeFail, End: true},
				"E": {Type: TypeChoice, Choices: []ChoiceRule{{Variable: "$.x", IsPresent: ptr(true), Next: "A"}}, End: true},
			}),
			want: []string{
				"States.A: has both Next and End",
				"States.B: needs Next or End",
				"States.C.Next: not allowed in a Succeed state",
				"States.D.End: not allowed in a Fail state",
				"States.E.End: not allowed in a Choice state",
				`States.C: unreachable from StartAt "A"`,
				`States.D: unreachable from StartAt "A"`,
				`States.E: unreachable from StartAt "A"`,
			},
		},
		{
			name: "unreachable cycle",
			sm: machine(map[string]State{
				"A": task(""),
				"X": task("Y"),
				"Y": task("X"),
			}),
			want: []string{`States.X: unreachable from StartAt "A"`, `States.Y: unreachable from StartAt "A"`},
		},
		{
			name: "fields on the wrong type",
			sm: machine(map[string]State{
				"A": {Type: TypePass, Resource: "r", Retry: []Retrier{{ErrorEquals: []string{"X"}}}, Next: "B"},
				"B": {Type: TypeFail, InputPath: PathOf("$"), Error: "E", ErrorPath: "$.e", CausePath: "e"},
			}),
			want: []string{
				"States.A.Resource: not allowed in a Pass state",
				"States.A.Retry: not allowed in a Pass state",
				"States.B.InputPath: not allowed in a Fail state",
				"States.B: has both Error and ErrorPath",
				`States.B.CausePath: must be a JSONPath or an intrinsic function, got "e"`,
			},
		},
		{
			name: "unknown type",
			sm:   machine(map[string]State{"A": {Type: "Parallel", End: true}, "B": {Next: "A"}}),
			want: []string{
				`States.A.Type: unknown state type "Parallel"`,
				"States.B.Type: is required",
				`States.B: unreachable from StartAt "A"`,
			},
		},
		{
			name: "task ranges",
			sm: machine(map[string]State{"A": {
				Type: TypeTask, End: true, TimeoutSeconds: 10, HeartbeatSeconds: 10,
				Retry: []Retrier{
					{ErrorEquals: []string{"A"}, IntervalSeconds: ptr(0), MaxAttempts: ptr(-1), BackoffRate: ptr(0.5), MaxDelaySeconds: 31622401, JitterStrategy: "HALF"},
				},
			}}),
			want: []string{
				"States.A.Resource: is required in a Task state",
				"States.A.HeartbeatSeconds: must be less than TimeoutSeconds (10), got 10",
				"States.A.Retry[0].IntervalSeconds: must be between 1 and 99999999, got 0",
				"States.A.Retry[0].MaxAttempts: must be between 0 and 99999999, got -1",
				"States.A.Retry[0].BackoffRate: must be at least 1, got 0.5",
				"States.A.Retry[0].MaxDelaySeconds: must be between 1 and 31622400, got 31622401",
				`States.A.Retry[0].JitterStrategy: must be "FULL" or "NONE", got "HALF"`,
			},
		},
		{
			name: "error names",
			sm: machine(map[string]State{"A": func() State {
				s := task("")
				s.Retry = []Retrier{
					{ErrorEquals: []string{ErrorAll}},
					{ErrorEquals: []string{"Webhook.Retryable", ErrorAll}},
					{ErrorEquals: nil},
				}
				s.Catch = []Catcher{
					{ErrorEquals: []string{"States.Timeout", "States.Everything"}, ResultPath: PathOf("error"), Next: "A"},
					{ErrorEquals: []string{""}, Next: "A"},
				}
				return s
			}()}),
			want: []string{
				`States.A.Retry[0].ErrorEquals: "States.ALL" must be in the last entry`,
				`States.A.Retry[1].ErrorEquals: "States.ALL" must be the only error name`,
				"States.A.Retry[2].ErrorEquals: must name at least one error",
				`States.A.Catch[0].ErrorEquals: "States.Everything" is not a predefined error name`,
				`States.A.Catch[0].ResultPath: must be a JSONPath starting with $, got "error"`,
				"States.A.Catch[1].ErrorEquals: error name must not be empty",
			},
		},
		{
			name: "payload templates",
			sm: machine(map[string]State{"A": func() State {
				s := task("")
				s.Parameters = map[string]any{"ok.$": "$.x", "fn.$": "States.Format('{}', $.x)", "bad.$": "x", "nested": map[string]any{"n.$": 1}}
				s.ResultSelector = map[string]any{"literal": "x"}
				return s
			}()}),
			want: []string{
				`States.A.Parameters.bad.$: must be a JSONPath or an intrinsic function, got "x"`,
				"States.A.Parameters.nested.n.$: must be a string",
			},
		},
		{
			name: "choice rules",
			sm: machine(map[string]State{
				"A": {Type: TypeChoice, Default: "Missing", Choices: []ChoiceRule{
					{Variable: "$.a", BooleanEquals: ptr(true), StringEquals: ptr("x"), Next: "B"},
					{BooleanEquals: ptr(true), Next: "B"},
					{And: []ChoiceRule{{Variable: "$.a", IsPresent: ptr(true), Next: "B"}}, Next: "B"},
					{Or: []ChoiceRule{}, Next: "B"},
					{Variable: "$.a", Not: &ChoiceRule{Variable: "a", IsNull: ptr(false)}, Next: "B"},
					{Variable: "$.a", IsString: ptr(true)},
				}},
				"B": {Type: TypeSucceed},
			}),
			want: []string{
				"States.A.Choices[0]: needs exactly one comparison operator, has 2",
				"States.A.Choices[1].Variable: is required with a comparison",
				"States.A.Choices[2].And[0].Next: only top-level rules have Next",
				"States.A.Choices[3].Or: must have at least one rule",
				"States.A.Choices[4]: must be one comparison or one of And, Or and Not",
				`States.A.Choices[4].Not.Variable: must be a JSONPath starting with $, got "a"`,
				"States.A.Choices[5].Next: is required in a top-level rule",
				`States.A.Default: no state named "Missing"`,
			},
		},
		{
			name: "empty choice and wait",
			sm: machine(map[string]State{
				"A": {Type: TypeChoice, Default: "W"},
				"W": {Type: TypeWait, Seconds: 1, SecondsPath: "$.s", End: true},
			}),
			want: []string{
				"States.A.Choices: must have at least one rule",
				"States.W: needs exactly one of Seconds, SecondsPath, Timestamp and TimestampPath, has 2",
			},
		},
		{
			name: "long state name",
			sm:   StateMachine{StartAt: strings.Repeat("s", 81), States: map[string]State{strings.Repeat("s", 81): {Type: TypeSucceed}}},
			want: []string{"States." + strings.Repeat("s", 81) + ": state name is longer than 80 characters"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tt.sm)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}
