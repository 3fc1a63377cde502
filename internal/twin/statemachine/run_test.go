package statemachine

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/webhook"
)

// outcome is what the differential test compares between interpreters.
type outcome struct {
	Status  Status
	Error   string
	Deliver int
	Notify  int
}

func runScenario(t *testing.T, sc scenario) (*Execution, *scriptedFunctions, *virtualClock) {
	t.Helper()
	clock := newVirtualClock()
	fns := newScriptedFunctions(clock, sc.deliver, sc.notifyF)
	r := &Runner{Invoker: fns, Clock: clock, Rand: fixedRand(0.5), Region: "ap-northeast-1", Account: "111122223333"}
	exec, err := r.Execute(context.Background(), generatedMachine(t, sc.notify), "", envelope(t, sc.final))
	if err != nil {
		t.Fatal(err)
	}
	return exec, fns, clock
}

func TestGeneratedWorkflowScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			exec, fns, _ := runScenario(t, sc)
			got := outcome{exec.Status, exec.Error, fns.callCount(deliverFunction), fns.callCount(notifyFunction)}
			want := outcome{sc.wantStatus, sc.wantError, sc.wantDeliver, sc.wantNotify}
			if got != want {
				t.Fatalf("outcome %+v, want %+v\nevents: %v", got, want, eventTypes(exec))
			}
			if sc.wantRetryIDs != nil {
				var seen []int
				for _, p := range fns.payloads(deliverFunction) {
					var req webhook.DeliverRequest
					if err := json.Unmarshal(p, &req); err != nil {
						t.Fatal(err)
					}
					seen = append(seen, req.RetryCount)
				}
				if !slices.Equal(seen, sc.wantRetryIDs) {
					t.Errorf("deliver saw retryCount %v, want %v", seen, sc.wantRetryIDs)
				}
			}
		})
	}
}

func TestDeliverSeesTheEnvelopeAndSucceedReturnsTheResult(t *testing.T) {
	t.Parallel()
	exec, fns, _ := runScenario(t, scenarios[0])
	var req webhook.DeliverRequest
	if err := json.Unmarshal(fns.payloads(deliverFunction)[0], &req); err != nil {
		t.Fatal(err)
	}
	body, _ := req.Webhook.RawBody()
	if req.Webhook.WebhookID != "wh-1" || string(body) != `{"request":"req-7","step":2}` {
		t.Errorf("deliver got %+v", req)
	}
	var res webhook.DeliverResult
	if err := json.Unmarshal(exec.Output, &res); err != nil {
		t.Fatal(err)
	}
	if res != (webhook.DeliverResult{Status: 204, Attempt: 1}) {
		t.Errorf("output %s, want the deliver function's result", exec.Output)
	}
	if exec.Route != "approval-progress" || exec.Group != "req-7" {
		t.Errorf("labels route=%q group=%q", exec.Route, exec.Group)
	}
	if !strings.HasPrefix(exec.ARN, "arn:aws:states:ap-northeast-1:111122223333:express:sales-approvals-approval-progress:") {
		t.Errorf("ARN %s", exec.ARN)
	}
}

func TestNotifyGetsTheCaughtErrorAndContext(t *testing.T) {
	t.Parallel()
	exec, fns, _ := runScenario(t, scenarios[4]) // permanent, final attempt
	var req webhook.NotifyRequest
	if err := json.Unmarshal(fns.payloads(notifyFunction)[0], &req); err != nil {
		t.Fatal(err)
	}
	if req.Error.Error != webhook.ErrPermanent {
		t.Errorf("notify error %q", req.Error.Error)
	}
	var cause FunctionError
	if err := json.Unmarshal([]byte(req.Error.Cause), &cause); err != nil || cause.Type != webhook.ErrPermanent || cause.Message != "target answered 400" {
		t.Errorf("cause %q is not the function error document (%v)", req.Error.Cause, err)
	}
	if req.ExecutionID != exec.ARN || req.StateMachine != "sales-approvals-approval-progress" || req.StartTime != "2026-11-28T09:00:00.000Z" {
		t.Errorf("context fields %+v", req)
	}
	if req.Webhook.WebhookID != "wh-1" {
		t.Errorf("webhook %+v", req.Webhook)
	}
	if exec.Cause != req.Error.Cause {
		t.Errorf("execution cause %q, want the caught cause", exec.Cause)
	}
}

