package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// QueryLanguageJSONPath is the only query language webhookq's workflows use.
const QueryLanguageJSONPath = "JSONPath"

// StateMachine is an Amazon States Language definition (JSONPath query language).
type StateMachine struct {
	Comment        string           `json:"Comment,omitempty"`
	StartAt        string           `json:"StartAt"`
	TimeoutSeconds int              `json:"TimeoutSeconds,omitempty"`
	QueryLanguage  string           `json:"QueryLanguage,omitempty"`
	States         map[string]State `json:"States"`
}

// StateType is a state's "Type".
type StateType string

// The state types of the JSONPath language that this model carries.
const (
	TypeTask    StateType = "Task"
	TypeChoice  StateType = "Choice"
	TypePass    StateType = "Pass"
	TypeSucceed StateType = "Succeed"
	TypeFail    StateType = "Fail"
	TypeWait    StateType = "Wait"
)

// State is one state of any type. Which fields a type allows is checked by
// Validate, not by the Go type, so that a decoded definition with a misplaced
// field is reported rather than silently dropped.
type State struct {
	Type    StateType `json:"Type"`
	Comment string    `json:"Comment,omitempty"`

	// Task.
	Resource string `json:"Resource,omitempty"`

	// Input and output processing, in the order Step Functions applies them.
	InputPath      Path           `json:"InputPath,omitzero"`
	Parameters     map[string]any `json:"Parameters,omitzero"`
	ResultSelector map[string]any `json:"ResultSelector,omitzero"`
	// Result is a Pass state's fixed result.
	Result     any  `json:"Result,omitempty"`
	ResultPath Path `json:"ResultPath,omitzero"`
	OutputPath Path `json:"OutputPath,omitzero"`

	// Task.
	TimeoutSeconds   int       `json:"TimeoutSeconds,omitempty"`
	HeartbeatSeconds int       `json:"HeartbeatSeconds,omitempty"`
	Retry            []Retrier `json:"Retry,omitzero"`
	Catch            []Catcher `json:"Catch,omitzero"`

	// Choice.
	Choices []ChoiceRule `json:"Choices,omitzero"`
	Default string       `json:"Default,omitempty"`

	// Wait: exactly one of these.
	Seconds       int    `json:"Seconds,omitempty"`
	SecondsPath   string `json:"SecondsPath,omitempty"`
	Timestamp     string `json:"Timestamp,omitempty"`
	TimestampPath string `json:"TimestampPath,omitempty"`

	// Fail: Error or ErrorPath, Cause or CausePath.
	Error     string `json:"Error,omitempty"`
	ErrorPath string `json:"ErrorPath,omitempty"`
	Cause     string `json:"Cause,omitempty"`
	CausePath string `json:"CausePath,omitempty"`

	// Transition: exactly one of Next and End, except Choice, Succeed and Fail.
	Next string `json:"Next,omitempty"`
	End  bool   `json:"End,omitempty"`
}

// Path is an optional JSONPath field that may also be JSON null (InputPath,
// ResultPath, OutputPath). The zero value means absent (Step Functions' default
// "$"); null means "discard" (ResultPath: keep the input; InputPath/OutputPath:
// pass {}).
type Path struct {
	Value string
	Null  bool
}

// PathOf is the path p.
func PathOf(p string) Path { return Path{Value: p} }

// NullPath is the JSON null path.
func NullPath() Path { return Path{Null: true} }

// IsZero reports an absent path (for omitzero).
func (p Path) IsZero() bool { return !p.Null && p.Value == "" }

// MarshalJSON writes null or the path string.
func (p Path) MarshalJSON() ([]byte, error) {
	if p.Null {
		return []byte("null"), nil
	}
	return json.Marshal(p.Value)
}

// UnmarshalJSON reads null or a string.
func (p *Path) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*p = NullPath()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("path must be a string or null: %w", err)
	}
	if s == "" {
		return fmt.Errorf("path must not be empty")
	}
	*p = PathOf(s)
	return nil
}

// Retrier is one entry of a state's Retry. Fields whose ASL default is not the
// Go zero value are pointers; the Effective methods apply the defaults.
type Retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds *int     `json:"IntervalSeconds,omitempty"`
	MaxAttempts     *int     `json:"MaxAttempts,omitempty"`
	BackoffRate     *float64 `json:"BackoffRate,omitempty"`
	MaxDelaySeconds int      `json:"MaxDelaySeconds,omitempty"`
	JitterStrategy  string   `json:"JitterStrategy,omitempty"`
}

// ASL defaults of a Retrier.
const (
	DefaultIntervalSeconds = 1
	DefaultMaxAttempts     = 3
	DefaultBackoffRate     = 2.0
	JitterFull             = "FULL"
	JitterNone             = "NONE"
)

// EffectiveIntervalSeconds is IntervalSeconds or its default.
func (r Retrier) EffectiveIntervalSeconds() int {
	if r.IntervalSeconds == nil {
		return DefaultIntervalSeconds
	}
	return *r.IntervalSeconds
}

// EffectiveMaxAttempts is MaxAttempts (retries after the first attempt) or its default.
func (r Retrier) EffectiveMaxAttempts() int {
	if r.MaxAttempts == nil {
		return DefaultMaxAttempts
	}
	return *r.MaxAttempts
}

