package forwarder_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/webhook"
)

// binaryRecord is a record whose body is n bytes that are not UTF-8, so it
// travels base64-encoded, the envelope's longer body form.
func binaryRecord(id string, n int) events.SQSMessage {
	r := record(id, "g"+id, "approval-progress", 1, base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xff", n))))
	r.MessageAttributes[webhook.AttrBodyEncoding] = strAttr(webhook.EncodingBase64)
	return r
}

// parkedFailure is the failure record the DLQ copy of webhook id carries.
func parkedFailure(t *testing.T, h *harness, id string) (webhook.Failure, bool) {
	t.Helper()
	in, ok := h.dlq.sent(id)
	if !ok {
		return webhook.Failure{}, false
	}
	var f webhook.Failure
	if err := json.Unmarshal([]byte(aws.ToString(in.MessageAttributes[webhook.AttrFailure].StringValue)), &f); err != nil {
		t.Fatalf("failure attribute: %v", err)
	}
	return f, true
}

// The forwarder refuses by the limits derived from the built workflow
// (asl.Limits): the largest body runs, one byte more is parked at once as
// too_large — it would fail its execution with States.DataLimitExceeded,
// which nothing catches, so never reach Notify.
func TestBodyLimitIsDerivedFromTheWorkflow(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	limits, err := asl.Limits(cfg, cfg.Routes[0])
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil, withDLQ)
	resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		binaryRecord("1", limits.MaxBody), binaryRecord("2", limits.MaxBody+1),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := failureIDs(resp); len(got) != 0 {
		t.Errorf("failures %q, want none (one delivered, one parked)", got)
	}
	c, ok := h.starter.call("wh-1")
	if !ok {
		t.Fatalf("the largest body (%d bytes) was not started", limits.MaxBody)
	}
	if len(c.input) > limits.MaxInput {
		t.Errorf("the largest body made an input of %d bytes, over the derived %d", len(c.input), limits.MaxInput)
	}
	if _, ok := h.starter.call("wh-2"); ok {
		t.Error("a body one byte over the limit was started")
	}
	f, ok := parkedFailure(t, h, "wh-2")
	if !ok || f.Reason != webhook.ReasonTooLarge || !strings.Contains(f.Cause, "exceeds the") {
		t.Errorf("one byte over: parked %v with %+v, want reason too_large", ok, f)
	}
	// It never ran, so no workflow notified: the forwarder announces it, once.
	var announced []string
	for _, req := range h.notifier.requests() {
		announced = append(announced, req.Webhook.WebhookID)
	}
	if len(announced) != 1 || announced[0] != "wh-2" {
		t.Errorf("announced %v, want exactly one notification, for the body one byte over", announced)
	}
}

// ingress.max_body_bytes lowers the limit on AWS too; an envelope that broke
// the bounds ingress keeps to (headers past API Gateway's 10 KiB) is held to
// the input limit itself.
func TestMaxBodyBytesAndTheInputLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(o *forwarder.Config) {
		withDLQ(o)
		o.Routes.Ingress.MaxBodyBytes = 1000
	})
	huge := record("3", "g3", "approval-progress", 1, "{}")
	huge.MessageAttributes["h-X-Event-Type"] = strAttr(strings.Repeat(`"`, 200_000))
	resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		record("1", "g1", "approval-progress", 1, strings.Repeat("a", 1000)),
		record("2", "g2", "approval-progress", 1, strings.Repeat("a", 1001)),
		huge,
	}})
	if err != nil || len(failureIDs(resp)) != 0 {
		t.Fatalf("Handle: %v, failures %q", err, failureIDs(resp))
	}
	if _, ok := h.starter.call("wh-1"); !ok {
		t.Error("a body of max_body_bytes was not started")
	}
	for id, want := range map[string]string{"wh-2": "exceeds ingress.max_body_bytes (1000)", "wh-3": "an execution input of"} {
		if f, ok := parkedFailure(t, h, id); !ok || f.Reason != webhook.ReasonTooLarge || !strings.Contains(f.Cause, want) {
			t.Errorf("%s: parked %v with %+v, want too_large: %q", id, ok, f, want)
		}
	}
}

// An execution that failed with States.DataLimitExceeded would fail again on
// every receive, and its workflow did not notify: it is parked at once as
// too_large, not retried until its receives run out.
func TestDataLimitExceededIsParkedAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrDataLimitExceeded,
		cause: "The state/task 'Notify' has input data with a size exceeding the maximum number of bytes service limit."}}, withDLQ)
	resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record("1", "g1", "approval-progress", 1, "{}")}})
	if err != nil || len(failureIDs(resp)) != 0 {
		t.Fatalf("Handle: %v, failures %q", err, failureIDs(resp))
	}
	if f, ok := parkedFailure(t, h, "wh-1"); !ok || f.Reason != webhook.ReasonTooLarge || f.Error != webhook.ErrDataLimitExceeded {
		t.Errorf("parked %v with %+v, want too_large %s", ok, f, webhook.ErrDataLimitExceeded)
	}
}