func TestRetryWaitsFollowTheSchedule(t *testing.T) {
	t.Parallel()
	// Three deliver attempts fail retryably: waits 1 s and 2 s, times the
	// jitter draw 0.5 (FULL).
	exec, _, clock := runScenario(t, scenarios[2])
	want := []time.Duration{500 * time.Millisecond, time.Second}
	if got := clock.sleeps(); !slices.Equal(got, want) {
		t.Errorf("slept %v, want %v", got, want)
	}
	var waits []time.Duration
	for _, e := range exec.Events {
		if e.Type == EventRetryScheduled {
			waits = append(waits, e.Wait)
		}
	}
	if !slices.Equal(waits, want) {
		t.Errorf("history waits %v, want %v", waits, want)
	}
	wantEvents := []string{
		"ExecutionStarted", "TaskStateEntered:Deliver",
		"TaskScheduled:Deliver", "TaskFailed:Deliver", "RetryScheduled:Deliver",
		"TaskScheduled:Deliver", "TaskFailed:Deliver", "RetryScheduled:Deliver",
		"TaskScheduled:Deliver", "TaskFailed:Deliver", "ErrorCaught:Deliver", "TaskStateExited:Deliver",
		"ChoiceStateEntered:ShouldNotify", "ChoiceStateExited:ShouldNotify",
		"FailStateEntered:Rethrow", "ExecutionFailed",
	}
	if got := eventTypes(exec); !slices.Equal(got, wantEvents) {
		t.Errorf("events\n%v\nwant\n%v", got, wantEvents)
	}
	for i, e := range exec.Events {
		if e.ID != i+1 || e.Timestamp.IsZero() {
			t.Errorf("event %d: id %d time %v", i, e.ID, e.Timestamp)
		}
	}
}

func TestExecutionTimesOut(t *testing.T) {
	t.Parallel()
	clock := newVirtualClock()
	hang := InvokerFunc(func(ctx context.Context, _ string, _ []byte) ([]byte, error) {
		_ = clock.Sleep(ctx, time.Hour)
		return []byte(`{}`), nil
	})
	m := compileJSON(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"f","Payload.$":"$"},"End":true}}}`)
	r := &Runner{Invoker: hang, Clock: clock}
	exec, err := r.Execute(context.Background(), m, "hang", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if exec.Status != StatusTimedOut || exec.Error != ErrTimeout {
		t.Errorf("status %s error %s, want TIMED_OUT States.Timeout", exec.Status, exec.Error)
	}
	if d := exec.Stop.Sub(exec.Start); d != time.Hour {
		t.Errorf("took %v of virtual time", d)
	}
}

func TestWaitsAndDefinitionTimeout(t *testing.T) {
	t.Parallel()
	// The definition's TimeoutSeconds (10 s) ends the execution in the
	// middle of the second Wait.
	m := compileJSON(t, `{"StartAt":"A","TimeoutSeconds":10,"States":{
		"A":{"Type":"Wait","Seconds":4,"Next":"B"},
		"B":{"Type":"Wait","TimestampPath":"$.until","Next":"C"},
		"C":{"Type":"Succeed"}}}`)
	clock := newVirtualClock()
	until := clock.Now().Add(30 * time.Second).Format(time.RFC3339)
	exec, err := (&Runner{Invoker: echo, Clock: clock}).Execute(context.Background(), m, "", []byte(`{"until":"`+until+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if exec.Status != StatusTimedOut || exec.Stop.Sub(exec.Start) != 10*time.Second {
		t.Errorf("status %s after %v, want TIMED_OUT after 10s", exec.Status, exec.Stop.Sub(exec.Start))
	}
	if got, want := clock.sleeps(), []time.Duration{4 * time.Second, 6 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("slept %v, want %v", got, want)
	}
	if last := exec.Events[len(exec.Events)-1]; last.Type != EventExecutionTimedOut {
		t.Errorf("last event %s", last.Type)
	}
}

