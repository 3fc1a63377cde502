package statemachine

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/webhook"
)

// virtualClock is a test clock on which sleeping takes no real time: Sleep
// moves the clock forward and fires the timers it passes.
type virtualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []virtualTimer
	slept  []time.Duration
}

type virtualTimer struct {
	at time.Time
	c  chan time.Time
}

func newVirtualClock() *virtualClock {
	return &virtualClock{now: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.c <- c.now
			continue
		}
		kept = append(kept, t)
	}
	c.timers = kept
	return ctx.Err()
}

func (c *virtualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, virtualTimer{at: c.now.Add(d), c: ch})
	return ch
}

func (c *virtualClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// fixedRand is a Rand that always draws the same number.
type fixedRand float64

func (r fixedRand) Float64() float64 { return float64(r) }

// Outcomes a scripted function can have on one call.
const (
	outcomeOK        = "ok"
	outcomeRetryable = "retryable" // webhook.ErrRetryable function error
	outcomePermanent = "permanent" // webhook.ErrPermanent function error
	outcomeThrottled = "throttled" // Lambda.TooManyRequestsException (throttling)
	outcomeTimeout   = "timeout"   // the function runs past the task's TimeoutSeconds
)

// Local function names the workflows' placeholders are rendered with.
const (
	deliverFunction = "local-deliver"
	notifyFunction  = "local-notify"
)

// scenario is one row of the differential table: what the deliver and notify
// functions do on each call (the last entry repeats), and what must come out.
type scenario struct {
	name    string
	notify  config.NotifyWhen
	final   bool // the envelope's finalAttempt
	deliver []string
	notifyF []string

	wantStatus   Status
	wantError    string
	wantDeliver  int // calls of the deliver function
	wantNotify   int
	wantRetryIDs []int // $$.State.RetryCount seen by each deliver call
}

// scenarios is the acceptance table (issue 4): success; retry then success;
// exhausted retries; permanent error; notify failure; and the edges around
// them. The route allows 3 delivery attempts.
var scenarios = []scenario{
	{name: "success", notify: config.NotifyFinal, deliver: []string{outcomeOK},
		wantStatus: StatusSucceeded, wantDeliver: 1, wantRetryIDs: []int{0}},
	{name: "retry then success", notify: config.NotifyFinal, deliver: []string{outcomeRetryable, outcomeRetryable, outcomeOK},
		wantStatus: StatusSucceeded, wantDeliver: 3, wantRetryIDs: []int{0, 1, 2}},
	{name: "exhausted retries, not final", notify: config.NotifyFinal, deliver: []string{outcomeRetryable},
		wantStatus: StatusFailed, wantError: webhook.ErrRetryable, wantDeliver: 3, wantRetryIDs: []int{0, 1, 2}},
	{name: "exhausted retries, final attempt notifies", notify: config.NotifyFinal, final: true, deliver: []string{outcomeRetryable}, notifyF: []string{outcomeOK},
		wantStatus: StatusFailed, wantError: webhook.ErrRetryable, wantDeliver: 3, wantNotify: 1},
	{name: "permanent error is not retried", notify: config.NotifyFinal, final: true, deliver: []string{outcomePermanent}, notifyF: []string{outcomeOK},
		wantStatus: StatusFailed, wantError: webhook.ErrPermanent, wantDeliver: 1, wantNotify: 1},
	{name: "notify failure keeps the delivery error", notify: config.NotifyEveryFailure, deliver: []string{outcomePermanent}, notifyF: []string{outcomePermanent},
		wantStatus: StatusFailed, wantError: webhook.ErrPermanent, wantDeliver: 1, wantNotify: 1},
	{name: "every failure notifies", notify: config.NotifyEveryFailure, deliver: []string{outcomeRetryable}, notifyF: []string{outcomeOK},
		wantStatus: StatusFailed, wantError: webhook.ErrRetryable, wantDeliver: 3, wantNotify: 1},
	{name: "never notifies", notify: config.NotifyNever, final: true, deliver: []string{outcomePermanent},
		wantStatus: StatusFailed, wantError: webhook.ErrPermanent, wantDeliver: 1},
	{name: "throttling has its own retrier", notify: config.NotifyFinal, deliver: []string{outcomeThrottled, outcomeRetryable, outcomeRetryable, outcomeOK},
		wantStatus: StatusSucceeded, wantDeliver: 4, wantRetryIDs: []int{0, 1, 2, 3}},
	{name: "throttling is retried with backoff until the function has room", notify: config.NotifyFinal, deliver: []string{outcomeThrottled, outcomeThrottled, outcomeThrottled, outcomeThrottled, outcomeThrottled, outcomeOK},
		wantStatus: StatusSucceeded, wantDeliver: 6, wantRetryIDs: []int{0, 1, 2, 3, 4, 5}},
	{name: "throttling exhausts its own retrier", notify: config.NotifyFinal, deliver: []string{outcomeThrottled},
		wantStatus: StatusFailed, wantError: "Lambda.TooManyRequestsException", wantDeliver: config.LambdaRetries[0].Retry.MaxAttempts},
	{name: "task timeout is retried", notify: config.NotifyFinal, deliver: []string{outcomeTimeout, outcomeOK},
		wantStatus: StatusSucceeded, wantDeliver: 2, wantRetryIDs: []int{0, 1}},
	{name: "task timeouts exhaust retries", notify: config.NotifyFinal, final: true, deliver: []string{outcomeTimeout}, notifyF: []string{outcomeOK},
		wantStatus: StatusFailed, wantError: ErrTimeout, wantDeliver: 3, wantNotify: 1},
}

// testAttemptTimeout is the route's target timeout.
const testAttemptTimeout = 10 * time.Second

// testConfig is a one-route config shaped like config/routes.yaml's.
func testConfig(notify config.NotifyWhen) (*config.Config, config.Route) {
	route := config.Route{
		Name:      "approval-progress",
		Path:      "/approval-progress",
		Group:     config.Group{Source: config.GroupHeader, Value: "X-Approval-Request-Id"},
		TargetURL: "http://127.0.0.1:9/hook",
		Dedup:     config.Dedup{Source: config.DedupContent},
		Timeout:   testAttemptTimeout,
		Retry: config.Retry{
			MaxAttempts: 3,
			Interval:    time.Second,
			BackoffRate: 2,
			MaxDelay:    30 * time.Second,
			Jitter:      config.JitterFull,
			On:          config.AllOutcomes,
		},
		Notify: config.Notify{When: notify},
	}
	cfg := &config.Config{Service: "sales-approvals", Region: "ap-northeast-1", Routes: []config.Route{route}}
	return cfg, route
}

// generatedWorkflow is the route's workflow exactly as the generator writes
// it (placeholders included).
func generatedWorkflow(t testing.TB, notify config.NotifyWhen) (name string, file []byte) {
	t.Helper()
	cfg, route := testConfig(notify)
	b, err := asl.Marshal(asl.Build(cfg, route))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.StateMachineName(route), b
}

func localFunctions() map[string]string {
	return map[string]string{asl.DeliverFunctionARNVar: deliverFunction, asl.NotifyFunctionARNVar: notifyFunction}
}

func generatedMachine(t testing.TB, notify config.NotifyWhen) *Machine {
	t.Helper()
	name, file := generatedWorkflow(t, notify)
	m, err := Render(name, file, localFunctions())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// envelope is an execution input as the forwarder builds it.
func envelope(t testing.TB, final bool) []byte {
	t.Helper()
	e := webhook.Envelope{
		WebhookID: "wh-1", Route: "approval-progress", Group: "req-7", MessageID: "m-1",
		ReceiveCount: 5, FinalAttempt: final,
		Headers: map[string]string{"X-Event-Type": "approved"},
	}
	e.EncodeBody([]byte(`{"request":"req-7","step":2}`))
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scriptedFunctions plays a scenario: each function answers its script in
// order (the last outcome repeats) and records what it was called with.
type scriptedFunctions struct {
	clock  *virtualClock
	script map[string][]string

	mu    sync.Mutex
	calls map[string][][]byte
}

func newScriptedFunctions(clock *virtualClock, deliver, notify []string) *scriptedFunctions {
	return &scriptedFunctions{
		clock:  clock,
		script: map[string][]string{deliverFunction: deliver, notifyFunction: notify},
		calls:  map[string][][]byte{},
	}
}

func (f *scriptedFunctions) Invoke(ctx context.Context, fn string, payload []byte) ([]byte, error) {
	f.mu.Lock()
	script, ok := f.script[fn]
	n := len(f.calls[fn])
	f.calls[fn] = append(f.calls[fn], payload)
	f.mu.Unlock()
	if !ok || len(script) == 0 {
		return nil, fmt.Errorf("no such function %q", fn)
	}
	switch outcome := script[min(n, len(script)-1)]; outcome {
	case outcomeOK:
		return json.Marshal(webhook.DeliverResult{Status: 204, Attempt: n + 1})
	case outcomeRetryable:
		return nil, &FunctionError{Type: webhook.ErrRetryable, Message: "target answered 503"}
	case outcomePermanent:
		return nil, &FunctionError{Type: webhook.ErrPermanent, Message: "target answered 400"}
	case outcomeThrottled:
		return nil, &Error{Name: "Lambda.TooManyRequestsException", Cause: "Rate Exceeded."}
	case outcomeTimeout:
		// Runs a second past the Deliver task's TimeoutSeconds.
		_ = f.clock.Sleep(ctx, config.TaskTimeout(testAttemptTimeout)+time.Second)
		return []byte(`{"late":true}`), nil
	default:
		return nil, fmt.Errorf("unknown outcome %q", outcome)
	}
}

func (f *scriptedFunctions) callCount(fn string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls[fn])
}

func (f *scriptedFunctions) payloads(fn string) []json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]json.RawMessage, len(f.calls[fn]))
	for i, p := range f.calls[fn] {
		out[i] = p
	}
	return out
}

func eventTypes(e *Execution) []string {
	out := make([]string, len(e.Events))
	for i, ev := range e.Events {
		out[i] = string(ev.Type)
		if ev.State != "" {
			out[i] += ":" + ev.State
		}
	}
	return out
}
