package main

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/webhookq/webhookq/internal/testkit/emfcheck"
	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/webhook"
)

const (
	// workflowSecret is the example routes' inbound signing secret, which
	// the local endpoint serves as the SSM parameter they reference.
	workflowSecret = "workflow-saas-shared-secret"
	arnPrefix      = "arn:aws:states:us-east-1:123456789012:stateMachine:sales-approvals-"
	queueURL       = "https://sqs.us-east-1.amazonaws.com/123456789012/sales-approvals.fifo"
	dlqURL         = "https://sqs.us-east-1.amazonaws.com/123456789012/sales-approvals-dlq.fifo"
)

// awsRequest is one request the local AWS endpoint received. A Lambda
// Invoke (REST, not JSON 1.0) is recorded with the target "Lambda.Invoke",
// its path and invocation type.
type awsRequest struct {
	target, host, contentType, authorization string
	path, invocationType                     string
	body                                     map[string]any
}

// invokePrefix starts the path of Lambda's Invoke operation.
const invokePrefix = "/2015-03-31/functions/"

// outcome is the local Step Functions' answer for one webhook id.
type outcome struct {
	status, err, cause string
	// apiError, when set, is answered as an AWS JSON error of this type.
	apiError string
}

// localAWS is an httptest server speaking the AWS JSON 1.1 protocol for the
// operations the forwarder calls: Step Functions' StartSyncExecution
// (answered from outcomes by the envelope's webhook id, SUCCEEDED when absent),
// SQS's ChangeMessageVisibility and SendMessage, and SSM's GetParameter (the
// routes' verification secret). It records every request.
type localAWS struct {
	*httptest.Server
	outcomes map[string]outcome

	mu       sync.Mutex
	requests []awsRequest
}

func newLocalAWS(t testing.TB, outcomes map[string]outcome) *localAWS {
	t.Helper()
	l := &localAWS{outcomes: outcomes}
	l.Server = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.Close)
	return l
}

func (l *localAWS) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	req := awsRequest{
		target:        r.Header.Get("X-Amz-Target"),
		host:          r.Host,
		contentType:   r.Header.Get("Content-Type"),
		authorization: r.Header.Get("Authorization"),
	}
	if err := json.Unmarshal(raw, &req.body); err != nil {
		http.Error(w, `{"__type":"SerializationException"}`, http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(r.URL.Path, invokePrefix) {
		req.target, req.path, req.invocationType = "Lambda.Invoke", r.URL.Path, r.Header.Get("X-Amz-Invocation-Type")
	}
	l.mu.Lock()
	l.requests = append(l.requests, req)
	l.mu.Unlock()
	if req.target == "Lambda.Invoke" {
		// An asynchronous invocation is accepted with 202 and no body.
		w.WriteHeader(http.StatusAccepted)
		return
	}

	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	switch req.target {
	case "AWSStepFunctions.StartSyncExecution":
		var env webhook.Envelope
		input, _ := req.body["input"].(string)
		if err := json.Unmarshal([]byte(input), &env); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"InvalidExecutionInput","message":"input is not JSON"}`)
			return
		}
		l.mu.Lock()
		o, ok := l.outcomes[env.WebhookID]
		l.mu.Unlock()
		if !ok {
			o.status = "SUCCEEDED"
		}
		if o.apiError != "" {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": o.apiError, "message": "local endpoint says " + o.apiError})
			return
		}
		sm, _ := req.body["stateMachineArn"].(string)
		name, _ := req.body["name"].(string)
		now := float64(time.Now().UnixMilli()) / 1000
		resp := map[string]any{
			"executionArn":    strings.Replace(sm, ":stateMachine:", ":express:", 1) + ":" + name + ":6f1c",
			"stateMachineArn": sm,
			"name":            name,
			"startDate":       now,
			"stopDate":        now,
			"status":          o.status,
			"input":           input,
		}
		if o.err != "" {
			resp["error"], resp["cause"] = o.err, o.cause
		}
		_ = json.NewEncoder(w).Encode(resp)
	case "AmazonSQS.ChangeMessageVisibility":
		_, _ = io.WriteString(w, "{}")
	case "AmazonSSM.GetParameter":
		name, _ := req.body["Name"].(string)
		_ = json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{"Name": name, "Type": "SecureString", "Value": workflowSecret}})
	case "AmazonSQS.SendMessage":
		body, _ := req.body["MessageBody"].(string)
		sum := md5.Sum([]byte(body))
		_ = json.NewEncoder(w).Encode(map[string]string{"MessageId": "dlq-" + hex.EncodeToString(sum[:4]), "MD5OfMessageBody": hex.EncodeToString(sum[:])})
	default:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"UnknownOperationException"}`)
	}
}

