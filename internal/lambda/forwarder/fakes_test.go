package forwarder_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/webhook"
)

const (
	arnPrefix = "arn:aws:states:ap-northeast-1:123456789012:stateMachine:sales-approvals-"
	testQueue = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/sales-approvals.fifo"
)

// testConfig mirrors config/routes.yaml's routes and queue policy, built by
// hand so the core's tests do not depend on the YAML loader.
func testConfig() *config.Config {
	retry := config.Retry{MaxAttempts: 3, Interval: time.Second, BackoffRate: 2, MaxDelay: 10 * time.Second, Jitter: config.JitterFull, On: config.AllOutcomes}
	return &config.Config{
		Service: "sales-approvals",
		Region:  "ap-northeast-1",
		Queue: config.Queue{
			RetryWindow:        time.Hour,
			Retention:          4 * 24 * time.Hour,
			BatchSize:          10,
			RedeliveryDelay:    30 * time.Second,
			MaxRedeliveryDelay: 15 * time.Minute,
		},
		Routes: []config.Route{
			{Name: "approval-progress", Timeout: 10 * time.Second, Retry: retry, Notify: config.Notify{When: config.NotifyFinal},
				Headers: []string{"X-Event-Type", "X-Delivery-Id", "X-Approval-Request-Id", "X-Workflow-Signature"}},
			{Name: "approval-completed", Timeout: 20 * time.Second, Retry: retry, Notify: config.Notify{When: config.NotifyEveryFailure},
				Headers: []string{"X-Event-Type", "X-Delivery-Id", "X-Workflow-Signature"}},
		},
	}
}

// result is what the fake state machine answers for one webhook id.
type result struct {
	status     sfntypes.SyncExecutionStatus
	err, cause string
	apiErr     error
	// output is a succeeded execution's output (the Deliver state's result).
	output string
}

// call is one StartSyncExecution the fake received.
type call struct {
	arn, name string
	envelope  webhook.Envelope
	input     string
}

// fakeStarter answers StartSyncExecution from a table keyed by webhook id
// (SUCCEEDED when absent) and records every call. It fails the test when two
// executions of one message group overlap.
type fakeStarter struct {
	t       testing.TB
	results map[string]result
	// hold, when set, is waited on inside each call (to observe concurrency).
	hold func(env webhook.Envelope)

	mu       sync.Mutex
	calls    []call
	inFlight map[string]bool
	maxConc  int
	running  int
}

func (s *fakeStarter) StartSyncExecution(ctx context.Context, in *sfn.StartSyncExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartSyncExecutionOutput, error) {
	var env webhook.Envelope
	if err := json.Unmarshal([]byte(aws.ToString(in.Input)), &env); err != nil {
		s.t.Errorf("execution input is not an envelope: %v", err)
	}
	s.mu.Lock()
	if s.inFlight == nil {
		s.inFlight = map[string]bool{}
	}
	if s.inFlight[env.Group] {
		s.t.Errorf("two executions of group %q overlap", env.Group)
	}
	s.inFlight[env.Group] = true
	s.running++
	s.maxConc = max(s.maxConc, s.running)
	s.calls = append(s.calls, call{arn: aws.ToString(in.StateMachineArn), name: aws.ToString(in.Name), envelope: env, input: aws.ToString(in.Input)})
	s.mu.Unlock()

	if s.hold != nil {
		s.hold(env)
	}

	s.mu.Lock()
	s.inFlight[env.Group] = false
	s.running--
	s.mu.Unlock()

	r, ok := s.results[env.WebhookID]
	if !ok {
		r.status = sfntypes.SyncExecutionStatusSucceeded
	}
	if r.apiErr != nil {
		return nil, r.apiErr
	}
	out := &sfn.StartSyncExecutionOutput{
		ExecutionArn: aws.String(strings.Replace(aws.ToString(in.StateMachineArn), ":stateMachine:", ":express:", 1) + ":" + aws.ToString(in.Name) + ":0b1c"),
		Status:       r.status,
	}
	if r.err != "" {
		out.Error, out.Cause = aws.String(r.err), aws.String(r.cause)
	}
	if r.output != "" {
		out.Output = aws.String(r.output)
	}
	return out, nil
}

// started lists the webhook ids of the executions started, in call order.
func (s *fakeStarter) started() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, c := range s.calls {
		ids = append(ids, c.envelope.WebhookID)
	}
	return ids
}

func (s *fakeStarter) call(webhookID string) (call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.envelope.WebhookID == webhookID {
			return c, true
		}
	}
	return call{}, false
}

// visibility is one ChangeMessageVisibility the fake queue received.
type visibility struct {
	queueURL, receipt string
	seconds           int32
}

// fakeQueue records ChangeMessageVisibility calls; fail makes each one fail.
type fakeQueue struct {
	fail  bool
	mu    sync.Mutex
	calls []visibility
}

func (q *fakeQueue) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, visibility{aws.ToString(in.QueueUrl), aws.ToString(in.ReceiptHandle), in.VisibilityTimeout})
	if q.fail {
		return nil, errors.New("AWS.SimpleQueueService.NonExistentQueue")
	}
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// byReceipt is the visibility set per receipt handle.
func (q *fakeQueue) byReceipt() map[string]int32 {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := map[string]int32{}
	for _, c := range q.calls {
		m[c.receipt] = c.seconds
	}
	return m
}

const testDLQ = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/sales-approvals-dlq.fifo"

// fakeDLQ records SendMessage calls; fail makes each one fail.
type fakeDLQ struct {
	fail  bool
	mu    sync.Mutex
	calls []*sqs.SendMessageInput
}

