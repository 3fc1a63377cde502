package statemachine

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/webhookq/webhookq/internal/generate/asl"
)

// Machine is a compiled state machine definition, ready to run any number of
// executions concurrently (it is never modified after Compile).
type Machine struct {
	// Name is the state machine's name, e.g. "sales-approvals-approval-progress".
	Name       string
	Definition asl.StateMachine
	// Source is the workflow document as deployed (placeholders included),
	// when the machine came from Render.
	Source  []byte
	startAt string
	timeout time.Duration
	states  map[string]*state
}

type state struct {
	name string
	def  asl.State

	inputPath, outputPath, resultPath *path
	inputNull, outputNull, resultNull bool

	parameters, resultSelector template
	result                     any // Pass

	// Task.
	lambdaInvoke bool // the optimized integration (result wrapped in Payload)
	functionName string
	timeout      time.Duration
	retry        []asl.Retrier
	catch        []catcher

	// Choice.
	choices []*rule

	// Wait.
	secondsPath   *path
	timestamp     time.Time
	timestampPath *path

	// Fail.
	errorPath, causePath template
}

type catcher struct {
	errorEquals []string
	resultPath  *path
	resultNull  bool
	next        string
}

// Compile checks a definition against what the runner implements and
// prepares it to run. Everything it cannot run faithfully is an error here,
// never a surprise in the middle of an execution.
func Compile(name string, def asl.StateMachine) (*Machine, error) {
	if def.QueryLanguage != "" && def.QueryLanguage != asl.QueryLanguageJSONPath {
		return nil, fmt.Errorf("state machine %s: QueryLanguage %q is not supported (only JSONPath)", name, def.QueryLanguage)
	}
	if _, ok := def.States[def.StartAt]; !ok {
		return nil, fmt.Errorf("state machine %s: StartAt %q is not a state", name, def.StartAt)
	}
	m := &Machine{
		Name:       name,
		Definition: def,
		startAt:    def.StartAt,
		timeout:    time.Duration(def.TimeoutSeconds) * time.Second,
		states:     make(map[string]*state, len(def.States)),
	}
	names := make([]string, 0, len(def.States))
	for n := range def.States {
		names = append(names, n)
	}
	sort.Strings(names)
	var problems []string
	for _, n := range names {
		s, err := compileState(n, def.States[n])
		if err != nil {
			problems = append(problems, fmt.Sprintf("state %s: %v", n, err))
			continue
		}
		for _, next := range s.transitions() {
			if _, ok := def.States[next]; !ok {
				problems = append(problems, fmt.Sprintf("state %s: transition to unknown state %q", n, next))
			}
		}
		m.states[n] = s
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("state machine %s:\n  %s", name, strings.Join(problems, "\n  "))
	}
	return m, nil
}

func (s *state) transitions() []string {
	var out []string
	if s.def.Next != "" {
		out = append(out, s.def.Next)
	}
	if s.def.Default != "" {
		out = append(out, s.def.Default)
	}
	for _, r := range s.choices {
		out = append(out, r.next)
	}
	for _, c := range s.catch {
		out = append(out, c.next)
	}
	return out
}

func compileState(name string, d asl.State) (*state, error) {
	s := &state{name: name, def: d}
	var err error
	if s.inputPath, s.inputNull, err = optionalPath(d.InputPath); err != nil {
		return nil, fmt.Errorf("InputPath: %w", err)
	}
	if s.outputPath, s.outputNull, err = optionalPath(d.OutputPath); err != nil {
		return nil, fmt.Errorf("OutputPath: %w", err)
	}
	if s.resultPath, s.resultNull, err = optionalPath(d.ResultPath); err != nil {
		return nil, fmt.Errorf("ResultPath: %w", err)
	}
	if s.resultPath != nil && s.resultPath.context {
		return nil, fmt.Errorf("ResultPath %s cannot write to the context object", s.resultPath)
	}
	if d.Parameters != nil {
		if s.parameters, err = compileTemplate(map[string]any(d.Parameters)); err != nil {
			return nil, fmt.Errorf("Parameters: %w", err)
		}
	}
	if d.ResultSelector != nil {
		if s.resultSelector, err = compileTemplate(map[string]any(d.ResultSelector)); err != nil {
			return nil, fmt.Errorf("ResultSelector: %w", err)
		}
	}
	ends := d.Type == asl.TypeSucceed || d.Type == asl.TypeFail || d.Type == asl.TypeChoice
	if !ends && (d.Next == "") == !d.End {
		return nil, fmt.Errorf("exactly one of Next and End is required")
	}
	if d.HeartbeatSeconds != 0 {
		return nil, fmt.Errorf("HeartbeatSeconds is not supported (no callback tasks)")
	}
	switch d.Type {
	case asl.TypeTask:
		return s, s.compileTask()
	case asl.TypeChoice:
		if len(d.Choices) == 0 {
			return nil, fmt.Errorf("a Choice state needs Choices")
		}
		for i, c := range d.Choices {
			r, err := compileRule(c, true)
			if err != nil {
				return nil, fmt.Errorf("Choices[%d]: %w", i, err)
			}
			s.choices = append(s.choices, r)
		}
	case asl.TypePass:
		s.result = normalize(d.Result)
	case asl.TypeWait:
		return s, s.compileWait()
	case asl.TypeFail:
		if d.ErrorPath != "" {
			if s.errorPath, err = compileDynamic("ErrorPath", d.ErrorPath); err != nil {
				return nil, fmt.Errorf("ErrorPath: %w", err)
			}
		}
		if d.CausePath != "" {
			if s.causePath, err = compileDynamic("CausePath", d.CausePath); err != nil {
				return nil, fmt.Errorf("CausePath: %w", err)
			}
		}
	case asl.TypeSucceed:
	default:
		return nil, fmt.Errorf("state type %q is not supported", d.Type)
	}
	return s, nil
}

