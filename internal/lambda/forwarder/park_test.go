package forwarder_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/webhook"
)

var parkNow = time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)

func withDLQ(o *forwarder.Config) {
	o.DLQURL = testDLQ
	o.Now = func() time.Time { return parkNow }
}

func TestParking(t *testing.T) {
	t.Parallel()
	const progress = "approval-progress"
	retryable := result{status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrRetryable, cause: "attempt 3/3: target answered 503"}
	tests := []struct {
		name        string
		records     []events.SQSMessage
		results     map[string]result
		dlqFails    bool
		wantFailed  []string
		wantStarted []string
		wantVis     map[string]int32
		// wantParked maps webhook id → the failure's "reason error".
		wantParked map[string]string
	}{
		{
			name:        "final failure is parked and its group goes on",
			records:     []events.SQSMessage{record("1", "g1", progress, 5, `{"n":1}`), record("2", "g1", progress, 5, `{"n":2}`)},
			results:     map[string]result{"wh-1": retryable},
			wantFailed:  []string{},
			wantStarted: []string{"wh-1", "wh-2"},
			wantVis:     map[string]int32{},
			wantParked:  map[string]string{"wh-1": "exhausted " + webhook.ErrRetryable},
		},
		{
			name:        "a failure before the final receive comes back instead",
			records:     []events.SQSMessage{record("1", "g1", progress, 4, "{}"), record("2", "g1", progress, 4, "{}")},
			results:     map[string]result{"wh-1": retryable},
			wantFailed:  []string{"msg-1", "msg-2"},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{"rh-1": 240, "rh-2": 0},
			wantParked:  map[string]string{},
		},
		{
			name:        "a permanent error is parked at once (the workflow has notified) and unblocks its group",
			records:     []events.SQSMessage{record("1", "g1", progress, 1, "{}"), record("2", "g1", progress, 1, "{}")},
			results:     map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrPermanent}},
			wantFailed:  []string{},
			wantStarted: []string{"wh-1", "wh-2"},
			wantVis:     map[string]int32{},
			wantParked:  map[string]string{"wh-1": "permanent " + webhook.ErrPermanent},
		},
		{
			name:        "timed out on the final receive",
			records:     []events.SQSMessage{record("1", "g1", progress, 5, "{}")},
			results:     map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusTimedOut}},
			wantFailed:  []string{},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{},
			wantParked:  map[string]string{"wh-1": "exhausted States.TIMED_OUT"},
		},
		{
			name:        "an API error on the final receive is parked with its code",
			records:     []events.SQSMessage{record("1", "g1", progress, 6, "{}")},
			results:     map[string]result{"wh-1": {apiErr: &smithy.GenericAPIError{Code: "StateMachineDoesNotExist", Message: "no such machine"}}},
			wantFailed:  []string{},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{},
			wantParked:  map[string]string{"wh-1": "exhausted StateMachineDoesNotExist"},
		},
		{
			name:        "a malformed record is parked at once and unblocks its group",
			records:     []events.SQSMessage{record("1", "g1", "no-such-route", 1, "{}"), record("2", "g1", progress, 1, "{}")},
			wantFailed:  []string{},
			wantStarted: []string{"wh-2"},
			wantVis:     map[string]int32{},
			wantParked:  map[string]string{"wh-1": "malformed " + webhook.ErrPermanent},
		},
		{
			name:        "when parking fails the record takes the ordinary failure path",
			records:     []events.SQSMessage{record("1", "g1", progress, 5, "{}"), record("2", "g1", progress, 5, "{}")},
			results:     map[string]result{"wh-1": retryable},
			dlqFails:    true,
			wantFailed:  []string{"msg-1", "msg-2"},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{"rh-1": 480, "rh-2": 0},
			wantParked:  map[string]string{},
		},
		{
			name:        "a record without a group cannot be parked",
			records:     []events.SQSMessage{record("1", "", progress, 1, "{}")},
			wantFailed:  []string{"msg-1"},
			wantStarted: nil,
			wantVis:     map[string]int32{"rh-1": 0},
			wantParked:  map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.results, withDLQ)
			h.dlq.fail = tc.dlqFails
			resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: tc.records})
			if err != nil {
				t.Fatal(err)
			}
			if got := failureIDs(resp); !slices.Equal(got, tc.wantFailed) {
				t.Errorf("failures %q, want %q", got, tc.wantFailed)
			}
			started := h.starter.started()
			slices.Sort(started)
			if !slices.Equal(started, tc.wantStarted) {
				t.Errorf("started %v, want %v", started, tc.wantStarted)
			}
			if got := h.queue.byReceipt(); !mapsEqual(got, tc.wantVis) {
				t.Errorf("visibility %v, want %v", got, tc.wantVis)
			}
			parked := map[string]string{}
			if !tc.dlqFails {
				for _, in := range h.dlq.calls {
					var f webhook.Failure
					if err := json.Unmarshal([]byte(aws.ToString(in.MessageAttributes[webhook.AttrFailure].StringValue)), &f); err != nil {
						t.Fatalf("failure attribute: %v", err)
					}
					parked[aws.ToString(in.MessageAttributes[webhook.AttrWebhookID].StringValue)] = string(f.Reason) + " " + f.Error
				}
			}
			if !mapsEqual(parked, tc.wantParked) {
				t.Errorf("parked %v, want %v", parked, tc.wantParked)
			}
		})
	}
}