func (l *localAWS) setOutcomes(o map[string]outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.outcomes = o
}

func (l *localAWS) received(target string) []awsRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []awsRequest
	for _, r := range l.requests {
		if r.target == target {
			out = append(out, r)
		}
	}
	return out
}

// visibilityByReceipt is the VisibilityTimeout the SDK sent per receipt handle.
func (l *localAWS) visibilityByReceipt(t testing.TB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range l.received("AmazonSQS.ChangeMessageVisibility") {
		if r.body["QueueUrl"] != queueURL {
			t.Errorf("ChangeMessageVisibility QueueUrl %v, want %s", r.body["QueueUrl"], queueURL)
		}
		rh, _ := r.body["ReceiptHandle"].(string)
		v, _ := r.body["VisibilityTimeout"].(float64)
		out[rh] = int(v)
	}
	return out
}

// mixedOutcomes: group req-A fails at its second record, req-B permanently at
// its first, acct-7 succeeds, req-D times out on its final attempt.
var mixedOutcomes = map[string]outcome{
	"wh-a2": {status: "FAILED", err: webhook.ErrRetryable, cause: "target answered 503"},
	"wh-b1": {status: "FAILED", err: webhook.ErrPermanent, cause: "target answered 400"},
	"wh-d1": {status: "TIMED_OUT"},
}

type batch struct {
	raw      []byte
	event    events.SQSEvent
	ids      map[string]string // webhook id → message id
	receipts map[string]string // webhook id → receipt handle
}

// mixedBatch is the forwarder's testdata batch, moved in time so that it was
// queued a minute ago (d1 two hours earlier, as in the testdata): inside
// the example's one-hour retry window, d1 past it.
func mixedBatch(t testing.TB) batch {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "internal", "lambda", "forwarder", "testdata", "batch_mixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	const queued = 1795856400000 // the testdata's SentTimestamp, epoch millis
	shift := time.Now().Add(-time.Minute).UnixMilli() - queued
	for _, ms := range []int64{queued, queued + 100, queued - 7_200_000, queued - 7_200_000 + 100} {
		raw = []byte(strings.ReplaceAll(string(raw), fmt.Sprintf(`": "%d"`, ms), fmt.Sprintf(`": "%d"`, ms+shift)))
	}
	b := batch{ids: map[string]string{}, receipts: map[string]string{}}
	if err := json.Unmarshal(raw, &b.event); err != nil {
		t.Fatal(err)
	}
	for _, r := range b.event.Records {
		id := *r.MessageAttributes[webhook.AttrWebhookID].StringValue
		b.ids[id], b.receipts[id] = r.MessageId, r.ReceiptHandle
		// The example's routes verify: the sender signs every webhook.
		body := []byte(r.Body)
		if a, ok := r.MessageAttributes[webhook.AttrBodyEncoding]; ok && *a.StringValue == webhook.EncodingBase64 {
			if body, err = base64.StdEncoding.DecodeString(r.Body); err != nil {
				t.Fatal(err)
			}
		}
		mac := hmac.New(sha256.New, []byte(workflowSecret))
		mac.Write(body)
		sig := hex.EncodeToString(mac.Sum(nil))
		r.MessageAttributes[webhook.AttrHeaderPrefix+"X-Workflow-Signature"] = events.SQSMessageAttribute{StringValue: &sig, DataType: "String"}
	}
	b.encode(t)
	return b
}

