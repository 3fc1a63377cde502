package forwarder_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/webhook"
)

// mixedResults are the fake workflow outcomes for testdata/batch_mixed.json:
// group req-A fails at its second record, req-B at its first (permanently),
// acct-7 succeeds, req-D times out on its final attempt.
var mixedResults = map[string]result{
	"wh-a2": {status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrRetryable, cause: "target answered 503"},
	"wh-b1": {status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrPermanent, cause: "target answered 400"},
	"wh-d1": {status: sfntypes.SyncExecutionStatusTimedOut},
}

func TestHandleMixedBatch(t *testing.T) {
	t.Parallel()
	ev, _ := loadEvent(t, "batch_mixed.json")
	h := newHarness(t, mixedResults, nil)
	resp, err := h.fwd.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle returned an error: %v", err)
	}
	ids, rh := messageIDs(ev), receipts(ev)

	// Failures in batch order: b1, a2, b2 (blocked by b1), a3 (blocked by a2), d1.
	want := []string{ids["wh-b1"], ids["wh-a2"], ids["wh-b2"], ids["wh-a3"], ids["wh-d1"]}
	if got := failureIDs(resp); !slices.Equal(got, want) {
		t.Errorf("batchItemFailures = %v, want %v", got, want)
	}
	started := h.starter.started()
	slices.Sort(started)
	if want := []string{"wh-a1", "wh-a2", "wh-b1", "wh-c1", "wh-c2", "wh-d1"}; !slices.Equal(started, want) {
		t.Errorf("started %v, want %v (blocked records must not start)", started, want)
	}

	// Retryable failures back off by receive count (30 s doubling), the
	// permanent one and the blocked ones come back at once, successes are left alone.
	wantVis := map[string]int32{
		rh["wh-a2"]: 30,  // receive 1
		rh["wh-d1"]: 480, // receive 5: 30 s × 2⁴
		rh["wh-b1"]: 0,
		rh["wh-b2"]: 0,
		rh["wh-a3"]: 0,
	}
	if got := h.queue.byReceipt(); !mapsEqual(got, wantVis) {
		t.Errorf("visibility by receipt = %v, want %v", got, wantVis)
	}
	for _, c := range h.queue.calls {
		if c.queueURL != testQueue {
			t.Errorf("ChangeMessageVisibility on %q, want %q", c.queueURL, testQueue)
		}
	}
}

