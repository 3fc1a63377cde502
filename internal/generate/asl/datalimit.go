package asl

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Step Functions limits every task's parameters and result, every state's
// input and output and the execution's input to 262,144 bytes of UTF-8 JSON
// (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
// Past it the execution fails with States.DataLimitExceeded, which no Catch
// catches, States.ALL included
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html):
// the workflow ends without its failure branch, so without a notification.
// MaxInput finds the largest execution input that stays within the limit on
// every path of a definition.

// DataBounds bound what a workflow's data holds besides the execution input.
type DataBounds struct {
	// Payload is Step Functions' limit (config.StatePayloadMax).
	Payload int
	// Context bounds the context object's values, as JSON, by path
	// ("$$.Execution.Id"). $$.State.Name, .EnteredTime and .RetryCount are
	// bounded from the state itself.
	Context map[string]int
	// Templates bounds each templatefile variable's rendered value (bytes).
	Templates map[string]int
	// Functions bounds each lambda:invoke task's function, by the
	// FunctionName parameter as written (the template placeholder).
	Functions map[string]FunctionBounds
	// InvokeMetadata bounds what the lambda:invoke integration puts around
	// the function's answer (ExecutedVersion, SdkHttpMetadata, StatusCode…).
	InvokeMetadata int
}

// FunctionBounds bound a function's answer and a caught error of its task.
type FunctionBounds struct {
	// Result bounds the function's answer as JSON.
	Result int
	// Error bounds a Catch result of the task, {"Error":…,"Cause":…} as JSON.
	Error int
}

// DataLimit is the largest execution input that runs through every path of
// a definition within the payload limit, and where the limit binds.
type DataLimit struct {
	// MaxInput is the largest execution input in bytes of compact JSON.
	MaxInput int
	// Binding says which data sets MaxInput, e.g. "the parameters of Notify".
	Binding string
	// Overhead is what the binding data holds besides the input (once).
	Overhead int
}

// size bounds a JSON value's length: per × N + fixed bytes, N being the
// execution input's length.
type size struct{ per, fixed int }

func (a size) plus(b size) size   { return size{a.per + b.per, a.fixed + b.fixed} }
func (a size) join(b size) size   { return size{max(a.per, b.per), max(a.fixed, b.fixed)} }
func fixed(n int) size            { return size{fixed: n} }
func (a size) String() string     { return fmt.Sprintf("%d×input+%d", a.per, a.fixed) }
func (a size) covers(b size) bool { return a.per >= b.per && a.fixed >= b.fixed }

// value bounds a state's data: a base (the execution input, or a value
// bounded as a whole) with top-level fields that ResultPath set on it.
type value struct {
	base   size
	fields map[string]size
}

func whole(s size) value { return value{base: s} }

// total bounds the value's JSON: the base plus `,"name":` and each field.
func (v value) total() size {
	s := v.base
	for name, f := range v.fields {
		s = s.plus(fixed(len(quote(name)) + 2)).plus(f)
	}
	return s
}

// get bounds what a reference path selects: a field set by ResultPath, or
// any part of the base.
func (v value) get(segments []string) size {
	if len(segments) == 0 {
		return v.total()
	}
	if f, ok := v.fields[segments[0]]; ok {
		return f
	}
	return v.base
}

func (v value) with(name string, s size) value {
	fields := make(map[string]size, len(v.fields)+1)
	for k, f := range v.fields {
		fields[k] = f
	}
	fields[name] = fields[name].join(s)
	return value{base: v.base, fields: fields}
}

// join bounds both values: the larger base, every field at its larger bound.
func (v value) join(w value) value {
	out := value{base: v.base.join(w.base), fields: map[string]size{}}
	for k, f := range v.fields {
		out.fields[k] = f
	}
	for k, f := range w.fields {
		out.fields[k] = out.fields[k].join(f)
	}
	return out
}

func (v value) covers(w value) bool {
	if !v.base.covers(w.base) {
		return false
	}
	for k, f := range w.fields {
		if g, ok := v.fields[k]; !ok || !g.covers(f) {
			return false
		}
	}
	return true
}

// MaxInput derives the definition's data limit: it follows every
// transition, Catch included, bounding each state's input, each task's
// parameters and result and each state's output, and returns the largest
// execution input for which all of them fit in b.Payload. Anything the size
// model does not know (intrinsic functions, paths into arrays, nested
// ResultPaths, other integrations) is an error, never a guess.
func MaxInput(sm StateMachine, b DataBounds) (DataLimit, error) {
	a := &analysis{sm: sm, b: b, checks: map[string]size{}}
	if err := a.run(); err != nil {
		return DataLimit{}, err
	}
	names := make([]string, 0, len(a.checks))
	for name := range a.checks {
		names = append(names, name)
	}
	sort.Strings(names)
	limit := DataLimit{MaxInput: -1}
	for _, name := range names {
		s := a.checks[name]
		if s.per == 0 {
			if s.fixed > b.Payload {
				return DataLimit{}, fmt.Errorf("asl: %s can reach %d bytes whatever the input, over the %d-byte limit", name, s.fixed, b.Payload)
			}
			continue
		}
		n := (b.Payload - s.fixed) / s.per
		if n < 0 {
			n = 0
		}
		if limit.MaxInput < 0 || n < limit.MaxInput {
			limit = DataLimit{MaxInput: n, Binding: name, Overhead: s.fixed}
		}
	}
	return limit, nil
}

