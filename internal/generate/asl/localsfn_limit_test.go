package asl

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

// The largest body Limits allows runs through the generated workflow on
// aws-local-stepfunctions too (an independent interpreter, which does not
// enforce the data limit itself): every attempt fails, Notify gets the
// webhook intact, the execution fails with the delivery's error.
func TestLargestBodyRunsOnLocalStepFunctions(t *testing.T) {
	t.Parallel()
	cfg := singleRoute(func(r *config.Route) { r.Headers = []string{"X-Event-Type"} })
	r := cfg.Routes[0]
	limits, err := Limits(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	env := webhook.Envelope{
		WebhookID: "wh-largest", Route: r.Name, Group: "request-42", MessageID: "msg-largest",
		ReceiveCount: 5, RetryUntil: "2026-11-28T10:00:00.123456789Z", FinalAttempt: true, Headers: map[string]string{"X-Event-Type": strings.Repeat(`"`, 4000)},
	}
	env.EncodeBody([]byte(strings.Repeat("\xff", limits.MaxBody)))
	input, err := webhook.EncodeInput(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(input) > limits.MaxInput {
		t.Fatalf("input of %d bytes, over the derived %d", len(input), limits.MaxInput)
	}
	sm := Build(cfg, r)
	outcomes := runLocalSFN(t, []sfnScenario{{
		Name:       "largest body",
		Definition: render(t, sm),
		Input:      json.RawMessage(input),
		Context: map[string]any{
			"Execution":    map[string]any{"Id": "arn:aws:states:ap-northeast-1:123456789012:express:" + cfg.StateMachineName(r) + ":" + env.MessageID, "Name": env.MessageID},
			"StateMachine": map[string]any{"Id": "arn:aws:states:ap-northeast-1:123456789012:stateMachine:" + cfg.StateMachineName(r), "Name": cfg.StateMachineName(r)},
		},
		Functions: map[string]localFunction{
			StateDeliver: {ARN: testDeliverARN, Script: []string{webhook.ErrRetryable}},
			StateNotify:  {ARN: testNotifyARN, Script: []string{"ok"}},
		},
		RetryIntervalOverrides: map[string]int{StateDeliver: 0, StateNotify: 0},
	}})
	o := outcomes["largest body"]
	if o.Status != "FAILED" || o.Error != webhook.ErrRetryable || len(o.Calls[StateDeliver]) != r.Retry.MaxAttempts || len(o.Calls[StateNotify]) != 1 {
		t.Fatalf("execution %s %s, deliver %d, notify %d; want FAILED %s after %d attempts and one notification",
			o.Status, o.Error, len(o.Calls[StateDeliver]), len(o.Calls[StateNotify]), webhook.ErrRetryable, r.Retry.MaxAttempts)
	}
	var req webhook.NotifyRequest
	if err := json.Unmarshal(o.Calls[StateNotify][0].Payload, &req); err != nil {
		t.Fatal(err)
	}
	if req.Webhook.Body != env.Body || req.Webhook.WebhookID != env.WebhookID {
		t.Errorf("Notify got a webhook of %d body bytes, want the execution input's %d", len(req.Webhook.Body), len(env.Body))
	}
}
