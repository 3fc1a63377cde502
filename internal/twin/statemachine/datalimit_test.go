package statemachine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/webhook"
)

// States.DataLimitExceeded is terminal, as on AWS: no Retry or Catch takes
// it, States.ALL included, wherever the data grew past the limit.
func TestDataLimitExceededIsTerminal(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 600)
	task := func(params map[string]any, next string) asl.State {
		return asl.State{Type: asl.TypeTask, Resource: "arn:aws:lambda:us-east-1:123456789012:function:f", Parameters: params, Next: next, End: next == "",
			Retry: []asl.Retrier{{ErrorEquals: []string{asl.ErrorAll}}},
			Catch: []asl.Catcher{{ErrorEquals: []string{asl.ErrorAll}, Next: "Caught"}}}
	}
	caught := asl.State{Type: asl.TypePass, End: true}
	for _, tc := range []struct {
		name   string
		states map[string]asl.State
		answer string
		want   string // in the cause
	}{
		{"parameters", map[string]asl.State{"T": task(map[string]any{"a.$": "$", "b.$": "$", "c.$": "$"}, ""), "Caught": caught}, `{}`, "The parameters of state 'T'"},
		{"result", map[string]asl.State{"T": task(nil, ""), "Caught": caught}, `"` + big + big + `"`, "The result of state 'T'"},
		{"task output", map[string]asl.State{"T": withResultPath(task(nil, ""), "$.r"), "Caught": caught}, `"` + big + `"`, "The output of state 'T'"},
		{"pass output", map[string]asl.State{"T": {Type: asl.TypePass, Parameters: map[string]any{"a.$": "$", "b.$": "$"}, ResultPath: asl.PathOf("$.copy"), Next: "U"}, "U": {Type: asl.TypePass, End: true}}, `{}`, "The output of state 'T'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := Compile("m", asl.StateMachine{StartAt: "T", States: tc.states})
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			inv := InvokerFunc(func(context.Context, string, []byte) ([]byte, error) { calls++; return []byte(tc.answer), nil })
			r := &Runner{Invoker: inv, Clock: newVirtualClock(), Rand: fixedRand(0), DataLimit: 1000}
			exec, err := r.Execute(context.Background(), m, "", []byte(`{"pad":"`+strings.Repeat("p", 400)+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			if exec.Status != StatusFailed || exec.Error != ErrDataLimitExceeded || !strings.Contains(exec.Cause, tc.want) {
				t.Fatalf("execution %s %s %q, want FAILED %s: %s", exec.Status, exec.Error, exec.Cause, ErrDataLimitExceeded, tc.want)
			}
			if calls > 1 {
				t.Errorf("the task ran %d times: a retrier took the data limit", calls)
			}
			for _, e := range exec.Events {
				if e.State == "Caught" {
					t.Fatalf("a Catch of States.ALL took the data limit: %v", eventTypes(exec))
				}
			}
		})
	}
	r := &Runner{Invoker: InvokerFunc(func(context.Context, string, []byte) ([]byte, error) { return nil, nil }), DataLimit: 1000}
	m, _ := Compile("m", asl.StateMachine{StartAt: "P", States: map[string]asl.State{"P": {Type: asl.TypePass, End: true}}})
	var ie *InputError
	if _, err := r.Execute(context.Background(), m, "", []byte(`"`+strings.Repeat("x", 1000)+`"`)); !errors.As(err, &ie) {
		t.Errorf("an execution input over the limit: %v, want an InputError", err)
	}
}

func withResultPath(s asl.State, p string) asl.State {
	s.ResultPath = asl.PathOf(p)
	return s
}

// failingFunctions fails every invocation with the largest function error
// webhookq's bounds allow: a message of webhook.MaxCauseBytes characters
// that JSON escapes sixfold, under an error name at Step Functions' limit.
type failingFunctions struct {
	mu    sync.Mutex
	calls map[string]int
	name  string
}

func (f *failingFunctions) Invoke(_ context.Context, fn string, _ []byte) ([]byte, error) {
	f.mu.Lock()
	f.calls[fn]++
	f.mu.Unlock()
	return nil, &FunctionError{Type: f.name, Message: strings.Repeat("\x01", webhook.MaxCauseBytes)}
}

// awsLikeMachine renders the route's generated workflow with function ARNs
// shaped as on AWS, and a runner whose context object values are too.
func awsLikeMachine(t *testing.T, cfg *config.Config, route config.Route, fns Invoker) (*Machine, *Runner) {
	t.Helper()
	b, err := asl.Marshal(asl.Build(cfg, route))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Render(cfg.StateMachineName(route), b, map[string]string{asl.DeliverFunctionARNVar: awsFunctionARN(cfg, "deliver"), asl.NotifyFunctionARNVar: awsFunctionARN(cfg, "notify")})
	if err != nil {
		t.Fatal(err)
	}
	return m, &Runner{Invoker: fns, Clock: newVirtualClock(), Rand: fixedRand(0), Region: cfg.Region, Account: "123456789012"}
}