func optionalPath(p asl.Path) (*path, bool, error) {
	if p.Null {
		return nil, true, nil
	}
	if p.Value == "" {
		return nil, false, nil
	}
	c, err := compilePath(p.Value)
	return c, false, err
}

// lambdaFunctionARNPrefix marks a Task whose Resource is a Lambda function
// ARN itself (the legacy integration: the result is the payload, unwrapped).
const lambdaFunctionARNPrefix = "arn:aws:lambda:"

func (s *state) compileTask() error {
	d := s.def
	switch {
	case d.Resource == asl.ResourceLambdaInvoke:
		s.lambdaInvoke = true
		fn, ok := d.Parameters["FunctionName"]
		if !ok {
			return fmt.Errorf("a %s task needs Parameters.FunctionName", d.Resource)
		}
		if s.functionName, ok = fn.(string); !ok {
			return fmt.Errorf("Parameters.FunctionName must be a string (FunctionName.$ is not supported)")
		}
		for k := range d.Parameters {
			switch k {
			case "FunctionName", "Payload", "Payload.$":
			default:
				return fmt.Errorf("Parameters.%s is not supported for %s", k, d.Resource)
			}
		}
	case strings.HasPrefix(d.Resource, lambdaFunctionARNPrefix):
		s.functionName = d.Resource
	default:
		return fmt.Errorf("Resource %q is not supported (only %s and Lambda function ARNs)", d.Resource, asl.ResourceLambdaInvoke)
	}
	if d.TimeoutSeconds < 0 {
		return fmt.Errorf("TimeoutSeconds must be positive")
	}
	s.timeout = time.Duration(d.TimeoutSeconds) * time.Second
	for i, r := range d.Retry {
		if len(r.ErrorEquals) == 0 {
			return fmt.Errorf("Retry[%d]: ErrorEquals must not be empty", i)
		}
		if r.EffectiveMaxAttempts() < 0 || r.EffectiveIntervalSeconds() < 1 || r.EffectiveBackoffRate() < 1 || r.MaxDelaySeconds < 0 {
			return fmt.Errorf("Retry[%d]: MaxAttempts ≥ 0, IntervalSeconds ≥ 1, BackoffRate ≥ 1 and MaxDelaySeconds ≥ 0 are required", i)
		}
		switch r.JitterStrategy {
		case "", asl.JitterFull, asl.JitterNone:
		default:
			return fmt.Errorf("Retry[%d]: JitterStrategy %q is not FULL or NONE", i, r.JitterStrategy)
		}
	}
	s.retry = d.Retry
	for i, c := range d.Catch {
		if len(c.ErrorEquals) == 0 || c.Next == "" {
			return fmt.Errorf("Catch[%d]: ErrorEquals and Next are required", i)
		}
		rp, null, err := optionalPath(c.ResultPath)
		if err != nil {
			return fmt.Errorf("Catch[%d].ResultPath: %w", i, err)
		}
		s.catch = append(s.catch, catcher{errorEquals: c.ErrorEquals, resultPath: rp, resultNull: null, next: c.Next})
	}
	return nil
}

func (s *state) compileWait() error {
	d := s.def
	set := 0
	if d.Seconds > 0 {
		set++
	}
	if d.SecondsPath != "" {
		set++
		p, err := compilePath(d.SecondsPath)
		if err != nil {
			return fmt.Errorf("SecondsPath: %w", err)
		}
		s.secondsPath = p
	}
	if d.Timestamp != "" {
		set++
		t, err := time.Parse(time.RFC3339, d.Timestamp)
		if err != nil {
			return fmt.Errorf("Timestamp: %w", err)
		}
		s.timestamp = t
	}
	if d.TimestampPath != "" {
		set++
		p, err := compilePath(d.TimestampPath)
		if err != nil {
			return fmt.Errorf("TimestampPath: %w", err)
		}
		s.timestampPath = p
	}
	if set > 1 {
		return fmt.Errorf("a Wait state takes one of Seconds, SecondsPath, Timestamp and TimestampPath")
	}
	return nil
}
