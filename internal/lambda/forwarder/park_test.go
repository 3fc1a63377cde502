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

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/webhook"
)

// parkNow is the clock of the parking tests: a minute after testdata's
// records were queued, inside their hour-long window; old records were
// queued two hours before it.
var parkNow = harnessNow

func withDLQ(o *forwarder.Config) {
	o.DLQURL = testDLQ
	o.Now = func() time.Time { return parkNow }
}

func old(r events.SQSMessage) events.SQSMessage { return sentBefore(r, 2*time.Hour) }

func TestParking(t *testing.T) {
	t.Parallel()
	const progress = "approval-progress"
	backstop := config.ComputeFinality(testConfig()).MaxReceiveCount
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
		// wantAnnounced lists the webhook ids the forwarder notified for
		// (those the workflow did not).
		wantAnnounced []string
	}{
		{
			name:        "a failed final execution (its window closed) is parked and its group goes on",
			records:     []events.SQSMessage{old(record("1", "g1", progress, 5, `{"n":1}`)), old(record("2", "g1", progress, 5, `{"n":2}`))},
			results:     map[string]result{"wh-1": retryable},
			wantFailed:  []string{},
			wantStarted: []string{"wh-1", "wh-2"},
			wantVis:     map[string]int32{},
			wantParked:  map[string]string{"wh-1": "exhausted " + webhook.ErrRetryable},
		},
		{
			name:        "a failure inside the window comes back, however often it was received",
			records:     []events.SQSMessage{record("1", "g1", progress, 5, "{}"), record("2", "g1", progress, 5, "{}")},
			results:     map[string]result{"wh-1": retryable},
			wantFailed:  []string{"msg-1", "msg-2"},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{"rh-1": 480, "rh-2": 0},
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
			name:          "a final execution that timed out as a whole never reached Notify: the forwarder announces it",
			records:       []events.SQSMessage{old(record("1", "g1", progress, 5, "{}"))},
			results:       map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusTimedOut}},
			wantFailed:    []string{},
			wantStarted:   []string{"wh-1"},
			wantVis:       map[string]int32{},
			wantParked:    map[string]string{"wh-1": "exhausted States.TIMED_OUT"},
			wantAnnounced: []string{"wh-1"},
		},
		{
			name:          "States.Runtime cannot be caught: the forwarder announces the park",
			records:       []events.SQSMessage{old(record("1", "g1", progress, 2, "{}"))},
			results:       map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusFailed, err: "States.Runtime", cause: "ErrorPath selected a number"}},
			wantFailed:    []string{},
			wantStarted:   []string{"wh-1"},
			wantVis:       map[string]int32{},
			wantParked:    map[string]string{"wh-1": "exhausted States.Runtime"},
			wantAnnounced: []string{"wh-1"},
		},
		{
			name:          "States.DataLimitExceeded fails the same way every time: parked at once as too_large and announced",
			records:       []events.SQSMessage{record("1", "g1", progress, 1, "{}"), record("2", "g1", progress, 1, "{}")},
			results:       map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusFailed, err: "States.DataLimitExceeded", cause: "the state input exceeds the maximum size"}},
			wantFailed:    []string{},
			wantStarted:   []string{"wh-1", "wh-2"},
			wantVis:       map[string]int32{},
			wantParked:    map[string]string{"wh-1": "too_large States.DataLimitExceeded"},
			wantAnnounced: []string{"wh-1"},
		},
		{
			name:        "StartSyncExecution refused past the window: it did not run, so it comes back",
			records:     []events.SQSMessage{old(record("1", "g1", progress, 6, "{}")), old(record("2", "g1", progress, 6, "{}"))},
			results:     map[string]result{"wh-1": {apiErr: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate exceeded"}}},
			wantFailed:  []string{"msg-1", "msg-2"},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{"rh-1": 900, "rh-2": 0},
			wantParked:  map[string]string{},
		},
		{
			name:          "StartSyncExecution refused on the last receive SQS allows: parked with receive_limit and announced",
			records:       []events.SQSMessage{old(record("1", "g1", progress, backstop, "{}"))},
			results:       map[string]result{"wh-1": {apiErr: &smithy.GenericAPIError{Code: "StateMachineDoesNotExist", Message: "no such machine"}}},
			wantFailed:    []string{},
			wantStarted:   []string{"wh-1"},
			wantVis:       map[string]int32{},
			wantParked:    map[string]string{"wh-1": "receive_limit StateMachineDoesNotExist"},
			wantAnnounced: []string{"wh-1"},
		},
		{
			// A follower's receive count climbs with its head's; on the last
			// receive the head is parked, so the follower is not left behind
			// it for SQS's redrive policy to move untried.
			name:          "a group on the last receive SQS allows: its refused head is parked and announced, its follower still runs",
			records:       []events.SQSMessage{record("1", "g1", progress, backstop, "{}"), record("2", "g1", progress, backstop, "{}")},
			results:       map[string]result{"wh-1": {apiErr: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate exceeded"}}},
			wantFailed:    []string{},
			wantStarted:   []string{"wh-1", "wh-2"},
			wantVis:       map[string]int32{},
			wantParked:    map[string]string{"wh-1": "receive_limit ThrottlingException"},
			wantAnnounced: []string{"wh-1"},
		},
		{
			name:        "a failure on the last receive SQS allows is final even inside the window (the workflow notified)",
			records:     []events.SQSMessage{record("1", "g1", progress, backstop, "{}")},
			results:     map[string]result{"wh-1": retryable},
			wantFailed:  []string{},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{},
			wantParked:  map[string]string{"wh-1": "receive_limit " + webhook.ErrRetryable},
		},
		{
			name:          "a malformed record is parked at once, announced, and unblocks its group",
			records:       []events.SQSMessage{record("1", "g1", "no-such-route", 1, "{}"), record("2", "g1", progress, 1, "{}")},
			wantFailed:    []string{},
			wantStarted:   []string{"wh-2"},
			wantVis:       map[string]int32{},
			wantParked:    map[string]string{"wh-1": "malformed " + webhook.ErrPermanent},
			wantAnnounced: []string{"wh-1"},
		},
		{
			name:          "an input too large to start is parked at once and announced",
			records:       []events.SQSMessage{record("1", "g1", progress, 1, strings.Repeat("x", config.StatePayloadMax))},
			wantFailed:    []string{},
			wantVis:       map[string]int32{},
			wantParked:    map[string]string{"wh-1": "too_large " + webhook.ErrPermanent},
			wantAnnounced: []string{"wh-1"},
		},
		{
			name:        "when parking fails the record takes the ordinary failure path, unannounced",
			records:     []events.SQSMessage{old(record("1", "g1", progress, 5, "{}")), old(record("2", "g1", progress, 5, "{}"))},
			results:     map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusTimedOut}},
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
			var announced []string
			for _, req := range h.notifier.requests() {
				announced = append(announced, req.Webhook.WebhookID)
			}
			if !slices.Equal(announced, tc.wantAnnounced) {
				t.Errorf("announced %v, want %v", announced, tc.wantAnnounced)
			}
		})
	}
}