// TestParkedCopy: the DLQ copy is the message as it came in — body, group,
// every attribute — plus the failure, under a deduplication id of this receive.
func TestParkedCopy(t *testing.T) {
	t.Parallel()
	ev, _ := loadEvent(t, "batch_mixed.json")
	h := newHarness(t, mixedResults, withDLQ)
	resp, err := h.fwd.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	ids := messageIDs(ev)
	// d1 timed out on its final receive and b1 failed permanently: both
	// parked, no longer batch failures, and b1's group went on with b2.
	if got, want := failureIDs(resp), []string{ids["wh-a2"], ids["wh-a3"]}; !slices.Equal(got, want) {
		t.Errorf("failures %v, want %v", got, want)
	}
	if _, ok := h.dlq.sent("wh-b1"); !ok {
		t.Errorf("permanently failed b1 was not parked")
	}
	in, ok := h.dlq.sent("wh-d1")
	if !ok || len(h.dlq.calls) != 2 {
		t.Fatalf("DLQ sends: %d, d1 among them: %v", len(h.dlq.calls), ok)
	}
	var d1 events.SQSMessage
	for _, r := range ev.Records {
		if r.MessageId == ids["wh-d1"] {
			d1 = r
		}
	}
	if aws.ToString(in.QueueUrl) != testDLQ || aws.ToString(in.MessageBody) != d1.Body || aws.ToString(in.MessageGroupId) != "req-D" {
		t.Errorf("sent to %s body %q group %s", aws.ToString(in.QueueUrl), aws.ToString(in.MessageBody), aws.ToString(in.MessageGroupId))
	}
	if got, want := aws.ToString(in.MessageDeduplicationId), "park-"+forwarder.ExecutionName(d1.MessageId, 5); got != want {
		t.Errorf("dedup id %q, want %q", got, want)
	}
	for name, a := range d1.MessageAttributes {
		got := in.MessageAttributes[name]
		if aws.ToString(got.StringValue) != *a.StringValue || aws.ToString(got.DataType) != a.DataType {
			t.Errorf("attribute %s: %q (%s), want %q (%s)", name, aws.ToString(got.StringValue), aws.ToString(got.DataType), *a.StringValue, a.DataType)
		}
	}
	if len(in.MessageAttributes) != len(d1.MessageAttributes)+1 {
		t.Errorf("%d attributes, want the %d original ones and the failure", len(in.MessageAttributes), len(d1.MessageAttributes))
	}
	var f webhook.Failure
	if err := json.Unmarshal([]byte(aws.ToString(in.MessageAttributes[webhook.AttrFailure].StringValue)), &f); err != nil {
		t.Fatal(err)
	}
	want := webhook.Failure{
		Reason:         webhook.ReasonExhausted,
		Error:          "States.TIMED_OUT",
		FirstAttemptAt: "2026-11-28T09:00:00.1Z", // ApproximateFirstReceiveTimestamp 1795856400100
		FailedAt:       "2026-11-28T11:00:00Z",
		ReceiveCount:   5,
	}
	if !strings.Contains(f.ExecutionARN, ":express:sales-approvals-approval-progress:") {
		t.Errorf("execution ARN %q", f.ExecutionARN)
	}
	f.ExecutionARN = ""
	if f != want {
		t.Errorf("failure\n got %+v\nwant %+v", f, want)
	}
	if !strings.Contains(h.logs.String(), "parked in the DLQ") {
		t.Errorf("no parking log line:\n%s", h.logs.String())
	}
}

