package asl

import (
	"fmt"
	"sort"
	"strings"
)

// Limits Step Functions enforces on the fields Validate checks.
const (
	maxStateNameLength = 80
	maxSeconds         = 99999999 // TimeoutSeconds, HeartbeatSeconds, IntervalSeconds, MaxAttempts
	maxDelaySeconds    = 31622400 // MaxDelaySeconds: one year
	minBackoffRate     = 1.0
)

// predefinedErrors are the "States." error names a Retrier or Catcher may
// match; any other name with that prefix is reserved and never raised.
var predefinedErrors = map[string]bool{
	ErrorAll:                                 true,
	"States.DataLimitExceeded":               true,
	"States.ExceedToleratedFailureThreshold": true,
	"States.HeartbeatTimeout":                true,
	"States.Http.Socket":                     true,
	"States.IntrinsicFailure":                true,
	"States.ItemReaderFailed":                true,
	"States.NoChoiceMatched":                 true,
	"States.ParameterPathFailure":            true,
	"States.Permissions":                     true,
	"States.QueryEvaluationError":            true,
	"States.ResultPathMatchFailure":          true,
	"States.ResultWriterFailed":              true,
	"States.Runtime":                         true,
	"States.TaskFailed":                      true,
	"States.Timeout":                         true,
	"States.BranchFailed":                    true,
}

// Problem is one thing wrong with a definition, at a path such as
// "States.Deliver.Retry[0].MaxAttempts".
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// ValidationError lists every problem Validate found, in a stable order: the
// top-level fields, then the states by name, then unreachable states.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "asl: invalid state machine:\n" + strings.Join(lines, "\n")
}

