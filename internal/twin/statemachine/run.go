package statemachine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"time"
	"unsafe"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/webhook"
)

// ExpressMaxDuration is the longest an Express execution runs.
const ExpressMaxDuration = 5 * time.Minute

// Runner runs executions of compiled state machines, the way an Express
// workflow runs under StartSyncExecution: to completion, synchronously.
type Runner struct {
	Invoker Invoker
	// Clock defaults to SystemClock, Rand to math/rand/v2.
	Clock Clock
	Rand  Rand
	// History, when set, receives every finished execution.
	History HistoryStore
	// Region and Account make the ARNs (defaults us-east-1, 123456789012).
	Region  string
	Account string
	// MaxDuration caps every execution (default ExpressMaxDuration); a
	// definition's TimeoutSeconds can only shorten it.
	MaxDuration time.Duration
	// DataLimit caps, in bytes of compact JSON, the execution input, every
	// state's input and output and every task's parameters and result, as
	// Step Functions does; past it the execution fails with the terminal
	// States.DataLimitExceeded. 0 is Step Functions' 262,144 bytes
	// (config.StatePayloadMax).
	DataLimit int

	running runningSet
}

// InputError is an execution request the runner refuses before starting:
// the input is not JSON, or the name is invalid.
type InputError struct {
	Field  string // "input" or "name"
	Reason string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Reason }

// StateMachineARN is the ARN of the state machine called name.
func (r *Runner) StateMachineARN(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", r.region(), r.account(), name)
}

func (r *Runner) region() string {
	if r.Region == "" {
		return "us-east-1"
	}
	return r.Region
}

func (r *Runner) dataLimit() int {
	if r.DataLimit <= 0 {
		return config.StatePayloadMax
	}
	return r.DataLimit
}

func (r *Runner) account() string {
	if r.Account == "" {
		return "123456789012"
	}
	return r.Account
}

// executionName is what StartSyncExecution accepts as a name: 1 to 80
// characters without whitespace, brackets, wildcards, special characters or
// control characters.
var executionName = regexp.MustCompile(`^[^\s<>{}\[\]?*"#%\\^|~` + "`" + `$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$`)