func (q *fakeDLQ) SendMessage(ctx context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, in)
	if q.fail {
		return nil, errors.New("AccessDenied: not authorized to perform sqs:SendMessage")
	}
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprint("dlq-", len(q.calls)))}, nil
}

// sent is the DLQ copy of the message whose webhook id attribute is id.
func (q *fakeDLQ) sent(id string) (*sqs.SendMessageInput, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, in := range q.calls {
		if a, ok := in.MessageAttributes[webhook.AttrWebhookID]; ok && aws.ToString(a.StringValue) == id {
			return in, true
		}
	}
	return nil, false
}

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines decodes every log line.
func (b *logBuffer) lines(t testing.TB) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(b.buf.Bytes()))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, b.buf.String())
		}
		out = append(out, m)
	}
	return out
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// notifyFunction is the notify function's name the harness gives the forwarder.
const notifyFunction = "sales-approvals-notify"

// fakeNotifier records Lambda Invoke calls; fail makes each one fail.
type fakeNotifier struct {
	t     testing.TB
	fail  bool
	mu    sync.Mutex
	calls []*lambda.InvokeInput
}

func (n *fakeNotifier) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, in)
	if n.fail {
		return nil, errors.New("TooManyRequestsException: rate exceeded")
	}
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

// requests decodes every notification sent, checking each was an
// asynchronous invocation of the notify function.
func (n *fakeNotifier) requests() []webhook.NotifyRequest {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []webhook.NotifyRequest
	for _, in := range n.calls {
		if aws.ToString(in.FunctionName) != notifyFunction || in.InvocationType != lambdatypes.InvocationTypeEvent {
			n.t.Errorf("Invoke %s as %q, want %s as Event", aws.ToString(in.FunctionName), in.InvocationType, notifyFunction)
		}
		var req webhook.NotifyRequest
		if err := json.Unmarshal(in.Payload, &req); err != nil {
			n.t.Errorf("notify payload is not a NotifyRequest: %v", err)
		}
		out = append(out, req)
	}
	return out
}

// sentAt is the SentTimestamp of every record() and of testdata's records;
// harnessNow, the harness's clock, is a minute later: inside the window.
var (
	sentAt     = time.UnixMilli(1795856400000)
	harnessNow = sentAt.Add(time.Minute)
)

type harness struct {
	fwd      *forwarder.Forwarder
	starter  *fakeStarter
	queue    *fakeQueue
	dlq      *fakeDLQ
	notifier *fakeNotifier
	logs     *logBuffer
}

func newHarness(t testing.TB, results map[string]result, tweak func(*forwarder.Config)) *harness {
	t.Helper()
	h := &harness{starter: &fakeStarter{t: t, results: results}, queue: &fakeQueue{}, dlq: &fakeDLQ{}, notifier: &fakeNotifier{t: t}, logs: &logBuffer{}}
	opts := &forwarder.Config{
		Routes:                testConfig(),
		StateMachineARNPrefix: arnPrefix,
		QueueURL:              testQueue,
		Starter:               h.starter,
		Queue:                 h.queue,
		DeadLetters:           h.dlq,
		NotifyFunction:        notifyFunction,
		Notifier:              h.notifier,
		Logger:                slog.New(slog.NewJSONHandler(h.logs, nil)),
		Now:                   func() time.Time { return harnessNow },
	}
	if tweak != nil {
		tweak(opts)
	}
	fwd, err := forwarder.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.fwd = fwd
	return h
}

// loadEvent reads an SQS event from testdata.
func loadEvent(t testing.TB, name string) (events.SQSEvent, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev, raw
}

// ids maps the testdata records' webhook ids ("wh-a1") to their message ids.
func messageIDs(ev events.SQSEvent) map[string]string {
	m := map[string]string{}
	for _, r := range ev.Records {
		if a, ok := r.MessageAttributes[webhook.AttrWebhookID]; ok && a.StringValue != nil {
			m[*a.StringValue] = r.MessageId
		}
	}
	return m
}

func receipts(ev events.SQSEvent) map[string]string {
	m := map[string]string{}
	for _, r := range ev.Records {
		if a, ok := r.MessageAttributes[webhook.AttrWebhookID]; ok && a.StringValue != nil {
			m[*a.StringValue] = r.ReceiptHandle
		}
	}
	return m
}

func failureIDs(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// record builds one SQS FIFO record for table tests.
func record(id, group, route string, receive int, body string) events.SQSMessage {
	attrs := map[string]events.SQSMessageAttribute{
		webhook.AttrWebhookID: strAttr("wh-" + id),
	}
	if route != "" {
		attrs[webhook.AttrRoute] = strAttr(route)
	}
	return events.SQSMessage{
		MessageId:     "msg-" + id,
		ReceiptHandle: "rh-" + id,
		Body:          body,
		Attributes: map[string]string{
			"ApproximateReceiveCount": fmt.Sprint(receive),
			"MessageGroupId":          group,
			"SequenceNumber":          "1000",
			"SentTimestamp":           "1795856400000",
		},
		MessageAttributes: attrs,
		EventSourceARN:    "arn:aws:sqs:ap-northeast-1:123456789012:sales-approvals.fifo",
		EventSource:       "aws:sqs",
	}
}

// sentBefore moves a record's SentTimestamp d before sentAt: an older message.
func sentBefore(r events.SQSMessage, d time.Duration) events.SQSMessage {
	r.Attributes["SentTimestamp"] = fmt.Sprint(sentAt.Add(-d).UnixMilli())
	return r
}

func strAttr(v string) events.SQSMessageAttribute {
	return events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
}