func TestEnvelopeFromRecord(t *testing.T) {
	t.Parallel()
	ev, _ := loadEvent(t, "batch_mixed.json")
	h := newHarness(t, nil, nil)
	if _, err := h.fwd.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	byID := map[string]events.SQSMessage{}
	for _, r := range ev.Records {
		byID[*r.MessageAttributes[webhook.AttrWebhookID].StringValue] = r
	}

	a1, _ := h.starter.call("wh-a1")
	rec := byID["wh-a1"]
	want := webhook.Envelope{
		WebhookID:      "wh-a1",
		Route:          "approval-progress",
		Group:          "req-A",
		MessageID:      rec.MessageId,
		SequenceNumber: rec.Attributes["SequenceNumber"],
		ReceiveCount:   1,
		RetryUntil:     "2026-11-28T10:00:00Z",
		ReceivedAt:     "2026-11-28T09:00:00Z",
		Headers:        map[string]string{"X-Event-Type": "approval.step", "X-Delivery-Id": "dlv-1"},
		Body:           `{"step":1,"request":"A"}`,
		BodyEncoding:   webhook.EncodingUTF8,
	}
	if !envelopesEqual(a1.envelope, want) {
		t.Errorf("envelope\n got %+v\nwant %+v", a1.envelope, want)
	}
	if a1.arn != arnPrefix+"approval-progress" {
		t.Errorf("state machine %q", a1.arn)
	}
	if a1.name != forwarder.ExecutionName(rec.MessageId, 1) {
		t.Errorf("execution name %q, want %q", a1.name, forwarder.ExecutionName(rec.MessageId, 1))
	}

	// c1's SQS body is the base64 of a non-UTF-8 request body: the envelope
	// carries it base64 and it decodes to the exact bytes.
	c1, _ := h.starter.call("wh-c1")
	raw, err := base64.StdEncoding.DecodeString(byID["wh-c1"].Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c1.envelope.RawBody()
	if err != nil || string(got) != string(raw) || c1.envelope.BodyEncoding != webhook.EncodingBase64 {
		t.Errorf("c1 body = %q (%s, %v), want the %d raw bytes %q", got, c1.envelope.BodyEncoding, err, len(raw), raw)
	}
	if c1.arn != arnPrefix+"approval-completed" || len(c1.envelope.Headers) != 0 || c1.envelope.Headers == nil {
		t.Errorf("c1: arn %q headers %#v", c1.arn, c1.envelope.Headers)
	}

	// b1 has been received twice, a minute into its hour-long window; d1 was
	// queued two hours ago: the window, not the receive count, makes an
	// execution final.
	if b1, _ := h.starter.call("wh-b1"); b1.envelope.FinalAttempt || b1.envelope.ReceiveCount != 2 {
		t.Errorf("b1 at receive %d inside its window: FinalAttempt=%v, want false", b1.envelope.ReceiveCount, b1.envelope.FinalAttempt)
	}
	d1, _ := h.starter.call("wh-d1")
	if !d1.envelope.FinalAttempt || d1.envelope.RetryUntil != "2026-11-28T08:00:00Z" {
		t.Errorf("d1 queued 2h ago: FinalAttempt=%v, retry until %s; want true, 08:00", d1.envelope.FinalAttempt, d1.envelope.RetryUntil)
	}
	if !strings.Contains(d1.input, `"headers":{`) {
		t.Errorf("execution input %s has no headers object", d1.input)
	}
}

// TestHandleThroughLambdaHandler runs the AWS-shaped event JSON through
// aws-lambda-go's handler adapter, as the runtime does, and checks the exact
// response JSON.
func TestHandleThroughLambdaHandler(t *testing.T) {
	t.Parallel()
	ev, raw := loadEvent(t, "batch_mixed.json")
	h := newHarness(t, mixedResults, nil)
	out, err := lambda.NewHandler(h.fwd.Handle).Invoke(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	ids := messageIDs(ev)
	want := `{"batchItemFailures":[` +
		`{"itemIdentifier":"` + ids["wh-b1"] + `"},` +
		`{"itemIdentifier":"` + ids["wh-a2"] + `"},` +
		`{"itemIdentifier":"` + ids["wh-b2"] + `"},` +
		`{"itemIdentifier":"` + ids["wh-a3"] + `"},` +
		`{"itemIdentifier":"` + ids["wh-d1"] + `"}]}`
	if string(out) != want {
		t.Errorf("response\n got %s\nwant %s", out, want)
	}

	// Full success is an empty list, not null.
	h = newHarness(t, nil, nil)
	out, err = lambda.NewHandler(h.fwd.Handle).Invoke(context.Background(), raw)
	if err != nil || string(out) != `{"batchItemFailures":[]}` {
		t.Errorf("all succeeded: %s, %v", out, err)
	}

	// An event that is not JSON is the runtime's error, not a panic.
	if _, err := lambda.NewHandler(h.fwd.Handle).Invoke(context.Background(), []byte(`{"Records":[`)); err == nil {
		t.Error("truncated event JSON: no error")
	}
}

func TestHandleCases(t *testing.T) {
	t.Parallel()
	okBody := `{"ok":true}`
	backstop := config.ComputeFinality(testConfig()).MaxReceiveCount
	withAttr := func(r events.SQSMessage, name string, a events.SQSMessageAttribute) events.SQSMessage {
		r.MessageAttributes[name] = a
		return r
	}
	withSys := func(r events.SQSMessage, name, value string) events.SQSMessage {
		r.Attributes[name] = value
		return r
	}
	const progress, completed = "approval-progress", "approval-completed"
	binary := events.SQSMessageAttribute{BinaryValue: []byte{1, 2}, DataType: "Binary"}

	tests := []struct {
		name        string
		records     []events.SQSMessage
		results     map[string]result
		wantFailed  []string // message ids, batch order
		wantStarted []string // webhook ids, sorted
		wantVis     map[string]int32
		wantLog     string
	}{
		{
			name:        "all succeed",
			records:     []events.SQSMessage{record("1", "g1", progress, 1, okBody), record("2", "g2", completed, 1, okBody), record("3", "g1", progress, 1, okBody)},
			wantFailed:  []string{},
			wantStarted: []string{"wh-1", "wh-2", "wh-3"},
			wantVis:     map[string]int32{},
		},
		{
			name:        "API error is a failure that backs off",
			records:     []events.SQSMessage{record("1", "g1", progress, 3, okBody), record("2", "g1", progress, 3, okBody)},
			results:     map[string]result{"wh-1": {apiErr: errors.New("ExecutionLimitExceeded: too many")}},
			wantFailed:  []string{"msg-1", "msg-2"},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{"rh-1": 120, "rh-2": 0},
			wantLog:     "StartSyncExecution failed",
		},
		{
			name:        "FAILED without an error name backs off",
			records:     []events.SQSMessage{record("1", "g1", progress, 2, okBody)},
			results:     map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusFailed}},
			wantFailed:  []string{"msg-1"},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{"rh-1": 60},
		},
		{
			name:        "backoff is capped at max_redelivery_delay",
			records:     []events.SQSMessage{record("1", "g1", progress, 12, okBody)},
			results:     map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusTimedOut}},
			wantFailed:  []string{"msg-1"},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{"rh-1": 900},
		},
		{
			name:        "permanent error comes back at once",
			records:     []events.SQSMessage{record("1", "g1", progress, 1, okBody)},
			results:     map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrPermanent, cause: "400"}},
			wantFailed:  []string{"msg-1"},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{"rh-1": 0},
			wantLog:     "execution failed for good",
		},
		{
			name: "a failing group does not hold back the others",
			records: []events.SQSMessage{
				record("1", "g1", progress, 1, okBody), record("2", "g2", progress, 1, okBody),
				record("3", "g1", progress, 1, okBody), record("4", "g2", progress, 1, okBody),
			},
			results:     map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrRetryable}},
			wantFailed:  []string{"msg-1", "msg-3"},
			wantStarted: []string{"wh-1", "wh-2", "wh-4"},
			wantVis:     map[string]int32{"rh-1": 30, "rh-3": 0},
			wantLog:     "not started: an earlier message of its group was not forwarded",
		},
		{
			name:        "a record blocked on the last receive SQS allows is an error in the log",
			records:     []events.SQSMessage{record("1", "g1", progress, backstop, okBody), record("2", "g1", progress, backstop, okBody)},
			results:     map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrRetryable}},
			wantFailed:  []string{"msg-1", "msg-2"},
			wantStarted: []string{"wh-1"},
			wantVis:     map[string]int32{"rh-1": 900, "rh-2": 0},
			wantLog:     "SQS will move the group to the DLQ without a failure record",
		},
		{
			name:        "unknown route fails and blocks its group only",
			records:     []events.SQSMessage{record("1", "g1", "no-such-route", 1, okBody), record("2", "g1", progress, 1, okBody), record("3", "g2", progress, 1, okBody)},
			wantFailed:  []string{"msg-1", "msg-2"},
			wantStarted: []string{"wh-3"},
			wantVis:     map[string]int32{"rh-1": 0, "rh-2": 0},
			wantLog:     `unknown route \"no-such-route\"`,
		},
		{
			name:       "no route attribute",
			records:    []events.SQSMessage{record("1", "g1", "", 1, okBody)},
			wantFailed: []string{"msg-1"},
			wantVis:    map[string]int32{"rh-1": 0},
			wantLog:    `no \"webhook-route\" message attribute`,
		},
		{
			name:       "receive count is not a number",
			records:    []events.SQSMessage{withSys(record("1", "g1", progress, 1, okBody), "ApproximateReceiveCount", "lots")},
			wantFailed: []string{"msg-1"},
			wantVis:    map[string]int32{"rh-1": 0},
			wantLog:    "ApproximateReceiveCount",
		},
		{
			name:       "no message group",
			records:    []events.SQSMessage{record("1", "", progress, 1, okBody)},
			wantFailed: []string{"msg-1"},
			wantVis:    map[string]int32{"rh-1": 0},
			wantLog:    "MessageGroupId",
		},
		{
			name:       "bad base64 body",
			records:    []events.SQSMessage{withAttr(record("1", "g1", progress, 1, "not base64!"), webhook.AttrBodyEncoding, strAttr("base64"))},
			wantFailed: []string{"msg-1"},
			wantVis:    map[string]int32{"rh-1": 0},
			wantLog:    "body is not valid base64",
		},
		{
			name:       "unknown body encoding",
			records:    []events.SQSMessage{withAttr(record("1", "g1", progress, 1, okBody), webhook.AttrBodyEncoding, strAttr("gzip"))},
			wantFailed: []string{"msg-1"},
			wantVis:    map[string]int32{"rh-1": 0},
			wantLog:    `unknown body encoding \"gzip\"`,
		},
		{
			name:       "route attribute without a string value",
			records:    []events.SQSMessage{withAttr(record("1", "g1", progress, 1, okBody), webhook.AttrRoute, binary)},
			wantFailed: []string{"msg-1"},
			wantVis:    map[string]int32{"rh-1": 0},
			wantLog:    "has no string value",
		},
		{
			name:       "carried header without a string value",
			records:    []events.SQSMessage{withAttr(record("1", "g1", progress, 1, okBody), "h-X-Event-Type", binary)},
			wantFailed: []string{"msg-1"},
			wantVis:    map[string]int32{"rh-1": 0},
			wantLog:    "carried header attribute",
		},
		{
			name:       "body over the limit derived from the workflow",
			records:    []events.SQSMessage{record("1", "g1", progress, 1, strings.Repeat("x", config.StatePayloadMax))},
			wantFailed: []string{"msg-1"},
			wantVis:    map[string]int32{"rh-1": 0},
			wantLog:    "too large for the workflow",
		},
		{
			name: "no messageId is reported with an empty identifier (Lambda then fails the whole batch)",
			records: func() []events.SQSMessage {
				r := record("1", "g1", progress, 1, okBody)
				r.MessageId = ""
				return []events.SQSMessage{r, record("2", "g2", progress, 1, okBody)}
			}(),
			wantFailed:  []string{""},
			wantStarted: []string{"wh-2"},
			wantVis:     map[string]int32{"rh-1": 0},
			wantLog:     "no messageId",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.results, nil)
			resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: tc.records})
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			if got := failureIDs(resp); !slices.Equal(got, tc.wantFailed) {
				t.Errorf("failures = %q, want %q", got, tc.wantFailed)
			}
			started := h.starter.started()
			slices.Sort(started)
			if !slices.Equal(started, tc.wantStarted) {
				t.Errorf("started %v, want %v", started, tc.wantStarted)
			}
			if got := h.queue.byReceipt(); !mapsEqual(got, tc.wantVis) {
				t.Errorf("visibility = %v, want %v", got, tc.wantVis)
			}
			if tc.wantLog != "" && !strings.Contains(h.logs.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, h.logs.String())
			}
		})
	}
}