// encode writes the event as the runtime receives it.
func (b *batch) encode(t testing.TB) {
	t.Helper()
	raw, err := json.Marshal(b.event)
	if err != nil {
		t.Fatal(err)
	}
	b.raw = raw
}

// wantFailures is the exact response for the mixed batch: failures in batch
// order, blocked records included; d1, failed on its final receive, and b1,
// failed permanently, are parked in the DLQ instead (and b2 goes on).
func (b batch) wantFailures() string {
	var items []string
	for _, id := range []string{"wh-a2", "wh-a3"} {
		items = append(items, `{"itemIdentifier":"`+b.ids[id]+`"}`)
	}
	return `{"batchItemFailures":[` + strings.Join(items, ",") + `]}`
}

// checkVisibility checks the redelivery delays of the mixed batch under the
// example config (30 s doubling per receive, up to a fifth of jitter off).
func (b batch) checkVisibility(t testing.TB, got map[string]int) {
	t.Helper()
	ranges := map[string][2]int{
		"wh-a2": {24, 30}, // receive 1
		"wh-a3": {0, 0},   // blocked
	}
	if len(got) != len(ranges) {
		t.Errorf("visibility set on %d messages, want %d: %v", len(got), len(ranges), got)
	}
	for id, r := range ranges {
		v, ok := got[b.receipts[id]]
		if !ok || v < r[0] || v > r[1] {
			t.Errorf("%s: visibility %d (set: %v), want within %v", id, v, ok, r)
		}
	}
}

// checkParked checks the SendMessages that parked b1 and d1 in the DLQ.
func (b batch) checkParked(t testing.TB, aws *localAWS) {
	t.Helper()
	sends := aws.received("AmazonSQS.SendMessage")
	if len(sends) != 2 {
		t.Fatalf("%d SendMessage requests, want 2 (b1 and d1 to the DLQ)", len(sends))
	}
	r := sends[0]
	if r.body["MessageGroupId"] != "req-D" {
		r = sends[1]
	}
	if r.body["QueueUrl"] != dlqURL || r.body["MessageGroupId"] != "req-D" {
		t.Errorf("SendMessage to %v, group %v", r.body["QueueUrl"], r.body["MessageGroupId"])
	}
	if id, _ := r.body["MessageDeduplicationId"].(string); !strings.HasPrefix(id, "park-"+b.ids["wh-d1"]) {
		t.Errorf("MessageDeduplicationId %q", id)
	}
	attrs, _ := r.body["MessageAttributes"].(map[string]any)
	webhookID, _ := attrs[webhook.AttrWebhookID].(map[string]any)
	failure, _ := attrs[webhook.AttrFailure].(map[string]any)
	if webhookID["StringValue"] != "wh-d1" || !strings.Contains(fmt.Sprint(failure["StringValue"]), `"error":"States.TIMED_OUT"`) {
		t.Errorf("parked attributes %v", attrs)
	}

	// d1's execution timed out as a whole, so its workflow never reached
	// Notify: the forwarder invoked the notify function, asynchronously,
	// once, without the body. b1's workflow notified itself.
	invokes := aws.received("Lambda.Invoke")
	if len(invokes) != 1 {
		t.Fatalf("%d Lambda Invoke requests, want 1 (d1's notification)", len(invokes))
	}
	inv := invokes[0]
	if inv.path != invokePrefix+notifyFunction+"/invocations" || inv.invocationType != "Event" || !strings.Contains(inv.authorization, "/lambda/aws4_request") {
		t.Errorf("Invoke %s as %q, signed %q; want the notify function, Event, SigV4 for lambda", inv.path, inv.invocationType, inv.authorization)
	}
	note, _ := json.Marshal(inv.body)
	var req webhook.NotifyRequest
	if err := json.Unmarshal(note, &req); err != nil {
		t.Fatal(err)
	}
	if req.Webhook.WebhookID != "wh-d1" || req.Error.Error != "States.TIMED_OUT" || !req.Webhook.FinalAttempt || req.Webhook.Body != "" ||
		req.StateMachine != "sales-approvals-approval-progress" || !strings.Contains(req.ExecutionID, ":express:") {
		t.Errorf("notification %s", note)
	}
}