// EffectiveBackoffRate is BackoffRate or its default.
func (r Retrier) EffectiveBackoffRate() float64 {
	if r.BackoffRate == nil {
		return DefaultBackoffRate
	}
	return *r.BackoffRate
}

// Catcher is one entry of a state's Catch.
type Catcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	ResultPath  Path     `json:"ResultPath,omitzero"`
	Next        string   `json:"Next"`
}

// ErrorAll matches every error name in ErrorEquals.
const ErrorAll = "States.ALL"

// ChoiceRule is a Choice state's rule: a comparison of Variable, or a boolean
// combination (And, Or, Not). Top-level rules have Next; nested ones do not.
type ChoiceRule struct {
	Variable string `json:"Variable,omitempty"`

	BooleanEquals            *bool    `json:"BooleanEquals,omitempty"`
	BooleanEqualsPath        string   `json:"BooleanEqualsPath,omitempty"`
	StringEquals             *string  `json:"StringEquals,omitempty"`
	StringEqualsPath         string   `json:"StringEqualsPath,omitempty"`
	StringMatches            *string  `json:"StringMatches,omitempty"`
	NumericEquals            *float64 `json:"NumericEquals,omitempty"`
	NumericEqualsPath        string   `json:"NumericEqualsPath,omitempty"`
	NumericLessThan          *float64 `json:"NumericLessThan,omitempty"`
	NumericGreaterThan       *float64 `json:"NumericGreaterThan,omitempty"`
	NumericLessThanEquals    *float64 `json:"NumericLessThanEquals,omitempty"`
	NumericGreaterThanEquals *float64 `json:"NumericGreaterThanEquals,omitempty"`
	IsPresent                *bool    `json:"IsPresent,omitempty"`
	IsNull                   *bool    `json:"IsNull,omitempty"`
	IsBoolean                *bool    `json:"IsBoolean,omitempty"`
	IsString                 *bool    `json:"IsString,omitempty"`
	IsNumeric                *bool    `json:"IsNumeric,omitempty"`

	And []ChoiceRule `json:"And,omitzero"`
	Or  []ChoiceRule `json:"Or,omitzero"`
	Not *ChoiceRule  `json:"Not,omitempty"`

	Next string `json:"Next,omitempty"`
}

// Marshal writes the definition deterministically: two-space indented JSON,
// the top-level fields in declaration order, the states in the order a reader
// follows them (breadth-first from StartAt, then any others by name), the keys
// of Parameters and ResultSelector sorted, and a trailing newline.
func Marshal(sm StateMachine) ([]byte, error) {
	ordered := struct {
		Comment        string        `json:"Comment,omitempty"`
		StartAt        string        `json:"StartAt"`
		TimeoutSeconds int           `json:"TimeoutSeconds,omitempty"`
		QueryLanguage  string        `json:"QueryLanguage,omitempty"`
		States         orderedStates `json:"States"`
	}{sm.Comment, sm.StartAt, sm.TimeoutSeconds, sm.QueryLanguage, orderedStates{sm.States, readingOrder(sm)}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ordered); err != nil {
		return nil, fmt.Errorf("asl: marshal: %w", err)
	}
	return buf.Bytes(), nil
}

// Unmarshal decodes a definition strictly: an unknown field anywhere outside
// Parameters, ResultSelector and Result is an error, so a feature this model
// does not carry is reported instead of silently ignored.
func Unmarshal(data []byte) (StateMachine, error) {
	var sm StateMachine
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sm); err != nil {
		return StateMachine{}, fmt.Errorf("asl: unmarshal: %w", err)
	}
	if dec.More() {
		return StateMachine{}, fmt.Errorf("asl: unmarshal: trailing data after the definition")
	}
	if sm.States == nil {
		sm.States = map[string]State{} // absent and {} read the same
	}
	return sm, nil
}

type orderedStates struct {
	states map[string]State
	order  []string
}

func (o orderedStates) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, name := range o.order {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(name); err != nil {
			return nil, err
		}
		buf.WriteByte(':')
		if err := enc.Encode(o.states[name]); err != nil {
			return nil, fmt.Errorf("state %q: %w", name, err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// readingOrder lists the states breadth-first from StartAt, following each
// state's transitions in the order they appear in it, then the unreachable
// ones sorted by name.
func readingOrder(sm StateMachine) []string {
	order := make([]string, 0, len(sm.States))
	seen := make(map[string]bool, len(sm.States))
	visit := func(name string) {
		if _, ok := sm.States[name]; ok && !seen[name] {
			seen[name] = true
			order = append(order, name)
		}
	}
	visit(sm.StartAt)
	for i := 0; i < len(order); i++ {
		for _, next := range sm.States[order[i]].transitions() {
			visit(next)
		}
	}
	rest := make([]string, 0, len(sm.States)-len(order))
	for name := range sm.States {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return append(order, rest...)
}

// transitions lists the states s can move to: Choices' Next, Default, Next,
// then Catch targets.
func (s State) transitions() []string {
	var out []string
	for _, c := range s.Choices {
		if c.Next != "" {
			out = append(out, c.Next)
		}
	}
	if s.Default != "" {
		out = append(out, s.Default)
	}
	if s.Next != "" {
		out = append(out, s.Next)
	}
	for _, c := range s.Catch {
		out = append(out, c.Next)
	}
	return out
}