// A record that comes back from the DLQ as it was (a message move task keeps
// the failure record) has its redrive count raised when parked again; one
// cmd/redrive copied (no failure record, the count raised already) keeps it.
func TestParkingCountsAMoveTaskRedrive(t *testing.T) {
	t.Parallel()
	moved := record("1", "g1", "approval-progress", 1, "{}")
	moved.MessageAttributes[webhook.AttrFailure] = strAttr(`{"reason":"permanent","error":"Webhook.Permanent","failedAt":"2026-11-28T10:00:00Z","receiveCount":1}`)
	moved.MessageAttributes[webhook.AttrRedriveCount] = events.SQSMessageAttribute{DataType: "Number", StringValue: aws.String("2")}
	copied := record("2", "g2", "approval-progress", 1, "{}")
	copied.MessageAttributes[webhook.AttrRedriveCount] = events.SQSMessageAttribute{DataType: "Number", StringValue: aws.String("2")}
	first := record("3", "g3", "approval-progress", 1, "{}")
	first.MessageAttributes[webhook.AttrFailure] = strAttr(`{"reason":"permanent","error":"Webhook.Permanent","failedAt":"2026-11-28T10:00:00Z","receiveCount":1}`)
	permanent := result{status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrPermanent}
	h := newHarness(t, map[string]result{"wh-1": permanent, "wh-2": permanent, "wh-3": permanent}, withDLQ)
	if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{moved, copied, first}}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"wh-1": "3", "wh-2": "2", "wh-3": "1"} {
		in, ok := h.dlq.sent(id)
		if !ok {
			t.Fatalf("%s not parked", id)
		}
		if got := aws.ToString(in.MessageAttributes[webhook.AttrRedriveCount].StringValue); got != want {
			t.Errorf("%s parked with redrive count %q, want %q", id, got, want)
		}
	}
}

func TestNewNeedsDeadLettersForDLQ(t *testing.T) {
	t.Parallel()
	_, err := forwarder.New(&forwarder.Config{Routes: testConfig(), StateMachineARNPrefix: arnPrefix, Starter: &fakeStarter{}, Queue: &fakeQueue{}, DLQURL: testDLQ})
	if err == nil {
		t.Error("New accepted a DLQ URL without DeadLetters")
	}
}

// TestRejectedRecordCauseIsBounded: a record rejected for an attribute value
// (here a 100 KB route name) is parked and logged with a bounded cause, so
// the failure attribute cannot push the parked copy past SQS's message size.
func TestRejectedRecordCauseIsBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, withDLQ)
	long := strings.Repeat("r", 100_000)
	if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record("1", "g1", long, 1, "{}")}}); err != nil {
		t.Fatal(err)
	}
	in, ok := h.dlq.sent("wh-1")
	if !ok {
		t.Fatal("the rejected record was not parked")
	}
	var f webhook.Failure
	if err := json.Unmarshal([]byte(aws.ToString(in.MessageAttributes[webhook.AttrFailure].StringValue)), &f); err != nil {
		t.Fatal(err)
	}
	if f.Error != webhook.ErrPermanent || !strings.Contains(f.Cause, "unknown route") || len(f.Cause) > 4096 {
		t.Errorf("failure %s with a cause of %d bytes; want Webhook.Permanent, unknown route, at most 4 KiB", f.Error, len(f.Cause))
	}
	if n := len(h.logs.String()); n > 8192 {
		t.Errorf("the log holds %d bytes for one rejected record; the quoted route name is not bounded", n)
	}
}