// Execute runs one execution of m to its end. The returned error is an
// *InputError, or ctx's error when the caller gave up; a failed execution is
// a result (Status FAILED or TIMED_OUT), not an error.
func (r *Runner) Execute(ctx context.Context, m *Machine, name string, input []byte) (*Execution, error) {
	if name == "" {
		name = newUUID()
	} else if !executionName.MatchString(name) {
		return nil, &InputError{Field: "name", Reason: fmt.Sprintf("invalid execution name %q", name)}
	}
	if len(input) == 0 {
		input = []byte("{}")
	}
	data, err := decodeJSON(input)
	if err != nil {
		return nil, &InputError{Field: "input", Reason: "the input is not valid JSON: " + err.Error()}
	}
	if len(input) > r.dataLimit() {
		return nil, &InputError{Field: "input", Reason: fmt.Sprintf("the input is %d bytes, more than the %d bytes an execution takes", len(input), r.dataLimit())}
	}
	clock := r.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	rnd := r.Rand
	if rnd == nil {
		rnd = globalRand{}
	}
	limit := r.MaxDuration
	if limit <= 0 {
		limit = ExpressMaxDuration
	}
	if m.timeout > 0 && m.timeout < limit {
		limit = m.timeout
	}
	start := clock.Now()
	x := &execution{
		runner: r,
		clock:  clock,
		rand:   rnd,
		m:      m,
		ctx:    ctx,
		record: Execution{
			ARN:             fmt.Sprintf("arn:aws:states:%s:%s:express:%s:%s:%s", r.region(), r.account(), m.Name, name, newUUID()),
			Name:            name,
			StateMachine:    m.Name,
			StateMachineARN: r.StateMachineARN(m.Name),
			Start:           start,
			Input:           append(json.RawMessage(nil), input...),
		},
		deadline: start.Add(limit),
	}
	x.record.Route, x.record.Group = envelopeLabels(data)
	if m, ok := data.(map[string]any); ok {
		x.lastObject, x.lastRaw = reflect.ValueOf(m).UnsafePointer(), x.record.Input
	}
	x.contextExecution = map[string]any{
		"Id":        x.record.ARN,
		"Input":     data,
		"Name":      name,
		"RoleArn":   fmt.Sprintf("arn:aws:iam::%s:role/%s-local", r.account(), m.Name),
		"StartTime": start.UTC().Format(timestampLayout),
	}
	x.contextStateMachine = map[string]any{"Id": x.record.StateMachineARN, "Name": m.Name}
	x.event(Event{Type: EventExecutionStarted, Input: x.record.Input})

	r.running.add(x.record)
	output, failure := x.run(data)
	r.running.remove(x.record.ARN)
	x.record.Stop = clock.Now()
	switch {
	case failure == nil:
		x.record.Status = StatusSucceeded
		x.record.Output = x.raw(output)
		x.event(Event{Type: EventExecutionSucceeded, Output: x.record.Output})
	case failure == errExecutionTimedOut:
		x.record.Status, x.record.Error, x.record.Cause = StatusTimedOut, failure.Name, failure.Cause
		x.event(Event{Type: EventExecutionTimedOut, Error: failure.Name, Cause: failure.Cause})
	default:
		x.record.Status, x.record.Error, x.record.Cause = StatusFailed, failure.Name, failure.Cause
		x.event(Event{Type: EventExecutionFailed, Error: failure.Name, Cause: failure.Cause})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.History != nil {
		if err := r.History.Append(context.WithoutCancel(ctx), &x.record); err != nil {
			return &x.record, fmt.Errorf("record execution history: %w", err)
		}
	}
	return &x.record, nil
}

// timestampLayout is how the context object shows times (ISO 8601, UTC, ms).
const timestampLayout = "2006-01-02T15:04:05.000Z"

// errExecutionTimedOut ends an execution that outlived its deadline.
var errExecutionTimedOut = &Error{Name: ErrTimeout, Cause: "The execution ran longer than its maximum duration."}

// errCanceled ends an execution whose caller went away.
var errCanceled = &Error{Name: ErrRuntime, Cause: "The execution was canceled by its caller."}

type execution struct {
	runner   *Runner
	clock    Clock
	rand     Rand
	m        *Machine
	ctx      context.Context
	record   Execution
	deadline time.Time

	contextExecution, contextStateMachine map[string]any

	lastObject unsafe.Pointer // see raw
	lastRaw    json.RawMessage
}

func (x *execution) event(e Event) {
	e.ID = len(x.record.Events) + 1
	e.Timestamp = x.clock.Now()
	x.record.Events = append(x.record.Events, e)
}

// raw is v's JSON for the history. Values are immutable and states often
// pass an object on unchanged (a state's input is the previous output), so
// the last object encoded is remembered by identity and not encoded again.
func (x *execution) raw(v any) json.RawMessage {
	m, isObject := v.(map[string]any)
	if isObject && x.lastRaw != nil && reflect.ValueOf(m).UnsafePointer() == x.lastObject {
		return x.lastRaw
	}
	b, err := webhook.CompactJSON(v)
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", err.Error()))
	}
	if isObject {
		x.lastObject, x.lastRaw = reflect.ValueOf(m).UnsafePointer(), b
	}
	return b
}

// run walks the states from StartAt until one ends the execution.
func (x *execution) run(data any) (any, *Error) {
	name := x.m.startAt
	for {
		if x.ctx.Err() != nil {
			return nil, errCanceled
		}
		if !x.clock.Now().Before(x.deadline) {
			return nil, errExecutionTimedOut
		}
		s := x.m.states[name]
		typ := string(s.def.Type)
		entered := x.clock.Now()
		input := x.raw(data)
		x.event(Event{Type: StateEntered(typ), State: name, Input: input})
		if err := x.checkSize(name, "input data", input); err != nil {
			return nil, err
		}
		out, next, err := x.runState(s, data, entered)
		if err != nil {
			return nil, err
		}
		output := x.raw(out)
		if err := x.checkSize(name, "output", output); err != nil {
			return nil, err
		}
		x.event(Event{Type: StateExited(typ), State: name, Output: output})
		if next == "" {
			return out, nil
		}
		data, name = out, next
	}
}