func TestCanceledCallerEndsTheExecution(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	inv := InvokerFunc(func(ctx context.Context, _ string, _ []byte) ([]byte, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	})
	h := &MemoryHistory{}
	m := compileJSON(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload":{}},"End":true}}}`)
	_, err := (&Runner{Invoker: inv, History: h}).Execute(ctx, m, "", []byte(`{}`))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func compileJSON(t *testing.T, def string) *Machine {
	t.Helper()
	sm, err := asl.Unmarshal([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile("test", sm)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// echo returns each function's payload unchanged.
var echo = InvokerFunc(func(_ context.Context, _ string, p []byte) ([]byte, error) { return p, nil })

func TestInputOutputProcessing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, def, input string
		wantOutput       string
		wantError        string
	}{
		{
			name: "InputPath Parameters ResultSelector ResultPath OutputPath",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"InputPath":"$.in","Parameters":{"FunctionName":"f","Payload":{"v.$":"$.v","ctx.$":"$$.State.Name","fixed":[1,{"x.$":"$.v"}]}},
				"ResultSelector":{"got.$":"$.Payload","code.$":"$.StatusCode"},"ResultPath":"$.out.r","OutputPath":"$.out","End":true}}}`,
			input:      `{"in":{"v":"a"},"keep":1}`,
			wantOutput: `{"r":{"code":200,"got":{"ctx":"T","fixed":[1,{"x":"a"}],"v":"a"}}}`,
		},
		{
			name: "ResultPath null keeps the input",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"Parameters":{"FunctionName":"f","Payload":{}},"ResultPath":null,"End":true}}}`,
			input: `{"a":1}`, wantOutput: `{"a":1}`,
		},
		{
			name:  "InputPath and OutputPath null pass {}",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":null,"Next":"Q"},"Q":{"Type":"Pass","OutputPath":null,"End":true}}}`,
			input: `{"a":1}`, wantOutput: `{}`,
		},
		{
			name:  "Pass Result into a nested ResultPath",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"n":1.5,"big":12345678901},"ResultPath":"$.a['b c'].d","End":true}}}`,
			input: `{"a":{"x":[1,2]}}`, wantOutput: `{"a":{"b c":{"d":{"big":12345678901,"n":1.5}},"x":[1,2]}}`,
		},
		{
			name:  "Pass Parameters with intrinsics and array index",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"s.$":"States.Format('{} of {} \\{x\\}', $.list[1], 3)","j.$":"States.StringToJson($.doc)","t.$":"States.JsonToString($.list)","a.$":"States.Array('x', $.list[0], States.MathAdd(1, 2))"},"End":true}}}`,
			input: `{"list":[7,8],"doc":"{\"k\":[true,null]}"}`, wantOutput: `{"a":["x",7,3],"j":{"k":[true,null]},"s":"8 of 3 {x}","t":"[7,8]"}`,
		},
		{
			name:  "Choice routes on And/Or/Not and falls to Default",
			def:   `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.n","IsNumeric":true},{"Not":{"Variable":"$.n","NumericLessThan":5}}],"Next":"Big"},{"Or":[{"Variable":"$.s","StringMatches":"a*z"},{"Variable":"$.missing","IsPresent":true}],"Next":"AZ"}],"Default":"Other"},"Big":{"Type":"Pass","Result":"big","End":true},"AZ":{"Type":"Pass","Result":"az","End":true},"Other":{"Type":"Pass","Result":"other","End":true}}}`,
			input: `{"n":3,"s":"abcz"}`, wantOutput: `"az"`,
		},
		{
			name:      "Choice without match or Default fails",
			def:       `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.s","StringEquals":"x","Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			input:     `{"s":"y"}`,
			wantError: ErrNoChoiceMatched,
		},
		{
			name:      "missing Parameters path is States.Runtime, not caught by States.ALL",
			def:       `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload.$":"$.nope"},"Catch":[{"ErrorEquals":["States.ALL"],"Next":"S"}],"End":true},"S":{"Type":"Succeed"}}}`,
			input:     `{}`,
			wantError: ErrRuntime,
		},
		{
			name:      "Fail with ErrorPath and CausePath",
			def:       `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('cause {}', $.c)"}}}`,
			input:     `{"e":"My.Error","c":42}`,
			wantError: "My.Error",
		},
		{
			name:      "ResultPath into a string is States.ResultPathMatchFailure",
			def:       `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"ResultPath":"$.s.x","End":true}}}`,
			input:     `{"s":"text"}`,
			wantError: ErrResultPathMatchFailure,
		},
		{
			name:       "Wait until a past Timestamp does not wait",
			def:        `{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"2020-01-01T00:00:00Z","End":true}}}`,
			input:      `{"a":1}`,
			wantOutput: `{"a":1}`,
		},
		{
			name:      "Wait SecondsPath must be a non-negative integer",
			def:       `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.w","End":true}}}`,
			input:     `{"w":-3}`,
			wantError: ErrRuntime,
		},
		{
			name:      "Wait TimestampPath must be a timestamp",
			def:       `{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.t","End":true}}}`,
			input:     `{"t":"tomorrow"}`,
			wantError: ErrRuntime,
		},
		{
			name:       "Wait SecondsPath then Succeed with OutputPath",
			def:        `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.w","Next":"S"},"S":{"Type":"Succeed","OutputPath":"$.w"}}}`,
			input:      `{"w":30}`,
			wantOutput: `30`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &Runner{Invoker: echo, Clock: newVirtualClock()}
			exec, err := r.Execute(context.Background(), compileJSON(t, tc.def), "", []byte(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantError != "" {
				if exec.Status != StatusFailed || exec.Error != tc.wantError {
					t.Fatalf("status %s error %s (%s), want FAILED %s", exec.Status, exec.Error, exec.Cause, tc.wantError)
				}
				return
			}
			if exec.Status != StatusSucceeded || string(exec.Output) != tc.wantOutput {
				t.Fatalf("status %s output %s (error %s: %s), want %s", exec.Status, exec.Output, exec.Error, exec.Cause, tc.wantOutput)
			}
		})
	}
}