// TestDeadline: an execution starts only when the invocation has at least
// the route's worst-case execution time left; a record that cannot start
// fails with the rest of its group, and other routes with shorter budgets go on.
func TestDeadline(t *testing.T) {
	t.Parallel()
	budget := config.ComputeBudget(testConfig())
	worst := map[string]time.Duration{}
	for _, rb := range budget.Routes {
		worst[rb.Route] = rb.WorstExecution
	}
	if worst["approval-progress"] >= worst["approval-completed"] {
		t.Fatalf("test needs approval-completed's budget (%s) above approval-progress's (%s)", worst["approval-completed"], worst["approval-progress"])
	}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	// Time left lies between the two routes' worst cases.
	left := (worst["approval-progress"] + worst["approval-completed"]) / 2
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(left))
	defer cancel()

	h := newHarness(t, nil, func(o *forwarder.Config) { withDLQ(o); o.Now = func() time.Time { return now } })
	resp, err := h.fwd.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		record("1", "g1", "approval-completed", 1, "{}"),
		record("2", "g1", "approval-progress", 1, "{}"),
		record("3", "g2", "approval-progress", 1, "{}"),
		// Past its window: its next execution would be final, but one that
		// cannot start is never final (it was never tried).
		sentBefore(record("4", "g3", "approval-completed", 5, "{}"), 2*time.Hour),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failureIDs(resp), []string{"msg-1", "msg-2", "msg-4"}; !slices.Equal(got, want) {
		t.Errorf("failures %v, want %v", got, want)
	}
	if got, want := h.starter.started(), []string{"wh-3"}; !slices.Equal(got, want) {
		t.Errorf("started %v, want %v", got, want)
	}
	if got, want := h.queue.byReceipt(), map[string]int32{"rh-1": 0, "rh-2": 0, "rh-4": 0}; !mapsEqual(got, want) {
		t.Errorf("visibility %v, want %v", got, want)
	}
	if !strings.Contains(h.logs.String(), "less time left than the route's worst-case execution") {
		t.Errorf("no deadline log line:\n%s", h.logs.String())
	}
	if len(h.dlq.calls) != 0 || len(h.notifier.calls) != 0 {
		t.Errorf("%d parked, %d announced; a record that was not started must come back", len(h.dlq.calls), len(h.notifier.calls))
	}
}