type analysis struct {
	sm     StateMachine
	b      DataBounds
	inputs map[string]value
	// checks bounds each piece of data Step Functions measures, by a
	// description ("the parameters of Notify").
	checks map[string]size
}

func (a *analysis) check(what string, s size) {
	a.checks[what] = a.checks[what].join(s)
}

// maxRounds stops a definition whose data keeps growing around a loop.
const maxRounds = 64

func (a *analysis) run() error {
	a.check("the execution input", size{per: 1})
	a.inputs = map[string]value{a.sm.StartAt: whole(size{per: 1})}
	queue := []string{a.sm.StartAt}
	visits := map[string]int{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if visits[name]++; visits[name] > maxRounds {
			return fmt.Errorf("asl: the data of state %q keeps growing around a loop; its size cannot be bounded", name)
		}
		s, ok := a.sm.States[name]
		if !ok {
			return fmt.Errorf("asl: no state %q", name)
		}
		outs, err := a.state(name, s, a.inputs[name])
		if err != nil {
			return fmt.Errorf("asl: state %q: %w", name, err)
		}
		for _, o := range outs {
			old, seen := a.inputs[o.next]
			if seen && old.covers(o.data) {
				continue
			}
			if seen {
				o.data = old.join(o.data)
			}
			a.inputs[o.next] = o.data
			if !slices.Contains(queue, o.next) {
				queue = append(queue, o.next)
			}
		}
	}
	return nil
}

// transition is data handed to the next state.
type transition struct {
	next string
	data value
}

func (a *analysis) state(name string, s State, in value) ([]transition, error) {
	a.check("the input of "+name, in.total())
	effective, err := applyPath(s.InputPath, in)
	if err != nil {
		return nil, fmt.Errorf("in InputPath: %w", err)
	}
	var outs []transition
	leave := func(next string, out value) error {
		out, err := applyPath(s.OutputPath, out)
		if err != nil {
			return fmt.Errorf("in OutputPath: %w", err)
		}
		a.check("the output of "+name, out.total())
		if next != "" {
			outs = append(outs, transition{next, out})
		}
		return nil
	}
	switch s.Type {
	case TypeTask:
		caught := func(next string, data value) { outs = append(outs, transition{next, data}) }
		return outs, a.task(name, s, in, effective, leave, caught)
	case TypePass:
		result := effective
		switch {
		case s.Result != nil:
			b, err := json.Marshal(s.Result)
			if err != nil {
				return nil, err
			}
			result = whole(fixed(len(b)))
		case s.Parameters != nil:
			p, err := a.template(s.Parameters, effective, a.context(name, s))
			if err != nil {
				return nil, fmt.Errorf("in Parameters: %w", err)
			}
			result = whole(p)
		}
		out, err := applyResultPath(s.ResultPath, in, result)
		if err != nil {
			return nil, err
		}
		return outs, leave(s.Next, out)
	case TypeChoice:
		for _, next := range s.transitions() {
			if err := leave(next, effective); err != nil {
				return nil, err
			}
		}
		return outs, nil
	case TypeWait:
		return outs, leave(s.Next, effective)
	case TypeSucceed:
		return outs, leave("", effective)
	case TypeFail:
		return nil, nil
	}
	return nil, fmt.Errorf("the size model does not know state type %q", s.Type)
}

// task follows a lambda:invoke Task: its parameters, the integration's
// result, the output on success (through leave) and each Catch's output
// (through caught: a caught error skips OutputPath).
func (a *analysis) task(name string, s State, in, effective value, leave func(string, value) error, caught func(string, value)) error {
	if s.Resource != ResourceLambdaInvoke {
		return fmt.Errorf("the size model knows only %s tasks, not %q", ResourceLambdaInvoke, s.Resource)
	}
	fnName, _ := s.Parameters["FunctionName"].(string)
	fn, ok := a.b.Functions[fnName]
	if !ok {
		return fmt.Errorf("no bounds for the function %q", fnName)
	}
	ctx := a.context(name, s)
	if s.Parameters != nil {
		p, err := a.template(s.Parameters, effective, ctx)
		if err != nil {
			return fmt.Errorf("in Parameters: %w", err)
		}
		a.check("the parameters of "+name, p)
	}
	// The integration's result: the Invoke response, the answer under Payload.
	result := value{base: fixed(a.b.InvokeMetadata), fields: map[string]size{"Payload": fixed(fn.Result)}}
	a.check("the result of "+name, result.total())
	if s.ResultSelector != nil {
		selected, err := a.template(s.ResultSelector, result, ctx)
		if err != nil {
			return fmt.Errorf("in ResultSelector: %w", err)
		}
		result = whole(selected)
	}
	out, err := applyResultPath(s.ResultPath, in, result)
	if err != nil {
		return err
	}
	if err := leave(s.Next, out); err != nil {
		return err
	}
	for _, c := range s.Catch {
		out, err := applyResultPath(c.ResultPath, in, whole(fixed(fn.Error)))
		if err != nil {
			return fmt.Errorf("in Catch: %w", err)
		}
		a.check("the output of "+name+" after a caught error", out.total())
		caught(c.Next, out)
	}
	return nil
}