func TestFailCauseFromIntrinsic(t *testing.T) {
	t.Parallel()
	r := &Runner{Invoker: echo, Clock: newVirtualClock()}
	m := compileJSON(t, `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","CausePath":"States.Format('cause {}', $.c)"}}}`)
	exec, err := r.Execute(context.Background(), m, "", []byte(`{"c":42}`))
	if err != nil {
		t.Fatal(err)
	}
	if exec.Error != "E" || exec.Cause != "cause 42" {
		t.Errorf("error %q cause %q", exec.Error, exec.Cause)
	}
}

func TestRetrierSelectionAndCatchOrder(t *testing.T) {
	t.Parallel()
	// The first retrier that names the error decides, even when exhausted;
	// MaxAttempts 0 never retries; States.TaskFailed does not match
	// States.Timeout.
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"f","Payload":{}},"TimeoutSeconds":5,
		"Retry":[{"ErrorEquals":["A"],"MaxAttempts":1},{"ErrorEquals":["A","B"],"MaxAttempts":5},{"ErrorEquals":["C"],"MaxAttempts":0},{"ErrorEquals":["States.TaskFailed"],"MaxAttempts":2}],
		"Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.caught","Next":"Caught"},{"ErrorEquals":["States.ALL"],"Next":"All"}],"End":true},
		"Caught":{"Type":"Succeed"},"All":{"Type":"Succeed"}}}`
	cases := []struct {
		err         string
		wantCalls   int
		wantCatcher string
	}{
		{"A", 2, "Caught"},
		{"B", 6, "Caught"},
		{"C", 1, "Caught"},
		{"D", 3, "Caught"},
		{ErrTimeout, 1, "All"},
	}
	for _, tc := range cases {
		t.Run(tc.err, func(t *testing.T) {
			t.Parallel()
			clock := newVirtualClock()
			calls := 0
			inv := InvokerFunc(func(ctx context.Context, _ string, _ []byte) ([]byte, error) {
				calls++
				if tc.err == ErrTimeout {
					_ = clock.Sleep(ctx, 6*time.Second)
					return []byte(`{}`), nil
				}
				return nil, &FunctionError{Type: tc.err, Message: "m"}
			})
			r := &Runner{Invoker: inv, Clock: clock, Rand: fixedRand(0)}
			exec, err := r.Execute(context.Background(), compileJSON(t, def), "", []byte(`{"k":1}`))
			if err != nil {
				t.Fatal(err)
			}
			last := exec.Events[len(exec.Events)-3]
			if calls != tc.wantCalls || last.State != tc.wantCatcher || exec.Status != StatusSucceeded {
				t.Fatalf("calls %d, ended in %s (%s), want %d calls ending in %s; events %v", calls, last.State, exec.Status, tc.wantCalls, tc.wantCatcher, eventTypes(exec))
			}
			if tc.wantCatcher == "Caught" {
				var out struct {
					K      int                 `json:"k"`
					Caught webhook.CaughtError `json:"caught"`
				}
				if err := json.Unmarshal(exec.Output, &out); err != nil || out.K != 1 || out.Caught.Error != tc.err {
					t.Errorf("output %s: the catcher's ResultPath must merge the error into the input", exec.Output)
				}
			}
		})
	}
}

func TestExecuteRejectsBadRequests(t *testing.T) {
	t.Parallel()
	r := &Runner{Invoker: echo, Clock: newVirtualClock()}
	m := compileJSON(t, `{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}`)
	for _, tc := range []struct{ name, input, field string }{
		{"ok", `{}`, ""},
		{"bad name", `{}`, "name"},
		{"x", `{"a":`, "input"},
		{"y", `{} {}`, "input"},
	} {
		name := tc.name
		if tc.field == "name" {
			name = "has space"
		}
		_, err := r.Execute(context.Background(), m, name, []byte(tc.input))
		var ie *InputError
		if (tc.field == "") != (err == nil) || (err != nil && (!errors.As(err, &ie) || ie.Field != tc.field)) {
			t.Errorf("%s: error %v, want field %q", tc.name, err, tc.field)
		}
	}
}

func TestCompileRejectsWhatItCannotRun(t *testing.T) {
	t.Parallel()
	for _, def := range []string{
		`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","End":true}}}`,
		`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"$.items[*].id"},"End":true}}}`,
		`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"States.UUIDv9()"},"End":true}}}`,
		`{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Nowhere"}}}`,
		`{"StartAt":"P","States":{"P":{"Type":"Pass","ResultPath":"$$.x","End":true}}}`,
		`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEquals":"x","BooleanEquals":true,"Next":"C"}]}}}`,
		`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"Retry":[{"ErrorEquals":["A"],"BackoffRate":0.5}],"End":true}}}`,
	} {
		sm, err := asl.Unmarshal([]byte(def))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Compile("bad", sm); err == nil {
			t.Errorf("Compile accepted %s", def)
		}
	}
}

func TestRenderSubstitutesPlaceholders(t *testing.T) {
	t.Parallel()
	name, file := generatedWorkflow(t, config.NotifyFinal)
	if _, err := Render(name, file, map[string]string{asl.DeliverFunctionARNVar: "d"}); err == nil || !strings.Contains(err.Error(), "${notify_function_arn}") {
		t.Errorf("a missing placeholder value: %v", err)
	}
	m, err := Render(name, file, localFunctions())
	if err != nil {
		t.Fatal(err)
	}
	if got := m.states[asl.StateDeliver].functionName; got != deliverFunction {
		t.Errorf("Deliver invokes %q", got)
	}
}