// TestVisibilityFailureIsOnlyLogged: a failing ChangeMessageVisibility never
// changes an outcome.
func TestVisibilityFailureIsOnlyLogged(t *testing.T) {
	t.Parallel()
	ev, _ := loadEvent(t, "batch_mixed.json")
	h := newHarness(t, mixedResults, nil)
	h.queue.fail = true
	resp, err := h.fwd.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(resp.BatchItemFailures); got != 5 {
		t.Errorf("%d failures, want 5 as without the visibility error", got)
	}
	if len(h.queue.calls) != 5 {
		t.Errorf("%d visibility calls, want 5", len(h.queue.calls))
	}
	if n := strings.Count(h.logs.String(), "ChangeMessageVisibility failed"); n != 5 {
		t.Errorf("%d visibility failure log lines, want 5", n)
	}
}

// TestPanicFailsOnlyItsGroup: a panic while forwarding (here from the
// starter) neither ends the process nor loses records: the group's undecided
// records are failures, other groups are unaffected.
func TestPanicFailsOnlyItsGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.starter.hold = func(env webhook.Envelope) {
		if env.WebhookID == "wh-2" {
			panic("starter blew up")
		}
	}
	resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		record("1", "g1", "approval-progress", 1, "{}"),
		record("2", "g1", "approval-progress", 1, "{}"),
		record("3", "g1", "approval-progress", 1, "{}"),
		record("4", "g2", "approval-progress", 1, "{}"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failureIDs(resp), []string{"msg-2", "msg-3"}; !slices.Equal(got, want) {
		t.Errorf("failures %v, want %v", got, want)
	}
	if !strings.Contains(h.logs.String(), "starter blew up") {
		t.Errorf("panic not logged:\n%s", h.logs.String())
	}
}

