package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Fake ARNs the tests render the templates with, as terraform's templatefile would.
const (
	testDeliverARN = "arn:aws:lambda:ap-northeast-1:123456789012:function:sales-approvals-deliver"
	testNotifyARN  = "arn:aws:lambda:ap-northeast-1:123456789012:function:sales-approvals-notify"
)

// render substitutes the templatefile variables the way Terraform does and
// checks that nothing else was left to interpolate.
func render(t *testing.T, sm StateMachine) []byte {
	t.Helper()
	b, err := Marshal(sm)
	if err != nil {
		t.Fatal(err)
	}
	arns := map[string]string{DeliverFunctionARNVar: testDeliverARN, NotifyFunctionARNVar: testNotifyARN}
	for _, v := range TemplateVars {
		b = bytes.ReplaceAll(b, []byte(Placeholder(v)), []byte(arns[v]))
	}
	if bytes.Contains(b, []byte("${")) || bytes.Contains(b, []byte("%{")) {
		t.Fatalf("template left unrendered parts:\n%s", b)
	}
	return b
}

// localFunction scripts one overridden Lambda: each call takes the next step
// ("ok", or an errorType to fail with); the last step repeats.
type localFunction struct {
	ARN    string         `json:"arn"`
	Script []string       `json:"script"`
	Result map[string]any `json:"result,omitempty"`
}

type sfnScenario struct {
	Name                   string                   `json:"name"`
	Definition             json.RawMessage          `json:"definition"`
	Input                  any                      `json:"input"`
	Context                map[string]any           `json:"context"`
	Functions              map[string]localFunction `json:"functions"`
	RetryIntervalOverrides map[string]int           `json:"retryIntervalOverrides,omitempty"`
}

type sfnCall struct {
	Payload json.RawMessage `json:"payload"`
	AtMS    int64           `json:"atMs"`
}

type sfnOutcome struct {
	Name   string               `json:"name"`
	Status string               `json:"status"`
	Output json.RawMessage      `json:"output"`
	Error  string               `json:"error"`
	Cause  string               `json:"cause"`
	Calls  map[string][]sfnCall `json:"calls"`
}

// runLocalSFN executes the scenarios in aws-local-stepfunctions, in one Node
// process, through testdata/run-workflow.mjs.
func runLocalSFN(t *testing.T, scenarios []sfnScenario) map[string]sfnOutcome {
	t.Helper()
	modules := testenv.NodeModules(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: install Node.js 20 or later, then run scripts/setup")
	}
	polyfill, err := filepath.Abs(filepath.Join("testdata", "with-resolvers.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := json.Marshal(map[string]any{"modules": modules, "scenarios": scenarios})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--import", "file://"+filepath.ToSlash(polyfill), filepath.Join("testdata", "run-workflow.mjs"))
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run-workflow.mjs: %v\n%s", err, stderr.String())
	}
	var outcomes []sfnOutcome
	if err := json.Unmarshal(stdout.Bytes(), &outcomes); err != nil {
		t.Fatalf("run-workflow.mjs output: %v\n%s", err, stdout.String())
	}
	byName := make(map[string]sfnOutcome, len(outcomes))
	for _, o := range outcomes {
		byName[o.Name] = o
	}
	return byName
}

// sfnCase is one execution and what must come of it.
type sfnCase struct {
	name         string
	route        func(r *config.Route) // edits the base route
	finalAttempt *bool                 // nil: the input has no finalAttempt field
	deliver      []string
	notify       []string
	realWaits    bool // run the retry waits instead of overriding them to 0

	wantStatus  string
	wantError   string
	wantDeliver int
	wantNotify  int
}