// The largest body asl.Limits allows runs through the generated workflow's
// longest path — every attempt fails with the largest cause, Notify runs and
// fails the same way, Rethrow — on the runner with the data limit enforced,
// in an envelope whose every other field is at its bound.
func TestLargestBodyRunsTheLongestPath(t *testing.T) {
	t.Parallel()
	cfg, route := testConfig(config.NotifyFinal)
	route.Headers = []string{"X-Event-Type", "X-Delivery-Id"}
	cfg.Routes = []config.Route{route}
	limits, err := asl.Limits(cfg, route)
	if err != nil {
		t.Fatal(err)
	}
	env := webhook.Envelope{
		WebhookID: strings.Repeat(`"`, webhook.MaxIDBytes), Route: route.Name, Group: strings.Repeat(`\`, webhook.MaxGroupBytes),
		MessageID: strings.Repeat(`"`, webhook.MaxIDBytes), SequenceNumber: strings.Repeat("9", webhook.MaxSequenceNumberBytes),
		ReceiveCount: 5, RetryUntil: "2026-11-28T10:00:00.123456789Z", FinalAttempt: true, ReceivedAt: "2026-11-28T09:00:00.123456789+09:00",
		Headers: map[string]string{"X-Event-Type": strings.Repeat(`"`, webhook.MaxHeaderBytes-10), "X-Delivery-Id": strings.Repeat("\t", 10)},
	}
	env.EncodeBody([]byte(strings.Repeat("\xff", limits.MaxBody)))
	input, err := webhook.EncodeInput(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(input) > limits.MaxInput {
		t.Fatalf("the largest body made an input of %d bytes, over the derived %d", len(input), limits.MaxInput)
	}
	fns := &failingFunctions{calls: map[string]int{}, name: webhook.ErrRetryable}
	m, r := awsLikeMachine(t, cfg, route, fns)
	exec, err := r.Execute(context.Background(), m, strings.Repeat("n", 80), input)
	if err != nil {
		t.Fatal(err)
	}
	if exec.Status != StatusFailed || exec.Error != webhook.ErrRetryable || fns.calls[awsFunctionARN(cfg, "notify")] != 1 {
		t.Fatalf("execution %s %s (%.120s), notify called %d times; want FAILED %s after one notification",
			exec.Status, exec.Error, exec.Cause, fns.calls[awsFunctionARN(cfg, "notify")], webhook.ErrRetryable)
	}
}

func awsFunctionARN(cfg *config.Config, fn string) string {
	return "arn:aws:lambda:" + cfg.Region + ":123456789012:function:" + cfg.FunctionName(fn)
}

// The derivation is tight: an input of exactly MaxInput bytes runs the
// longest path with every bound reached (error names of 256 characters, an
// 80-character execution name); the runner's ARNs are in the aws partition,
// 7 bytes shorter than the longest one the bounds assume, twice (the
// execution id and the notify function's ARN) in the binding data; one byte
// past that slack, the Notify parameters pass 262,144 bytes and the
// execution fails with States.DataLimitExceeded.
func TestDerivedLimitIsTight(t *testing.T) {
	t.Parallel()
	cfg, route := testConfig(config.NotifyFinal)
	limits, err := asl.Limits(cfg, route)
	if err != nil {
		t.Fatal(err)
	}
	slack := 2 * (len("aws-us-gov") - len("aws"))
	for _, tc := range []struct {
		size      int
		wantError string
	}{
		{limits.MaxInput, strings.Repeat("E", 256)},
		{limits.MaxInput + slack, strings.Repeat("E", 256)},
		{limits.MaxInput + slack + 1, ErrDataLimitExceeded},
	} {
		env := webhook.Envelope{WebhookID: "wh-1", Route: route.Name, Group: "g", MessageID: "m", ReceiveCount: 5, FinalAttempt: true, Headers: map[string]string{}, BodyEncoding: webhook.EncodingUTF8}
		base, _ := webhook.EncodeInput(env)
		env.Body = strings.Repeat("a", tc.size-len(base))
		input, _ := webhook.EncodeInput(env)
		if len(input) != tc.size {
			t.Fatalf("built an input of %d bytes, want %d", len(input), tc.size)
		}
		fns := &failingFunctions{calls: map[string]int{}, name: strings.Repeat("E", 256)}
		m, r := awsLikeMachine(t, cfg, route, fns)
		exec, err := r.Execute(context.Background(), m, strings.Repeat("n", 80), input)
		if err != nil {
			t.Fatal(err)
		}
		if exec.Error != tc.wantError {
			t.Errorf("input of %d bytes (derived limit %d): execution %s %.40s… (%.100s), want %.40s…", tc.size, limits.MaxInput, exec.Status, exec.Error, exec.Cause, tc.wantError)
		}
		if tc.wantError == ErrDataLimitExceeded && !strings.Contains(exec.Cause, "parameters of state 'Notify'") {
			t.Errorf("the limit was passed at %.120q, not where the derivation says it binds (%s)", exec.Cause, limits.Binding)
		}
	}
}