// TestVisibilityRoundsUp: ChangeMessageVisibility takes whole seconds; a
// delay never comes out shorter than scheduled.
func TestVisibilityRoundsUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusFailed}}, func(o *forwarder.Config) {
		o.Routes.Queue.RedeliveryDelay = 1500 * time.Millisecond
	})
	if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record("1", "g1", "approval-progress", 1, "{}")}}); err != nil {
		t.Fatal(err)
	}
	if got := h.queue.byReceipt(); got["rh-1"] != 2 {
		t.Errorf("visibility %v, want 2 s for a 1.5 s delay", got)
	}
}

func TestQueueURLFromEventSourceARN(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]result{"wh-1": {status: sfntypes.SyncExecutionStatusFailed}},
		func(o *forwarder.Config) { o.QueueURL = "" })
	r1 := record("1", "g1", "approval-progress", 1, "{}")
	r2 := record("2", "g2", "approval-progress", 1, "{}")
	r2.EventSourceARN = "arn:aws-cn:sqs:cn-north-1:123456789012:other.fifo"
	h.starter.results["wh-2"] = result{status: sfntypes.SyncExecutionStatusFailed}
	r3 := record("3", "g3", "approval-progress", 1, "{}")
	r3.EventSourceARN = "not-an-arn"
	h.starter.results["wh-3"] = result{status: sfntypes.SyncExecutionStatusFailed}
	if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{r1, r2, r3}}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range h.queue.calls {
		got[c.receipt] = c.queueURL
	}
	want := map[string]string{
		"rh-1": testQueue,
		"rh-2": "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/other.fifo",
	}
	if !mapsEqual(got, want) {
		t.Errorf("queue URLs %v, want %v", got, want)
	}
	if !strings.Contains(h.logs.String(), "cannot set visibility: no queue URL") {
		t.Errorf("no log line for the unusable ARN:\n%s", h.logs.String())
	}
}