// TestBlockedOnTheLastReceiveIsAnError: a follower held back on the last
// receive SQS allows — its head could not be parked — will be moved by SQS's
// redrive policy without a failure record or a notification; the forwarder
// cannot park it ahead of its head, so it says so in an error line.
func TestBlockedOnTheLastReceiveIsAnError(t *testing.T) {
	t.Parallel()
	backstop := config.ComputeFinality(testConfig()).MaxReceiveCount
	for _, tc := range []struct {
		name    string
		receive int
		want    string
	}{
		{"on the last receive", backstop, `"level":"ERROR","msg":"not started on the last receive SQS's redrive policy allows`},
		{"before it", backstop - 1, `"level":"WARN","msg":"not started: an earlier message of its group was not forwarded; it comes back"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, map[string]result{"wh-1": {apiErr: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate exceeded"}}}, withDLQ)
			h.dlq.fail = true
			resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
				record("1", "g1", "approval-progress", tc.receive, "{}"), record("2", "g1", "approval-progress", tc.receive, "{}"),
			}})
			if err != nil {
				t.Fatal(err)
			}
			if got := failureIDs(resp); !slices.Equal(got, []string{"msg-1", "msg-2"}) {
				t.Errorf("failures %q, want both back", got)
			}
			var line string
			for l := range strings.Lines(h.logs.String()) {
				if strings.Contains(l, `"blocked_by":"msg-1"`) && strings.Contains(l, `"webhook_id":"wh-2"`) {
					line = l
				}
			}
			if !strings.Contains(line, tc.want) {
				t.Errorf("wh-2's blocked line %q, want %s", line, tc.want)
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
	// d1 timed out on its final execution and b1 failed permanently: both
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
		FirstAttemptAt: "2026-11-28T07:00:00.1Z", // ApproximateFirstReceiveTimestamp 1795849200100
		FailedAt:       "2026-11-28T09:01:00Z",
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