// contextObject is $$ while a state runs.
func (x *execution) contextObject(s *state, entered time.Time, retryCount int) map[string]any {
	return map[string]any{
		"Execution":    x.contextExecution,
		"StateMachine": x.contextStateMachine,
		"State": map[string]any{
			"Name":        s.name,
			"EnteredTime": entered.UTC().Format(timestampLayout),
			"RetryCount":  json.Number(fmt.Sprint(retryCount)),
		},
	}
}

func (x *execution) runState(s *state, data any, entered time.Time) (any, string, *Error) {
	switch s.def.Type {
	case asl.TypeTask:
		return x.runTask(s, data, entered)
	case asl.TypeFail:
		return nil, "", x.failState(s, data, entered)
	}
	ctx := x.contextObject(s, entered, 0)
	effective, err := s.applyInputPath(data, ctx)
	if err != nil {
		return nil, "", err
	}
	next := s.def.Next
	var out any
	switch s.def.Type {
	case asl.TypeChoice:
		if next, err = s.choose(effective, ctx); err != nil {
			return nil, "", err
		}
		out = effective
	case asl.TypeWait:
		d, err := s.waitDuration(effective, ctx, x.clock.Now())
		if err != nil {
			return nil, "", err
		}
		if err := x.sleep(d); err != nil {
			return nil, "", err
		}
		out = effective
	case asl.TypeSucceed:
		out, next = effective, ""
	case asl.TypePass:
		result := s.result
		if s.def.Result == nil {
			if result, err = s.applyParameters(effective, ctx); err != nil {
				return nil, "", err
			}
			if err := x.checkSize(s.name, "parameters", x.raw(result)); err != nil {
				return nil, "", err
			}
		}
		if out, err = s.applyResultPath(data, result); err != nil {
			return nil, "", err
		}
	}
	if out, err = s.applyOutputPath(out, ctx); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// runTask runs a Task with its retries, then its catchers.
func (x *execution) runTask(s *state, data any, entered time.Time) (any, string, *Error) {
	retries := make([]int, len(s.retry))
	retryCount := 0
	for {
		ctx := x.contextObject(s, entered, retryCount)
		out, err := x.attempt(s, data, ctx, retryCount)
		if err == nil {
			return out, s.def.Next, nil
		}
		if err == errExecutionTimedOut || err == errCanceled || terminal(err.Name) {
			return nil, "", err
		}
		if i := firstMatch(s.retry, err.Name); i >= 0 && retries[i] < s.retry[i].EffectiveMaxAttempts() {
			retries[i]++
			wait := RetryDelay(s.retry[i], retries[i], x.rand.Float64())
			x.event(Event{Type: EventRetryScheduled, State: s.name, Error: err.Name, RetryCount: retryCount + 1, Wait: wait})
			if err := x.sleep(wait); err != nil {
				return nil, "", err
			}
			retryCount++
			continue
		}
		for _, c := range s.catch {
			if !matches(c.errorEquals, err.Name) {
				continue
			}
			caught := map[string]any{"Error": err.Name, "Cause": err.Cause}
			out := data
			if !c.resultNull {
				var perr *Error
				if out, perr = setResult(c.resultPath, data, caught); perr != nil {
					return nil, "", perr
				}
			}
			x.event(Event{Type: EventCaught, State: s.name, Error: err.Name, Cause: err.Cause})
			return out, c.next, nil
		}
		return nil, "", err
	}
}

func firstMatch(retry []asl.Retrier, name string) int {
	for i, r := range retry {
		if matches(r.ErrorEquals, name) {
			return i
		}
	}
	return -1
}

// attempt is one try of a Task: input processing, the invocation, result
// processing.
func (x *execution) attempt(s *state, data any, ctx map[string]any, retryCount int) (any, *Error) {
	effective, err := s.applyInputPath(data, ctx)
	if err != nil {
		return nil, err
	}
	if effective, err = s.applyParameters(effective, ctx); err != nil {
		return nil, err
	}
	if err := x.checkSize(s.name, "parameters", x.raw(effective)); err != nil {
		return nil, err
	}
	var payload any = effective
	if s.lambdaInvoke {
		// Without Payload, the function gets an empty JSON object.
		payload = map[string]any{}
		if m, ok := effective.(map[string]any); ok {
			if p, ok := m["Payload"]; ok {
				payload = p
			}
		}
	}
	body := x.raw(payload)
	x.event(Event{Type: EventTaskScheduled, State: s.name, Resource: s.functionName, Input: body, RetryCount: retryCount})
	answer, err := x.invoke(s, body)
	if err != nil {
		typ := EventTaskFailed
		if err.Name == ErrTimeout {
			typ = EventTaskTimedOut
		}
		x.event(Event{Type: typ, State: s.name, Error: err.Name, Cause: err.Cause})
		return nil, err
	}
	x.event(Event{Type: EventTaskSucceeded, State: s.name, Output: answer})
	var result any
	if s.lambdaInvoke {
		result = lambdaInvokeResult(answer, newUUID())
	} else if result, _ = decodeJSON(answer); result == nil {
		result = string(answer)
	}
	if err := x.checkSize(s.name, "result", x.raw(result)); err != nil {
		return nil, err
	}
	if s.resultSelector != nil {
		if result, err = s.resultSelector.eval(result, ctx); err != nil {
			return nil, err
		}
	}
	out, err := s.applyResultPath(data, result)
	if err != nil {
		return nil, err
	}
	return s.applyOutputPath(out, ctx)
}

// invoke calls the function, bounded by the task's TimeoutSeconds and the
// execution's deadline.
func (x *execution) invoke(s *state, payload []byte) ([]byte, *Error) {
	limit, execLimited := s.timeout, false
	if remaining := x.deadline.Sub(x.clock.Now()); limit <= 0 || remaining < limit {
		limit, execLimited = remaining, true
	}
	// The timer starts before the function does: a function that makes the
	// clock pass (a test's virtual clock) cannot outrun its own timeout.
	timer := x.clock.After(limit)
	deadline := x.clock.Now().Add(limit)
	ctx, cancel := context.WithCancel(x.ctx)
	defer cancel()
	type answer struct {
		out []byte
		err error
	}
	done := make(chan answer, 1)
	go func() {
		out, err := x.runner.Invoker.Invoke(ctx, s.functionName, payload)
		done <- answer{out, err}
	}()
	timedOut := func() ([]byte, *Error) {
		if execLimited {
			return nil, errExecutionTimedOut
		}
		return nil, &Error{Name: ErrTimeout, Cause: fmt.Sprintf("The task did not finish within its TimeoutSeconds (%d).", s.def.TimeoutSeconds)}
	}
	select {
	case a := <-done:
		// An answer that arrives when the time is up is too late, even if
		// the timer has not been read yet.
		if !x.clock.Now().Before(deadline) {
			return timedOut()
		}
		if a.err != nil {
			return nil, taskError(a.err)
		}
		return a.out, nil
	case <-timer:
		return timedOut()
	case <-x.ctx.Done():
		return nil, errCanceled
	}
}

// checkSize fails the execution with States.DataLimitExceeded when data of
// state name (its input or output, a task's parameters or result) is larger
// than the runner's data limit.
func (x *execution) checkSize(name, what string, data json.RawMessage) *Error {
	if limit := x.runner.dataLimit(); len(data) > limit {
		return &Error{Name: ErrDataLimitExceeded, Cause: fmt.Sprintf("The %s of state '%s' is %d bytes, more than the maximum of %d bytes.", what, name, len(data), limit)}
	}
	return nil
}

// sleep waits d, or fails the execution when d reaches past its deadline.
func (x *execution) sleep(d time.Duration) *Error {
	remaining := x.deadline.Sub(x.clock.Now())
	if d >= remaining {
		if x.clock.Sleep(x.ctx, remaining) != nil {
			return errCanceled
		}
		return errExecutionTimedOut
	}
	if x.clock.Sleep(x.ctx, d) != nil {
		return errCanceled
	}
	return nil
}

func (x *execution) failState(s *state, data any, entered time.Time) *Error {
	ctx := x.contextObject(s, entered, 0)
	e := &Error{Name: s.def.Error, Cause: s.def.Cause}
	for _, f := range []struct {
		field string
		tpl   template
		dst   *string
	}{{"ErrorPath", s.errorPath, &e.Name}, {"CausePath", s.causePath, &e.Cause}} {
		if f.tpl == nil {
			continue
		}
		v, err := f.tpl.eval(data, ctx)
		if err != nil {
			return err
		}
		str, ok := v.(string)
		if !ok {
			return runtimeErrorf("The %s of Fail state '%s' must resolve to a string, not %s", f.field, s.name, kind(v))
		}
		*f.dst = str
	}
	return e
}

func (s *state) applyInputPath(data any, ctx map[string]any) (any, *Error) {
	switch {
	case s.inputNull:
		return map[string]any{}, nil
	case s.inputPath == nil:
		return data, nil
	}
	v, ok := s.inputPath.get(data, ctx)
	if !ok {
		return nil, runtimeErrorf("Invalid path '%s' : No results for path in the input of state '%s': '%s'", s.inputPath, s.name, compactJSON(data))
	}
	return v, nil
}

func (s *state) applyParameters(data any, ctx map[string]any) (any, *Error) {
	if s.parameters == nil {
		return data, nil
	}
	return s.parameters.eval(data, ctx)
}

func (s *state) applyResultPath(data, result any) (any, *Error) {
	if s.resultNull {
		return data, nil
	}
	return setResult(s.resultPath, data, result)
}

func setResult(p *path, data, result any) (any, *Error) {
	if p == nil {
		return result, nil
	}
	out, err := p.set(data, result)
	if err != nil {
		return nil, &Error{Name: ErrResultPathMatchFailure, Cause: err.Error()}
	}
	return out, nil
}

func (s *state) applyOutputPath(data any, ctx map[string]any) (any, *Error) {
	switch {
	case s.outputNull:
		return map[string]any{}, nil
	case s.outputPath == nil:
		return data, nil
	}
	v, ok := s.outputPath.get(data, ctx)
	if !ok {
		return nil, runtimeErrorf("Invalid path '%s' : No results for path in the output of state '%s': '%s'", s.outputPath, s.name, compactJSON(data))
	}
	return v, nil
}

func (s *state) choose(data any, ctx map[string]any) (string, *Error) {
	for _, r := range s.choices {
		ok, err := r.eval(s.name, data, ctx)
		if err != nil {
			return "", err
		}
		if ok {
			return r.next, nil
		}
	}
	if s.def.Default != "" {
		return s.def.Default, nil
	}
	return "", &Error{Name: ErrNoChoiceMatched, Cause: fmt.Sprintf("No Choice Rules matched the input of state '%s' and no Default is specified: '%s'", s.name, compactJSON(data))}
}

func (s *state) waitDuration(data any, ctx map[string]any, now time.Time) (time.Duration, *Error) {
	switch {
	case s.secondsPath != nil:
		v, ok := s.secondsPath.get(data, ctx)
		n, isNum := v.(json.Number)
		secs, err := n.Int64()
		if !ok || !isNum || err != nil || secs < 0 {
			return 0, runtimeErrorf("The SecondsPath '%s' of state '%s' must point to a non-negative integer", s.secondsPath, s.name)
		}
		return time.Duration(secs) * time.Second, nil
	case s.timestampPath != nil:
		v, ok := s.timestampPath.get(data, ctx)
		str, isStr := v.(string)
		t, err := time.Parse(time.RFC3339, str)
		if !ok || !isStr || err != nil {
			return 0, runtimeErrorf("The TimestampPath '%s' of state '%s' must point to an RFC 3339 timestamp", s.timestampPath, s.name)
		}
		return t.Sub(now), nil
	case !s.timestamp.IsZero():
		return s.timestamp.Sub(now), nil
	}
	return time.Duration(s.def.Seconds) * time.Second, nil
}

// envelopeLabels reads the route and group of a webhook.Envelope input.
func envelopeLabels(input any) (route, group string) {
	m, ok := input.(map[string]any)
	if !ok {
		return "", ""
	}
	route, _ = m["route"].(string)
	group, _ = m["group"].(string)
	return route, group
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(errors.New("crypto/rand failed: " + err.Error()))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