func TestWebhookIDFallsBackToMessageID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	r := record("1", "g1", "approval-progress", 1, "{}")
	delete(r.MessageAttributes, webhook.AttrWebhookID)
	if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{r}}); err != nil {
		t.Fatal(err)
	}
	c, ok := h.starter.call("msg-1")
	if !ok {
		t.Fatalf("no execution with the message id as webhook id; started %v", h.starter.started())
	}
	if c.envelope.MessageID != "msg-1" {
		t.Errorf("message id %q", c.envelope.MessageID)
	}
	if !strings.Contains(h.logs.String(), "no webhook id attribute") {
		t.Errorf("no fallback log line:\n%s", h.logs.String())
	}
	// SentTimestamp stands in for a missing received-at attribute.
	if c.envelope.ReceivedAt != "2026-11-28T09:00:00Z" {
		t.Errorf("receivedAt %q, want SentTimestamp as RFC 3339", c.envelope.ReceivedAt)
	}
}

// TestGroupsRunConcurrentlyInOrder: different groups overlap (up to the
// bound), one group's records never overlap and start in batch order.
func TestGroupsRunConcurrentlyInOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		concurrency, wantMax int
	}{{0, 3}, {2, 2}, {1, 1}} {
		var records []events.SQSMessage
		for _, id := range []string{"a1", "b1", "c1", "a2", "b2", "c2", "a3"} {
			records = append(records, record(id, "g-"+id[:1], "approval-progress", 1, "{}"))
		}
		// Each call waits until as many executions run as the bound allows
		// (or a short while), so overlapping groups are observed, not hoped for.
		var mu sync.Mutex
		running := 0
		cond := sync.NewCond(&mu)
		h := newHarness(t, nil, func(o *forwarder.Config) { o.Concurrency = tc.concurrency })
		h.starter.hold = func(webhook.Envelope) {
			mu.Lock()
			defer mu.Unlock()
			running++
			cond.Broadcast()
			deadline := time.Now().Add(200 * time.Millisecond)
			for running < tc.wantMax && time.Now().Before(deadline) {
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
			}
			running--
		}
		if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: records}); err != nil {
			t.Fatal(err)
		}
		if h.starter.maxConc != tc.wantMax {
			t.Errorf("concurrency %d: at most %d executions at once, want %d", tc.concurrency, h.starter.maxConc, tc.wantMax)
		}
		perGroup := map[string][]string{}
		for _, id := range h.starter.started() {
			perGroup[id[3:4]] = append(perGroup[id[3:4]], id)
		}
		want := map[string][]string{"a": {"wh-a1", "wh-a2", "wh-a3"}, "b": {"wh-b1", "wh-b2"}, "c": {"wh-c1", "wh-c2"}}
		for g, ids := range want {
			if !slices.Equal(perGroup[g], ids) {
				t.Errorf("concurrency %d: group %s started %v, want %v", tc.concurrency, g, perGroup[g], ids)
			}
		}
	}
}