// Validate checks what Step Functions would reject or what would make a
// workflow misbehave: StartAt and every transition target exist, each state
// ends the way its type requires, every state is reachable, fields appear only
// on the types that allow them and within Step Functions' ranges, and
// "States.ALL" stands alone in the last Retrier or Catcher. It returns a
// *ValidationError listing every problem, or nil.
func Validate(sm StateMachine) error {
	v := validator{sm: sm}
	v.machine()
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

type validator struct {
	sm       StateMachine
	problems []Problem
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// target checks that a transition names an existing state.
func (v *validator) target(path, name string) {
	if _, ok := v.sm.States[name]; !ok {
		v.add(path, "no state named %q", name)
	}
}

func (v *validator) machine() {
	if v.sm.QueryLanguage != "" && v.sm.QueryLanguage != QueryLanguageJSONPath {
		v.add("QueryLanguage", "must be %q, got %q", QueryLanguageJSONPath, v.sm.QueryLanguage)
	}
	if v.sm.TimeoutSeconds < 0 || v.sm.TimeoutSeconds > maxSeconds {
		v.add("TimeoutSeconds", "must be between 1 and %d, got %d", maxSeconds, v.sm.TimeoutSeconds)
	}
	if len(v.sm.States) == 0 {
		v.add("States", "must have at least one state")
	}
	if v.sm.StartAt == "" {
		v.add("StartAt", "is required")
	} else {
		v.target("StartAt", v.sm.StartAt)
	}
	names := make([]string, 0, len(v.sm.States))
	for name := range v.sm.States {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v.state(name, v.sm.States[name])
	}
	v.reachable(names)
}

// allowed lists, per field, the state types that may carry it (Parallel and
// Map are not part of this model).
var allowed = map[string][]StateType{
	"Resource":         {TypeTask},
	"InputPath":        {TypeTask, TypePass, TypeChoice, TypeWait, TypeSucceed},
	"Parameters":       {TypeTask, TypePass},
	"ResultSelector":   {TypeTask},
	"Result":           {TypePass},
	"ResultPath":       {TypeTask, TypePass},
	"OutputPath":       {TypeTask, TypePass, TypeChoice, TypeWait, TypeSucceed},
	"TimeoutSeconds":   {TypeTask},
	"HeartbeatSeconds": {TypeTask},
	"Retry":            {TypeTask},
	"Catch":            {TypeTask},
	"Choices":          {TypeChoice},
	"Default":          {TypeChoice},
	"Seconds":          {TypeWait},
	"SecondsPath":      {TypeWait},
	"Timestamp":        {TypeWait},
	"TimestampPath":    {TypeWait},
	"Error":            {TypeFail},
	"ErrorPath":        {TypeFail},
	"Cause":            {TypeFail},
	"CausePath":        {TypeFail},
	"Next":             {TypeTask, TypePass, TypeWait},
	"End":              {TypeTask, TypePass, TypeWait},
}

// fieldOrder is the order fields are reported in.
var fieldOrder = []string{
	"Resource", "InputPath", "Parameters", "ResultSelector", "Result", "ResultPath", "OutputPath",
	"TimeoutSeconds", "HeartbeatSeconds", "Retry", "Catch", "Choices", "Default",
	"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Error", "ErrorPath", "Cause", "CausePath",
	"Next", "End",
}

// present lists the fields s sets.
func (s State) present() map[string]bool {
	return map[string]bool{
		"Resource":         s.Resource != "",
		"InputPath":        !s.InputPath.IsZero(),
		"Parameters":       s.Parameters != nil,
		"ResultSelector":   s.ResultSelector != nil,
		"Result":           s.Result != nil,
		"ResultPath":       !s.ResultPath.IsZero(),
		"OutputPath":       !s.OutputPath.IsZero(),
		"TimeoutSeconds":   s.TimeoutSeconds != 0,
		"HeartbeatSeconds": s.HeartbeatSeconds != 0,
		"Retry":            s.Retry != nil,
		"Catch":            s.Catch != nil,
		"Choices":          s.Choices != nil,
		"Default":          s.Default != "",
		"Seconds":          s.Seconds != 0,
		"SecondsPath":      s.SecondsPath != "",
		"Timestamp":        s.Timestamp != "",
		"TimestampPath":    s.TimestampPath != "",
		"Error":            s.Error != "",
		"ErrorPath":        s.ErrorPath != "",
		"Cause":            s.Cause != "",
		"CausePath":        s.CausePath != "",
		"Next":             s.Next != "",
		"End":              s.End,
	}
}

func (v *validator) state(name string, s State) {
	at := "States." + name
	if len(name) > maxStateNameLength {
		v.add(at, "state name is longer than %d characters", maxStateNameLength)
	}
	switch s.Type {
	case TypeTask, TypeChoice, TypePass, TypeSucceed, TypeFail, TypeWait:
	case "":
		v.add(at+".Type", "is required")
		return
	default:
		v.add(at+".Type", "unknown state type %q", s.Type)
		return
	}
	has := s.present()
	for _, field := range fieldOrder {
		if has[field] && !typeAllows(field, s.Type) {
			v.add(at+"."+field, "not allowed in a %s state", s.Type)
		}
	}

	switch s.Type {
	case TypeTask, TypePass, TypeWait:
		switch {
		case s.Next != "" && s.End:
			v.add(at, "has both Next and End")
		case s.Next == "" && !s.End:
			v.add(at, "needs Next or End")
		}
	}
	if s.Next != "" && typeAllows("Next", s.Type) {
		v.target(at+".Next", s.Next)
	}

	v.paths(at, s)
	switch s.Type {
	case TypeTask:
		v.task(at, s)
	case TypeChoice:
		v.choice(at, s)
	case TypeWait:
		if n := count(has["Seconds"], has["SecondsPath"], has["Timestamp"], has["TimestampPath"]); n != 1 {
			v.add(at, "needs exactly one of Seconds, SecondsPath, Timestamp and TimestampPath, has %d", n)
		}
		if s.Seconds < 0 {
			v.add(at+".Seconds", "must not be negative, got %d", s.Seconds)
		}
	case TypeFail:
		if s.Error != "" && s.ErrorPath != "" {
			v.add(at, "has both Error and ErrorPath")
		}
		if s.Cause != "" && s.CausePath != "" {
			v.add(at, "has both Cause and CausePath")
		}
		v.referencePath(at+".ErrorPath", s.ErrorPath)
		v.referencePath(at+".CausePath", s.CausePath)
	}
}

func typeAllows(field string, t StateType) bool {
	for _, a := range allowed[field] {
		if a == t {
			return true
		}
	}
	return false
}

func count(flags ...bool) int {
	n := 0
	for _, f := range flags {
		if f {
			n++
		}
	}
	return n
}

// paths checks the JSONPath-valued fields common to several state types.
func (v *validator) paths(at string, s State) {
	for _, p := range []struct {
		field string
		path  Path
	}{{"InputPath", s.InputPath}, {"ResultPath", s.ResultPath}, {"OutputPath", s.OutputPath}} {
		if !p.path.IsZero() && !p.path.Null {
			v.jsonPath(at+"."+p.field, p.path.Value)
		}
	}
	v.template(at+".Parameters", s.Parameters)
	v.template(at+".ResultSelector", s.ResultSelector)
}

// jsonPath checks that p is a path ("$…"), or a context object path ("$$…").
func (v *validator) jsonPath(at, p string) {
	if !strings.HasPrefix(p, "$") {
		v.add(at, "must be a JSONPath starting with $, got %q", p)
	}
}

// referencePath checks an optional ErrorPath or CausePath: a path, or one of
// the intrinsic functions Step Functions allows there.
func (v *validator) referencePath(at, p string) {
	if p != "" && !strings.HasPrefix(p, "$") && !strings.HasPrefix(p, "States.") {
		v.add(at, "must be a JSONPath or an intrinsic function, got %q", p)
	}
}

// template checks a payload template: a key ending in ".$" takes a path or
// intrinsic function string.
func (v *validator) template(at string, t map[string]any) {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch val := t[k].(type) {
		case map[string]any:
			v.template(at+"."+k, val)
		case string:
			if strings.HasSuffix(k, ".$") && !strings.HasPrefix(val, "$") && !strings.HasPrefix(val, "States.") {
				v.add(at+"."+k, "must be a JSONPath or an intrinsic function, got %q", val)
			}
		default:
			if strings.HasSuffix(k, ".$") {
				v.add(at+"."+k, "must be a string")
			}
		}
	}
}

func (v *validator) task(at string, s State) {
	if s.Resource == "" {
		v.add(at+".Resource", "is required in a Task state")
	}
	if s.TimeoutSeconds < 0 || s.TimeoutSeconds > maxSeconds {
		v.add(at+".TimeoutSeconds", "must be between 1 and %d, got %d", maxSeconds, s.TimeoutSeconds)
	}
	if s.HeartbeatSeconds < 0 || s.HeartbeatSeconds > maxSeconds {
		v.add(at+".HeartbeatSeconds", "must be between 1 and %d, got %d", maxSeconds, s.HeartbeatSeconds)
	}
	if s.HeartbeatSeconds > 0 && s.TimeoutSeconds > 0 && s.HeartbeatSeconds >= s.TimeoutSeconds {
		v.add(at+".HeartbeatSeconds", "must be less than TimeoutSeconds (%d), got %d", s.TimeoutSeconds, s.HeartbeatSeconds)
	}
	for i, r := range s.Retry {
		rat := fmt.Sprintf("%s.Retry[%d]", at, i)
		v.errorEquals(rat, r.ErrorEquals, i == len(s.Retry)-1)
		if r.IntervalSeconds != nil && (*r.IntervalSeconds < 1 || *r.IntervalSeconds > maxSeconds) {
			v.add(rat+".IntervalSeconds", "must be between 1 and %d, got %d", maxSeconds, *r.IntervalSeconds)
		}
		if r.MaxAttempts != nil && (*r.MaxAttempts < 0 || *r.MaxAttempts > maxSeconds) {
			v.add(rat+".MaxAttempts", "must be between 0 and %d, got %d", maxSeconds, *r.MaxAttempts)
		}
		if r.BackoffRate != nil && *r.BackoffRate < minBackoffRate {
			v.add(rat+".BackoffRate", "must be at least %g, got %g", minBackoffRate, *r.BackoffRate)
		}
		if r.MaxDelaySeconds < 0 || r.MaxDelaySeconds > maxDelaySeconds {
			v.add(rat+".MaxDelaySeconds", "must be between 1 and %d, got %d", maxDelaySeconds, r.MaxDelaySeconds)
		}
		switch r.JitterStrategy {
		case "", JitterFull, JitterNone:
		default:
			v.add(rat+".JitterStrategy", "must be %q or %q, got %q", JitterFull, JitterNone, r.JitterStrategy)
		}
	}
	for i, c := range s.Catch {
		cat := fmt.Sprintf("%s.Catch[%d]", at, i)
		v.errorEquals(cat, c.ErrorEquals, i == len(s.Catch)-1)
		if !c.ResultPath.IsZero() && !c.ResultPath.Null {
			v.jsonPath(cat+".ResultPath", c.ResultPath.Value)
		}
		if c.Next == "" {
			v.add(cat+".Next", "is required")
		} else {
			v.target(cat+".Next", c.Next)
		}
	}
}

// errorEquals checks a Retrier's or Catcher's error names.
func (v *validator) errorEquals(at string, names []string, last bool) {
	if len(names) == 0 {
		v.add(at+".ErrorEquals", "must name at least one error")
	}
	for _, n := range names {
		switch {
		case n == ErrorAll && len(names) > 1:
			v.add(at+".ErrorEquals", "%q must be the only error name", ErrorAll)
		case n == ErrorAll && !last:
			v.add(at+".ErrorEquals", "%q must be in the last entry", ErrorAll)
		case n == "":
			v.add(at+".ErrorEquals", "error name must not be empty")
		case strings.HasPrefix(n, "States.") && !predefinedErrors[n]:
			v.add(at+".ErrorEquals", "%q is not a predefined error name", n)
		}
	}
}

func (v *validator) choice(at string, s State) {
	if len(s.Choices) == 0 {
		v.add(at+".Choices", "must have at least one rule")
	}
	for i, r := range s.Choices {
		rat := fmt.Sprintf("%s.Choices[%d]", at, i)
		v.rule(rat, r)
		if r.Next == "" {
			v.add(rat+".Next", "is required in a top-level rule")
		} else {
			v.target(rat+".Next", r.Next)
		}
	}
	if s.Default != "" {
		v.target(at+".Default", s.Default)
	}
}

// rule checks one Choice rule: a single comparison of Variable, or one of
// And, Or (non-empty) and Not.
func (v *validator) rule(at string, r ChoiceRule) {
	comparisons := r.comparisons()
	combinators := count(r.And != nil, r.Or != nil, r.Not != nil)
	switch {
	case combinators > 1 || (combinators == 1 && (comparisons > 0 || r.Variable != "")):
		v.add(at, "must be one comparison or one of And, Or and Not")
	case combinators == 0 && comparisons != 1:
		v.add(at, "needs exactly one comparison operator, has %d", comparisons)
	case combinators == 0 && r.Variable == "":
		v.add(at+".Variable", "is required with a comparison")
	}
	if r.Variable != "" {
		v.jsonPath(at+".Variable", r.Variable)
	}
	if r.And != nil && len(r.And) == 0 {
		v.add(at+".And", "must have at least one rule")
	}
	if r.Or != nil && len(r.Or) == 0 {
		v.add(at+".Or", "must have at least one rule")
	}
	for i, n := range r.And {
		v.nested(fmt.Sprintf("%s.And[%d]", at, i), n)
	}
	for i, n := range r.Or {
		v.nested(fmt.Sprintf("%s.Or[%d]", at, i), n)
	}
	if r.Not != nil {
		v.nested(at+".Not", *r.Not)
	}
}

func (v *validator) nested(at string, r ChoiceRule) {
	if r.Next != "" {
		v.add(at+".Next", "only top-level rules have Next")
	}
	v.rule(at, r)
}

// comparisons counts the comparison operators a rule sets.
func (r ChoiceRule) comparisons() int {
	return count(
		r.BooleanEquals != nil, r.BooleanEqualsPath != "",
		r.StringEquals != nil, r.StringEqualsPath != "", r.StringMatches != nil,
		r.NumericEquals != nil, r.NumericEqualsPath != "",
		r.NumericLessThan != nil, r.NumericGreaterThan != nil,
		r.NumericLessThanEquals != nil, r.NumericGreaterThanEquals != nil,
		r.IsPresent != nil, r.IsNull != nil, r.IsBoolean != nil, r.IsString != nil, r.IsNumeric != nil,
	)
}

// reachable reports the states no path from StartAt leads to.
func (v *validator) reachable(names []string) {
	if _, ok := v.sm.States[v.sm.StartAt]; !ok {
		return // already reported; every state would be "unreachable"
	}
	seen := map[string]bool{v.sm.StartAt: true}
	queue := []string{v.sm.StartAt}
	for len(queue) > 0 {
		s := v.sm.States[queue[0]]
		queue = queue[1:]
		for _, next := range s.transitions() {
			if _, ok := v.sm.States[next]; ok && !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	for _, name := range names {
		if !seen[name] {
			v.add("States."+name, "unreachable from StartAt %q", v.sm.StartAt)
		}
	}
}