// context bounds the context object's values while state name runs.
func (a *analysis) context(name string, s State) map[string]int {
	retries := 0
	for _, r := range s.Retry {
		retries += r.EffectiveMaxAttempts()
	}
	ctx := map[string]int{
		"$$.State.Name":        len(quote(name)),
		"$$.State.EnteredTime": len(quote(contextTimestamp)),
		"$$.State.RetryCount":  len(strconv.Itoa(retries)),
	}
	for k, v := range a.b.Context {
		ctx[k] = v
	}
	return ctx
}

// contextTimestamp is the form of the context object's times (ISO 8601,
// UTC, milliseconds), e.g. $$.Execution.StartTime.
const contextTimestamp = "2006-01-02T15:04:05.000Z"

// template bounds a Parameters or ResultSelector object evaluated on data.
func (a *analysis) template(t any, data value, ctx map[string]int) (size, error) {
	switch t := t.(type) {
	case map[string]any:
		s := fixed(2 + max(0, len(t)-1)) // braces, commas
		for key, v := range t {
			if name, ok := strings.CutSuffix(key, ".$"); ok {
				p, ok := v.(string)
				if !ok {
					return size{}, fmt.Errorf("%q must be a path", key)
				}
				sel, err := a.reference(p, data, ctx)
				if err != nil {
					return size{}, fmt.Errorf("%q: %w", key, err)
				}
				s = s.plus(fixed(len(quote(name)) + 1)).plus(sel)
				continue
			}
			sub, err := a.template(v, data, ctx)
			if err != nil {
				return size{}, err
			}
			s = s.plus(fixed(len(quote(key)) + 1)).plus(sub)
		}
		return s, nil
	case []any:
		s := fixed(2 + max(0, len(t)-1))
		for _, v := range t {
			sub, err := a.template(v, data, ctx)
			if err != nil {
				return size{}, err
			}
			s = s.plus(sub)
		}
		return s, nil
	case string:
		// A templatefile placeholder is replaced by its rendered value.
		n := len(quote(t))
		for name, rendered := range a.b.Templates {
			if c := strings.Count(t, Placeholder(name)); c > 0 {
				n += c * (rendered - len(Placeholder(name)))
			}
		}
		return fixed(n), nil
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return size{}, err
		}
		return fixed(len(b)), nil
	}
}

// reference bounds what a path in a template selects.
func (a *analysis) reference(p string, data value, ctx map[string]int) (size, error) {
	if rest, ok := strings.CutPrefix(p, "$$."); ok {
		if rest == "Execution.Input" || strings.HasPrefix(rest, "Execution.Input.") {
			return size{per: 1}, nil
		}
		n, ok := ctx[p]
		if !ok {
			return size{}, fmt.Errorf("no bound for the context object's %s", p)
		}
		return fixed(n), nil
	}
	segments, err := pathSegments(p)
	if err != nil {
		return size{}, err
	}
	return data.get(segments), nil
}

var simplePath = regexp.MustCompile(`^\$(\.[A-Za-z0-9_-]+)*$`)

// pathSegments splits a reference path of dotted names ("$.a.b"); the size
// model refuses brackets, wildcards and intrinsic functions.
func pathSegments(p string) ([]string, error) {
	if !simplePath.MatchString(p) {
		return nil, fmt.Errorf("the size model knows only paths of dotted names, not %q", p)
	}
	if p == "$" {
		return nil, nil
	}
	return strings.Split(p[2:], "."), nil
}

// applyPath applies an InputPath or OutputPath.
func applyPath(p Path, data value) (value, error) {
	switch {
	case p.Null:
		return whole(fixed(len("{}"))), nil
	case p.IsZero() || p.Value == "$":
		return data, nil
	}
	segments, err := pathSegments(p.Value)
	if err != nil {
		return value{}, err
	}
	return whole(data.get(segments)), nil
}

// applyResultPath puts a result into the state's input.
func applyResultPath(p Path, in, result value) (value, error) {
	switch {
	case p.Null:
		return in, nil
	case p.IsZero() || p.Value == "$":
		return result, nil
	}
	segments, err := pathSegments(p.Value)
	if err != nil {
		return value{}, fmt.Errorf("in ResultPath: %w", err)
	}
	if len(segments) != 1 {
		return value{}, fmt.Errorf("in ResultPath: the size model knows only top-level fields ($.name), not %q", p.Value)
	}
	return in.with(segments[0], result.total()), nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