// TestLogLines: one structured line per record with the fields an operator
// searches by, and never the body.
func TestLogLines(t *testing.T) {
	t.Parallel()
	ev, _ := loadEvent(t, "batch_mixed.json")
	h := newHarness(t, mixedResults, nil)
	if _, err := h.fwd.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	lines := h.logs.lines(t)
	byWebhook := map[string]map[string]any{}
	for _, l := range lines {
		if id, ok := l["webhook_id"].(string); ok && l["execution_arn"] != nil {
			byWebhook[id] = l
		}
	}
	for _, id := range []string{"wh-a1", "wh-a2", "wh-b1", "wh-c1", "wh-c2", "wh-d1"} {
		l := byWebhook[id]
		if l == nil {
			t.Errorf("no execution log line for %s", id)
			continue
		}
		for _, k := range []string{"route", "group", "message_id", "execution_arn", "status"} {
			if s, _ := l[k].(string); s == "" {
				t.Errorf("%s: log line lacks %s: %v", id, k, l)
			}
		}
	}
	if l := byWebhook["wh-a2"]; l["error"] != webhook.ErrRetryable || l["status"] != "FAILED" || l["cause"] != "target answered 503" || l["level"] != "ERROR" {
		t.Errorf("failed execution's log line: %v", l)
	}
	for _, r := range ev.Records {
		if strings.Contains(h.logs.String(), r.Body) {
			t.Errorf("the log contains a message body %q", r.Body)
		}
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	full := forwarder.Config{Routes: testConfig(), StateMachineARNPrefix: arnPrefix, Starter: &fakeStarter{}, Queue: &fakeQueue{}}
	for name, tweak := range map[string]func(*forwarder.Config){
		"no routes":  func(o *forwarder.Config) { o.Routes = nil },
		"no prefix":  func(o *forwarder.Config) { o.StateMachineARNPrefix = "" },
		"no starter": func(o *forwarder.Config) { o.Starter = nil },
		"no queue":   func(o *forwarder.Config) { o.Queue = nil },
	} {
		o := full
		tweak(&o)
		if _, err := forwarder.New(&o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := forwarder.New(nil); err == nil {
		t.Error("New accepted a nil Config")
	}
	if _, err := forwarder.New(&full); err != nil {
		t.Errorf("complete config: %v", err)
	}
}

func TestExecutionName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 200)
	tests := []struct {
		messageID string
		receive   int
		want      string
	}{
		{"f55ff16f-66f4-4360-866b-95db6f8fec01", 1, "f55ff16f-66f4-4360-866b-95db6f8fec01-1"},
		{"f55ff16f-66f4-4360-866b-95db6f8fec01", 12, "f55ff16f-66f4-4360-866b-95db6f8fec01-12"},
		{"a b/c:d*é", 2, "a_b_c_d__-2"},
		{"", 1, "_-1"},
		{long, 3, strings.Repeat("x", 78) + "-3"},
		{long, 100, strings.Repeat("x", 76) + "-100"},
	}
	for _, tc := range tests {
		got := forwarder.ExecutionName(tc.messageID, tc.receive)
		if got != tc.want {
			t.Errorf("ExecutionName(%q, %d) = %q, want %q", tc.messageID, tc.receive, got, tc.want)
		}
		if len(got) > 80 {
			t.Errorf("ExecutionName(%q, %d) is %d characters, over 80", tc.messageID, tc.receive, len(got))
		}
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func envelopesEqual(a, b webhook.Envelope) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestUncarriedHeaderAttributesAreLeftOut: API Gateway pastes a carried
// header's value verbatim into the MessageAttributes JSON, so a crafted value
// could add header attributes of its own. Only the headers the route carries
// (names compared as HTTP compares them) reach the envelope, and so the
// target; the others are named in a warning.
func TestUncarriedHeaderAttributesAreLeftOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	r := record("1", "g1", "approval-progress", 1, "{}")
	r.MessageAttributes["h-X-Event-Type"] = strAttr("approval.step")
	r.MessageAttributes["h-x-delivery-id"] = strAttr("dlv-1")
	r.MessageAttributes["h-Authorization"] = strAttr("Bearer forged")
	r.MessageAttributes["h-X-Forwarded-For"] = strAttr("10.0.0.1")
	if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{r}}); err != nil {
		t.Fatal(err)
	}
	c, ok := h.starter.call("wh-1")
	if !ok {
		t.Fatalf("not started; log:\n%s", h.logs.String())
	}
	want := map[string]string{"X-Event-Type": "approval.step", "x-delivery-id": "dlv-1"}
	if !maps.Equal(c.envelope.Headers, want) {
		t.Errorf("headers %v, want only the carried ones %v", c.envelope.Headers, want)
	}
	if log := h.logs.String(); !strings.Contains(log, "the route does not carry") || !strings.Contains(log, `"attributes":"h-Authorization,h-X-Forwarded-For"`) {
		t.Errorf("no warning naming the left-out attributes:\n%s", log)
	}
}