func TestLocalStepFunctionsExecutesWorkflow(t *testing.T) {
	t.Parallel()
	const (
		retryable = webhook.ErrRetryable
		permanent = webhook.ErrPermanent
		throttled = "Lambda.TooManyRequestsException"
	)
	base := func(r *config.Route) {
		r.Retry = config.Retry{MaxAttempts: 3, Interval: time.Second, BackoffRate: 2, MaxDelay: 2 * time.Second, Jitter: config.JitterFull, On: config.AllOutcomes}
		r.Notify.When = config.NotifyFinal
	}
	yes, no := ptr(true), ptr(false)
	throttledAttempts := config.LambdaRetries[0].Retry.MaxAttempts
	cases := []sfnCase{
		{name: "success", finalAttempt: no, deliver: []string{"ok"},
			wantStatus: "SUCCEEDED", wantDeliver: 1},
		{name: "retry then success", finalAttempt: yes, deliver: []string{retryable, retryable, "ok"},
			wantStatus: "SUCCEEDED", wantDeliver: 3},
		{name: "retries exhausted on the final receive", finalAttempt: yes, deliver: []string{retryable}, notify: []string{"ok"},
			wantStatus: "FAILED", wantError: retryable, wantDeliver: 3, wantNotify: 1},
		{name: "retries exhausted before the final receive", finalAttempt: no, deliver: []string{retryable}, notify: []string{"ok"},
			wantStatus: "FAILED", wantError: retryable, wantDeliver: 3},
		{name: "no finalAttempt in the input", deliver: []string{retryable}, notify: []string{"ok"},
			wantStatus: "FAILED", wantError: retryable, wantDeliver: 3},
		{name: "permanent error is not retried", finalAttempt: yes, deliver: []string{permanent}, notify: []string{"ok"},
			wantStatus: "FAILED", wantError: permanent, wantDeliver: 1, wantNotify: 1},
		{name: "permanent error before the final receive notifies (the forwarder parks it)", finalAttempt: no, deliver: []string{permanent}, notify: []string{"ok"},
			wantStatus: "FAILED", wantError: permanent, wantDeliver: 1, wantNotify: 1},
		{name: "notify failure keeps the original error", finalAttempt: yes, deliver: []string{retryable}, notify: []string{"Notify.Broken"},
			wantStatus: "FAILED", wantError: retryable, wantDeliver: 3, wantNotify: 1},
		{name: "notify throttled is retried, original error kept", finalAttempt: yes, deliver: []string{permanent}, notify: []string{throttled},
			wantStatus: "FAILED", wantError: permanent, wantDeliver: 1, wantNotify: throttledAttempts},
		{name: "Lambda service error is retried apart", finalAttempt: no, deliver: []string{retryable, throttled, retryable, "ok"},
			wantStatus: "SUCCEEDED", wantDeliver: 4},
		{name: "every failure notifies", finalAttempt: no, deliver: []string{retryable}, notify: []string{"ok"},
			route:      func(r *config.Route) { r.Notify.When = config.NotifyEveryFailure },
			wantStatus: "FAILED", wantError: retryable, wantDeliver: 3, wantNotify: 1},
		{name: "never notifies", finalAttempt: yes, deliver: []string{retryable},
			route:      func(r *config.Route) { r.Notify.When = config.NotifyNever },
			wantStatus: "FAILED", wantError: retryable, wantDeliver: 3},
		{name: "a single attempt", finalAttempt: no, deliver: []string{retryable, "ok"},
			route:      func(r *config.Route) { r.Retry.MaxAttempts = 1 },
			wantStatus: "FAILED", wantError: retryable, wantDeliver: 1},
		{name: "real backoff waits", finalAttempt: no, deliver: []string{retryable, retryable, "ok"}, realWaits: true,
			route:      func(r *config.Route) { r.Retry.Jitter, r.Retry.MaxDelay = config.JitterNone, time.Second },
			wantStatus: "SUCCEEDED", wantDeliver: 3},
	}

	deliverResult := map[string]any{"status": 204, "attempt": 3, "latencyMs": 12}
	type prepared struct {
		cfg   *config.Config
		route config.Route
		input webhook.Envelope
	}
	var scenarios []sfnScenario
	prep := map[string]prepared{}
	for i, c := range cases {
		cfg := singleRoute(func(r *config.Route) {
			base(r)
			if c.route != nil {
				c.route(r)
			}
		})
		r := cfg.Routes[0]
		env := webhook.Envelope{
			WebhookID: fmt.Sprintf("wh-%d", i), Route: r.Name, Group: "request-42", MessageID: fmt.Sprintf("msg-%d", i),
			ReceiveCount: 5, Headers: map[string]string{"X-Event-Type": "approved"},
		}
		env.EncodeBody([]byte(`{"request":"42","step":"manager"}`))
		var input any = env
		if c.finalAttempt != nil {
			env.FinalAttempt = *c.finalAttempt
			input = env
		} else {
			b, _ := json.Marshal(env)
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			delete(m, "finalAttempt")
			input = m
		}
		sm := Build(cfg, r)
		functions := map[string]localFunction{StateDeliver: {ARN: testDeliverARN, Script: c.deliver, Result: deliverResult}}
		if _, ok := sm.States[StateNotify]; ok {
			functions[StateNotify] = localFunction{ARN: testNotifyARN, Script: c.notify}
		}
		s := sfnScenario{
			Name:       c.name,
			Definition: render(t, sm),
			Input:      input,
			Context: map[string]any{
				"Execution":    map[string]any{"Id": "arn:aws:states:ap-northeast-1:123456789012:express:" + cfg.StateMachineName(r) + ":" + env.MessageID, "Name": env.MessageID},
				"StateMachine": map[string]any{"Id": "arn:aws:states:ap-northeast-1:123456789012:stateMachine:" + cfg.StateMachineName(r), "Name": cfg.StateMachineName(r)},
			},
			Functions: functions,
		}
		if !c.realWaits {
			s.RetryIntervalOverrides = map[string]int{StateDeliver: 0, StateNotify: 0}
		}
		scenarios = append(scenarios, s)
		prep[c.name] = prepared{cfg, r, env}
	}

	outcomes := runLocalSFN(t, scenarios)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, ok := outcomes[c.name]
			if !ok {
				t.Fatal("no outcome")
			}
			p := prep[c.name]
			if o.Status != c.wantStatus || o.Error != c.wantError {
				t.Fatalf("execution %s %s (cause %q), want %s %s", o.Status, o.Error, o.Cause, c.wantStatus, c.wantError)
			}
			deliveries, notifies := o.Calls[StateDeliver], o.Calls[StateNotify]
			if len(deliveries) != c.wantDeliver || len(notifies) != c.wantNotify {
				t.Errorf("Deliver called %d times, Notify %d; want %d and %d", len(deliveries), len(notifies), c.wantDeliver, c.wantNotify)
			}
			for i, call := range deliveries {
				var req webhook.DeliverRequest
				if err := json.Unmarshal(call.Payload, &req); err != nil {
					t.Fatalf("Deliver payload %d: %v\n%s", i, err, call.Payload)
				}
				if req.RetryCount != i || req.Attempt() != i+1 {
					t.Errorf("Deliver call %d: retryCount %d, want %d", i, req.RetryCount, i)
				}
				if !reflect.DeepEqual(req.Webhook, p.input) {
					t.Errorf("Deliver call %d: webhook %+v, want the execution input %+v", i, req.Webhook, p.input)
				}
			}
			if c.realWaits {
				// MaxDelaySeconds caps the second wait at 1 s too; only the
				// lower bound is asserted (a loaded machine lengthens waits).
				for i := 1; i < len(deliveries); i++ {
					if gap := deliveries[i].AtMS - deliveries[i-1].AtMS; gap < 950 {
						t.Errorf("wait before attempt %d was %d ms, want the 1 s interval", i+1, gap)
					}
				}
			}
			for _, call := range notifies {
				var req webhook.NotifyRequest
				if err := json.Unmarshal(call.Payload, &req); err != nil {
					t.Fatalf("Notify payload: %v\n%s", err, call.Payload)
				}
				if req.Error.Error != c.wantError || req.Error.Cause != o.Cause || !strings.Contains(req.Error.Cause, c.wantError) {
					t.Errorf("Notify error %+v, want %s with the execution's cause %q", req.Error, c.wantError, o.Cause)
				}
				if req.Webhook.WebhookID != p.input.WebhookID || req.Webhook.Body != p.input.Body {
					t.Errorf("Notify webhook %+v, want the execution input", req.Webhook)
				}
				if req.StateMachine != p.cfg.StateMachineName(p.route) || !strings.HasSuffix(req.ExecutionID, ":"+p.input.MessageID) || req.StartTime == "" {
					t.Errorf("Notify context: state machine %q, execution %q, start %q", req.StateMachine, req.ExecutionID, req.StartTime)
				}
			}
			if c.wantStatus == "SUCCEEDED" {
				var got, want webhook.DeliverResult
				wb, _ := json.Marshal(deliverResult)
				if err := json.Unmarshal(wb, &want); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(o.Output, &got); err != nil || got != want {
					t.Errorf("execution output %s, want the deliver result %+v (%v)", o.Output, want, err)
				}
			}
		})
	}
}