// notifyFunction is the notify function's name in the function's environment.
const notifyFunction = "sales-approvals-notify"

// functionEnv is the forward Lambda's environment against the local endpoint.
func functionEnv(t testing.TB, endpoint string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_SFN":           endpoint,
		"AWS_ENDPOINT_URL_SQS":           endpoint,
		"AWS_ENDPOINT_URL_LAMBDA":        endpoint,
		"AWS_ENDPOINT_URL_SSM":           endpoint,
		webhook.EnvConfig:                filepath.Join(testenv.RepoRoot(t), "config", "routes.yaml"),
		webhook.EnvStateMachineARNPrefix: arnPrefix,
		webhook.EnvQueueURL:              queueURL,
		webhook.EnvDLQURL:                dlqURL,
		webhook.EnvNotifyFunction:        notifyFunction,
	}
}

// TestSetupWithRealSDKClients builds the forwarder exactly as the Lambda does
// (config from routes.yaml, the SDK's default config reading
// AWS_ENDPOINT_URL_SFN/SQS) and checks the requests the real AWS SDK clients
// send to a local endpoint.
func TestSetupWithRealSDKClients(t *testing.T) {
	testenv.AWSEnv(t, lambdarie.Region)
	aws := newLocalAWS(t, mixedOutcomes)
	for k, v := range functionEnv(t, aws.URL) {
		t.Setenv(k, v)
	}
	fwd, err := setup(context.Background(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b := mixedBatch(t)
	resp, err := fwd.Handle(context.Background(), b.event)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(resp)
	if string(got) != b.wantFailures() {
		t.Errorf("response\n got %s\nwant %s", got, b.wantFailures())
	}

	host := strings.TrimPrefix(aws.URL, "http://")
	starts := aws.received("AWSStepFunctions.StartSyncExecution")
	var startedIDs []string
	for _, r := range starts {
		if r.host != host {
			t.Errorf("StartSyncExecution went to host %q, want %q (no sync- prefix)", r.host, host)
		}
		if r.contentType != "application/x-amz-json-1.0" {
			t.Errorf("StartSyncExecution Content-Type %q", r.contentType)
		}
		if !strings.Contains(r.authorization, "/"+lambdarie.Region+"/states/aws4_request") {
			t.Errorf("StartSyncExecution not SigV4-signed for states: %q", r.authorization)
		}
		var env webhook.Envelope
		if err := json.Unmarshal([]byte(r.body["input"].(string)), &env); err != nil {
			t.Fatalf("input: %v", err)
		}
		if want := arnPrefix + env.Route; r.body["stateMachineArn"] != want {
			t.Errorf("stateMachineArn %v, want %s", r.body["stateMachineArn"], want)
		}
		if name, _ := r.body["name"].(string); !strings.HasPrefix(name, env.MessageID+"-") {
			t.Errorf("execution name %q does not derive from message id %s", name, env.MessageID)
		}
		startedIDs = append(startedIDs, env.WebhookID)
	}
	slices.Sort(startedIDs)
	if want := []string{"wh-a1", "wh-a2", "wh-b1", "wh-b2", "wh-c1", "wh-c2", "wh-d1"}; !slices.Equal(startedIDs, want) {
		t.Errorf("started %v, want %v", startedIDs, want)
	}
	for _, r := range aws.received("AmazonSQS.ChangeMessageVisibility") {
		if !strings.Contains(r.authorization, "/sqs/aws4_request") || r.contentType != "application/x-amz-json-1.0" {
			t.Errorf("ChangeMessageVisibility: Authorization %q, Content-Type %q", r.authorization, r.contentType)
		}
	}
	b.checkVisibility(t, aws.visibilityByReceipt(t))
	b.checkParked(t, aws)
}

// TestSDKErrorIsAFailureWithoutRetry: an API error (throttling) fails the
// record once — the SDK does not retry a StartSyncExecution, SQS redelivery does.
func TestSDKErrorIsAFailureWithoutRetry(t *testing.T) {
	testenv.AWSEnv(t, lambdarie.Region)
	aws := newLocalAWS(t, map[string]outcome{"wh-a1": {apiError: "ThrottlingException"}})
	for k, v := range functionEnv(t, aws.URL) {
		t.Setenv(k, v)
	}
	fwd, err := setup(context.Background(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b := mixedBatch(t)
	ev := events.SQSEvent{Records: b.event.Records[:1]}
	resp, err := fwd.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != b.ids["wh-a1"] {
		t.Errorf("failures %v, want wh-a1's message", resp.BatchItemFailures)
	}
	if n := len(aws.received("AWSStepFunctions.StartSyncExecution")); n != 1 {
		t.Errorf("%d StartSyncExecution requests, want 1 (no SDK retry)", n)
	}
}

func TestSetupRejectsMissingSettings(t *testing.T) {
	testenv.AWSEnv(t, lambdarie.Region)
	t.Setenv(webhook.EnvConfig, filepath.Join(t.TempDir(), "missing.yaml"))
	t.Setenv(webhook.EnvStateMachineARNPrefix, arnPrefix)
	if _, err := setup(context.Background(), slog.New(slog.DiscardHandler)); err == nil {
		t.Error("setup accepted a missing routes.yaml")
	}
	t.Setenv(webhook.EnvConfig, filepath.Join(testenv.RepoRoot(t), "config", "routes.yaml"))
	t.Setenv(webhook.EnvStateMachineARNPrefix, "")
	if _, err := setup(context.Background(), slog.New(slog.DiscardHandler)); err == nil {
		t.Error("setup accepted a missing state machine ARN prefix")
	}
}

// TestBootstrapUnderEmulator runs the real forward bootstrap under the AWS
// Lambda Runtime Interface Emulator against the local endpoint.
func TestBootstrapUnderEmulator(t *testing.T) {
	t.Parallel()
	bootstrap := lambdarie.Build(t, "./functions/forward")
	b := mixedBatch(t)

	t.Run("mixed statuses", func(t *testing.T) {
		t.Parallel()
		aws := newLocalAWS(t, mixedOutcomes)
		fn := lambdarie.StartBootstrap(t, bootstrap, functionEnv(t, aws.URL))
		got := fn.Invoke(t, b.raw)
		if string(got) != b.wantFailures() {
			t.Errorf("response\n got %s\nwant %s", got, b.wantFailures())
		}
		b.checkVisibility(t, aws.visibilityByReceipt(t))
		b.checkParked(t, aws)

		// The function logs one JSON line per record; the failed
		// execution's line names it.
		lines := fn.AwaitLogLines(1, `"webhook_id":"wh-a2"`)
		if len(lines) == 0 || !strings.Contains(lines[0], `"status":"FAILED"`) || !strings.Contains(lines[0], `"execution_arn":"arn:aws:states:`) {
			t.Errorf("log lines for wh-a2: %q\nall output:\n%s", lines, fn.Logs())
		}

		// And its metrics, as EMF lines beside the log lines: CloudWatch
		// would count a1, b2, c1 and c2 delivered, b1 and d1 parked.
		ns := "webhookq/sales-approvals "
		want := map[string]float64{
			ns + "Delivered Route=approval-progress":               2,
			ns + "Delivered Route=approval-completed":              2,
			ns + "Parked Reason=permanent Route=approval-progress": 1,
			ns + "Parked Reason=permanent":                         1,
			ns + "Parked Reason=exhausted Route=approval-progress": 1,
			ns + "Parked Reason=exhausted":                         1,
		}
		// The lines reach the test a moment after the answer: wait for
		// them (or 10 s) before comparing.
		var counts map[string]float64
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			counts = map[string]float64{}
			for _, line := range fn.LogLines(`"_aws"`) {
				data, err := emfcheck.Parse([]byte(line))
				if err != nil {
					t.Fatalf("not EMF: %v: %s", err, line)
				}
				for _, d := range data {
					if d.Name == "Delivered" || d.Name == "Parked" {
						counts[d.Key()] += d.Values[0]
					}
				}
			}
			if maps.Equal(counts, want) || time.Now().After(deadline) {
				break
			}
		}
		if !maps.Equal(counts, want) {
			t.Errorf("EMF counts %v, want %v", counts, want)
		}

		// A second batch on the warm function: all succeed.
		aws.setOutcomes(nil)
		if got := fn.Invoke(t, b.raw); string(got) != `{"batchItemFailures":[]}` {
			t.Errorf("warm invoke: %s", got)
		}
	})

	t.Run("a forged webhook is refused before any execution", func(t *testing.T) {
		t.Parallel()
		aws := newLocalAWS(t, nil)
		fn := lambdarie.StartBootstrap(t, bootstrap, functionEnv(t, aws.URL))
		forged := mixedBatch(t)
		for i, r := range forged.event.Records {
			if *r.MessageAttributes[webhook.AttrWebhookID].StringValue == "wh-c1" {
				bad := strings.Repeat("0", 64)
				forged.event.Records[i].MessageAttributes[webhook.AttrHeaderPrefix+"X-Workflow-Signature"] = events.SQSMessageAttribute{StringValue: &bad, DataType: "String"}
			}
		}
		forged.encode(t)
		if got := fn.Invoke(t, forged.raw); string(got) != `{"batchItemFailures":[]}` {
			t.Errorf("response %s: the forged record is parked, the rest delivered", got)
		}
		for _, r := range aws.received("AWSStepFunctions.StartSyncExecution") {
			if strings.Contains(r.body["input"].(string), `"webhookId":"wh-c1"`) {
				t.Error("an execution started for the forged webhook")
			}
		}
		sends := aws.received("AmazonSQS.SendMessage")
		if len(sends) != 1 || !strings.Contains(fmt.Sprint(sends[0].body["MessageAttributes"]), `"reason":"signature"`) {
			t.Errorf("parked %v; want wh-c1 alone, with reason signature", sends)
		}
		if len(aws.received("AmazonSSM.GetParameter")) != 1 {
			t.Errorf("%d GetParameter calls for one batch, want 1 (the secret is cached)", len(aws.received("AmazonSSM.GetParameter")))
		}
		if len(fn.AwaitLogLines(1, `"Parked":1,"Reason":"signature","Route":"approval-completed"`)) != 1 {
			t.Errorf("no Parked metric for the forgery:\n%s", fn.Logs())
		}
	})

	t.Run("no time left for the routes' worst case", func(t *testing.T) {
		t.Parallel()
		aws := newLocalAWS(t, nil)
		env := functionEnv(t, aws.URL)
		// Below every route's worst-case execution in the example config.
		env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "20"
		fn := lambdarie.StartBootstrap(t, bootstrap, env)
		got := fn.Invoke(t, b.raw)
		var resp events.SQSEventResponse
		if err := json.Unmarshal(got, &resp); err != nil {
			t.Fatalf("answer %s: %v", got, err)
		}
		if len(resp.BatchItemFailures) != len(b.event.Records) {
			t.Errorf("%d failures, want all %d records: %s", len(resp.BatchItemFailures), len(b.event.Records), got)
		}
		if n := len(aws.received("AWSStepFunctions.StartSyncExecution")); n != 0 {
			t.Errorf("%d executions started with no time for them", n)
		}
	})

	t.Run("bad configuration fails the init, visibly", func(t *testing.T) {
		t.Parallel()
		env := functionEnv(t, "http://127.0.0.1:1")
		env[webhook.EnvConfig] = filepath.Join(t.TempDir(), "missing.yaml")
		fn := lambdarie.StartBootstrap(t, bootstrap, env)
		status, body, err := fn.Post(b.raw)
		if err != nil {
			t.Fatal(err)
		}
		if status == http.StatusOK && !strings.Contains(string(body), "errorType") {
			t.Errorf("a function without its config answered %d %s", status, body)
		}
		if len(fn.AwaitLogLines(1, "forward: cannot start")) == 0 {
			t.Errorf("no start-up error in the log:\n%s", fn.Logs())
		}
	})
}
