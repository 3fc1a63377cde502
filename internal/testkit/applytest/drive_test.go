package applytest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/bundle"
	"github.com/webhookq/webhookq/internal/lambda/signature"
	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
	"github.com/webhookq/webhookq/internal/webhook"
)

// delivery is one request the target received.
type delivery struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// target is the application webhooks are delivered to; it answers status.
type target struct {
	*httptest.Server
	status atomic.Int32

	mu       sync.Mutex
	received []delivery
}

func newTarget(t *testing.T) *target {
	tg := &target{}
	tg.status.Store(http.StatusNoContent)
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tg.mu.Lock()
		tg.received = append(tg.received, delivery{r.Method, r.URL.Path, r.Header.Clone(), body})
		tg.mu.Unlock()
		w.WriteHeader(int(tg.status.Load()))
	}))
	t.Cleanup(tg.Close)
	return tg
}

// take returns and forgets what the target received so far.
func (tg *target) take() []delivery {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	out := tg.received
	tg.received = nil
	return out
}

// slackEndpoint is a Slack-compatible incoming webhook recording each post.
type slackEndpoint struct {
	*httptest.Server
	mu    sync.Mutex
	posts []string
}

func newSlack(t *testing.T) *slackEndpoint {
	s := &slackEndpoint{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.posts = append(s.posts, string(body))
		s.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *slackEndpoint) taken() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posts)
}

// driveWebhooks sends webhooks into the applied queue as the API integration
// would and plays the event source mapping: receive a batch, invoke the real
// forward bootstrap (under aws-lambda-rie) with it, delete what it did not
// report as failed. The forwarder runs the applied state machine on moto with
// StartSyncExecution, whose Deliver and Notify tasks reach the real deliver
// and notify bootstraps.
func driveWebhooks(t *testing.T, moto *patchedMoto, p principals, s *staged, out applied, fns map[string]functionInfo,
	tg *target, slack *slackEndpoint, notifications string) {
	t.Helper()
	c := p.operator
	// API Gateway sends with the ingress role; the event source mapping
	// polls with forward's (Lambda's poller uses the function's role).
	ingress := p.as(t, s.Locals.Ingress.RoleName)
	forwardRole := p.as(t, s.Locals.Functions["forward"].RoleName)
	endpoints := map[string]string{
		"AWS_REGION": s.Config.Region, "AWS_DEFAULT_REGION": s.Config.Region,
		"AWS_ENDPOINT_URL_SFN": moto.Endpoint, "AWS_ENDPOINT_URL_SQS": moto.Endpoint,
		"AWS_ENDPOINT_URL_SSM": moto.Endpoint, "AWS_ENDPOINT_URL_SNS": moto.Endpoint,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": moto.Endpoint, "AWS_ENDPOINT_URL_LAMBDA": moto.Endpoint,
		"AWS_ENDPOINT_URL_KMS": moto.Endpoint,
	}
	running := map[string]*lambdarie.Function{}
	for _, name := range config.Functions {
		// The applied zip itself — its linux/arm64 bootstrap under QEMU and
		// its routes.yaml — with the applied function's environment.
		env := map[string]string{}
		for k, v := range fns[name].Env {
			env[k] = v
		}
		for k, v := range endpoints {
			env[k] = v
		}
		// Lambda gives the function its execution role's credentials.
		for k, v := range p.env(t, s.Locals.Functions[name].RoleName) {
			env[k] = v
		}
		running[name] = lambdarie.StartZip(t, s.Files[bundle.ZipPath(name)], env)
	}
	moto.routeInvokes(t, map[string]string{fns["deliver"].ARN: running["deliver"].URL, fns["notify"].ARN: running["notify"].URL})
	// moto's own mapping would invoke inline on SendMessage, without message
	// attributes, receive counts or batch item failures; the launcher turns
	// that off and the test polls in its place (docs/testing.md).
	stopShipping := shipLogs(t, p, s, running)
	defer stopShipping()
	esm := &mappingPlayer{c: forwardRole, queueURL: out.QueueURL, queueARN: out.QueueARN, region: s.Config.Region, batch: s.Locals.Queue.BatchSize, forward: running["forward"]}
	route := "approval-progress"
	var targetPath string
	var maxAttempts int
	for _, r := range s.Config.Routes {
		if r.Name == route {
			targetPath, maxAttempts = strings.TrimPrefix(r.TargetURL, tg.URL), r.Retry.MaxAttempts
		}
	}
	if targetPath == "" {
		t.Fatalf("the example has no route %s targeting %s", route, tg.URL)
	}

	t.Run("delivered", func(t *testing.T) {
		body := []byte("{\"request\":\"req-42\",\"step\":\"manager\",\"note\":\"承認 ✓\",  \"amount\": 1.50}\n")
		id, carried := sendWebhook(t, ingress, out.QueueURL, route, "req-42", "dlv-1", body)
		if n, failed := esm.poll(t); n != 1 || len(failed) != 0 {
			t.Fatalf("forward took %d records and failed %v; want 1 delivered", n, failed)
		}
		got := tg.take()
		if len(got) != 1 {
			t.Fatalf("target received %d requests, want 1", len(got))
		}
		checkDelivery(t, got[0], id, targetPath, body, carried, s.Config.Target.Headers)
		if n := queueDepth(t, c, out.QueueURL); n != 0 {
			t.Errorf("%d messages left in the queue after delivery", n)
		}
	})

	// retry_window: 0s (testConfig) makes the first execution final.
	t.Run("parked in the DLQ after its final execution, notified once", func(t *testing.T) {
		tg.status.Store(http.StatusInternalServerError)
		body := []byte(`{"request":"req-43","step":"director"}`)
		id, carried := sendWebhook(t, ingress, out.QueueURL, route, "req-43", "dlv-2", body)
		receives := 0
		for range 3 {
			n, failed := esm.poll(t)
			if n == 0 {
				break
			}
			receives++
			if len(failed) != 0 {
				t.Errorf("receive %d: forward reported failures %v, want the record parked", receives, failed)
			}
		}
		if receives != 1 {
			t.Errorf("the message was received %d times, want once (its one execution is final)", receives)
		}
		attempts := tg.take()
		if want := receives * maxAttempts; len(attempts) != want {
			t.Errorf("target saw %d attempts, want %d receives × %d attempts", len(attempts), receives, maxAttempts)
		}
		for _, a := range attempts {
			checkDelivery(t, a, id, targetPath, body, carried, s.Config.Target.Headers)
		}
		if n := queueDepth(t, c, out.QueueURL); n != 0 {
			t.Errorf("%d messages left in the queue", n)
		}
		parked := receiveAll(t, c, out.DLQURL)
		if len(parked) != 1 || aws.ToString(parked[0].Body) != string(body) ||
			aws.ToString(parked[0].MessageAttributes[webhook.AttrWebhookID].StringValue) != id {
			t.Fatalf("DLQ holds %d messages %v; want the webhook %s with its body", len(parked), parked, id)
		}
		// The forwarder parked it (WEBHOOKQ_DLQ_URL), not SQS's redrive
		// policy: the failure it records is on the message.
		var failure webhook.Failure
		if a, ok := parked[0].MessageAttributes[webhook.AttrFailure]; !ok ||
			json.Unmarshal([]byte(aws.ToString(a.StringValue)), &failure) != nil ||
			failure.Error != webhook.ErrRetryable || failure.Reason != webhook.ReasonExhausted || failure.ReceiveCount != 1 {
			t.Errorf("parked message's %s attribute %v: want the forwarder's record of an exhausted %s failure on receive 1",
				webhook.AttrFailure, aws.ToString(parked[0].MessageAttributes[webhook.AttrFailure].StringValue), webhook.ErrRetryable)
		}
		// One notification per channel: SNS (read from the subscribed queue)
		// and Slack, both naming the webhook.
		notes := receiveAll(t, c, notifications)
		if len(notes) != 1 || !strings.Contains(aws.ToString(notes[0].Body), id) {
			t.Errorf("SNS delivered %d notifications %v; want one naming %s", len(notes), notes, id)
		}
		if posts := slack.taken(); len(posts) != 1 || !strings.Contains(posts[0], id) {
			t.Errorf("Slack got %d posts %v; want one naming %s", len(posts), posts, id)
		}
	})

	t.Run("a permission taken away breaks the pipeline", func(t *testing.T) {
		// IAM is enforced, not only written down: without its
		// StartRouteWorkflows statement forward is refused
		// StartSyncExecution, the webhook stays queued and reaches nobody;
		// with it back, it is delivered.
		tg.status.Store(http.StatusNoContent)
		restore := withoutStatement(t, c, s.Locals.Functions["forward"].RoleName, "forward-permissions", "StartRouteWorkflows")
		body := []byte(`{"request":"req-44","step":"finance"}`)
		sendWebhook(t, ingress, out.QueueURL, route, "req-44", "dlv-3", body)
		n, failed := esm.poll(t)
		restore()
		if n != 1 || len(failed) != 1 {
			t.Fatalf("forward took %d records and failed %v; want the record failed", n, failed)
		}
		if got := tg.take(); len(got) != 0 {
			t.Errorf("target received %d requests while forward may not start executions", len(got))
		}
		// moto answers the JSON protocol's refusal in XML, so the SDK sees
		// only the status (AWS's AccessDeniedException is a 400; moto's 403).
		refused := false
		for _, line := range running["forward"].LogLines("StartSyncExecution failed") {
			refused = refused || (strings.Contains(line, "applytest-dlv-3") && strings.Contains(line, "StatusCode: 403"))
		}
		if !refused {
			t.Errorf("forward logged no refused StartSyncExecution for the webhook:\n%s", running["forward"].Logs())
		}
		if n, failed := esm.poll(t); n != 1 || len(failed) != 0 {
			t.Fatalf("with the statement back, forward took %d records and failed %v; want 1 delivered", n, failed)
		}
		if got := tg.take(); len(got) != 1 {
			t.Errorf("target received %d requests, want the webhook once", len(got))
		}
	})

	postDeployCheck(t, p, s, out, esm, tg)
}

// sendWebhook sends what API Gateway's SQS-SendMessage integration sends for
// a POST on the route (terraform/ingress.tf): the raw body, the group and
// dedup id from the request headers, the request id as webhook id, the route,
// the request time and the carried headers as h-<name> attributes.
func sendWebhook(t *testing.T, c clients, queueURL, route, request, deliveryID string, body []byte) (id string, carried map[string]string) {
	t.Helper()
	id = "applytest-" + deliveryID
	mac := hmac.New(sha256.New, []byte(workflowSecret))
	mac.Write(body)
	carried = map[string]string{
		"X-Event-Type":          "approval.step",
		"X-Delivery-Id":         deliveryID,
		"X-Approval-Request-Id": request,
		"X-Workflow-Signature":  hex.EncodeToString(mac.Sum(nil)),
	}
	attrs := map[string]sqstypes.MessageAttributeValue{
		webhook.AttrWebhookID:  {DataType: aws.String("String"), StringValue: aws.String(id)},
		webhook.AttrRoute:      {DataType: aws.String("String"), StringValue: aws.String(route)},
		webhook.AttrReceivedAt: {DataType: aws.String("Number"), StringValue: aws.String(strconv.FormatInt(time.Now().UnixMilli(), 10))},
	}
	for name, v := range carried {
		attrs[webhook.AttrHeaderPrefix+name] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	_, err := c.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl:               aws.String(queueURL),
		MessageBody:            aws.String(string(body)),
		MessageGroupId:         aws.String(request),
		MessageDeduplicationId: aws.String(deliveryID),
		MessageAttributes:      attrs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, carried
}

// checkDelivery checks one request at the target: the route's path, the body
// byte for byte, the webhook id, the carried and static headers, and the
// outbound Standard Webhooks signature.
func checkDelivery(t *testing.T, d delivery, id, path string, body []byte, carried, static map[string]string) {
	t.Helper()
	if d.Method != http.MethodPost || d.Path != path {
		t.Errorf("target got %s %s, want POST %s", d.Method, d.Path, path)
	}
	if !bytes.Equal(d.Body, body) {
		t.Errorf("target got body %q, want %q byte for byte", d.Body, body)
	}
	want := map[string]string{webhook.HeaderWebhookID: id, webhook.HeaderIdempotencyKey: id}
	for _, m := range []map[string]string{carried, static} {
		for k, v := range m {
			want[k] = v
		}
	}
	for k, v := range want {
		if got := d.Header.Get(k); got != v {
			t.Errorf("target header %s = %q, want %q", k, got, v)
		}
	}
	key, err := signature.SigningKey(outboundSecret)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := strconv.ParseInt(d.Header.Get(webhook.HeaderTimestamp), 10, 64)
	if err != nil {
		t.Errorf("target header %s = %q", webhook.HeaderTimestamp, d.Header.Get(webhook.HeaderTimestamp))
	}
	if got, want := d.Header.Get(webhook.HeaderSignature), signature.Sign(key, id, time.Unix(ts, 0), body); got != want {
		t.Errorf("target header %s = %q, want %q", webhook.HeaderSignature, got, want)
	}
}

// mappingPlayer does what Lambda's SQS event source mapping does for one
// batch: receive (with every attribute), invoke forward with the SQS event,
// delete the records not reported in batchItemFailures.
type mappingPlayer struct {
	c                          clients
	queueURL, queueARN, region string
	batch                      int32
	forward                    *lambdarie.Function
	// idle counts the background loop's rounds that found the mapping not
	// enabled (and so polled nothing).
	idle atomic.Int64
}

// awaitIdle waits until the background loop has found the mapping disabled
// and stopped polling: a batch it took before can no longer be in flight.
func (p *mappingPlayer) awaitIdle(t *testing.T) {
	t.Helper()
	from := p.idle.Load()
	for deadline := time.Now().Add(30 * time.Second); p.idle.Load() < from+2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the mapping player still polls a disabled mapping")
		}
	}
}

// poll runs one batch and returns how many records it held and which failed.
func (p *mappingPlayer) poll(t *testing.T) (records int, failed []string) {
	t.Helper()
	records, failed, err := p.batchOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return records, failed
}

// batchOnce receives one batch, invokes forward with it and deletes the
// records forward did not report as failed.
func (p *mappingPlayer) batchOnce(ctx context.Context) (records int, failed []string, err error) {
	got, err := p.c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(p.queueURL), MaxNumberOfMessages: p.batch, WaitTimeSeconds: 1,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return 0, nil, err
	}
	if len(got.Messages) == 0 {
		return 0, nil, nil
	}
	var event events.SQSEvent
	for _, m := range got.Messages {
		rec := events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes: m.Attributes, MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource: "aws:sqs", EventSourceARN: p.queueARN, AWSRegion: p.region,
		}
		for name, a := range m.MessageAttributes {
			rec.MessageAttributes[name] = events.SQSMessageAttribute{
				StringValue: a.StringValue, BinaryValue: a.BinaryValue, DataType: aws.ToString(a.DataType),
				StringListValues: []string{}, BinaryListValues: [][]byte{},
			}
		}
		event.Records = append(event.Records, rec)
	}
	raw, err := json.Marshal(event)
	if err != nil {
		return 0, nil, err
	}
	status, answer, err := p.forward.Post(raw)
	if err != nil || status != http.StatusOK {
		return 0, nil, fmt.Errorf("invoke forward: %d %s %v", status, answer, err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(answer, &resp); err != nil {
		return 0, nil, fmt.Errorf("forward answered %s: %w", answer, err)
	}
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	for _, m := range got.Messages {
		if slices.Contains(failed, aws.ToString(m.MessageId)) {
			continue
		}
		if _, err := p.c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(p.queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			return 0, nil, err
		}
	}
	return len(got.Messages), failed, nil
}

// run polls in the background the way Lambda's poller does, only while the
// mapping is enabled, until stop.
func (p *mappingPlayer) run(t *testing.T, mappings clients, uuid string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			m, err := mappings.lambda.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
			if err == nil && aws.ToString(m.State) == "Enabled" {
				_, _, err = p.batchOnce(ctx)
			} else if err == nil {
				p.idle.Add(1)
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil && ctx.Err() == nil {
				t.Errorf("the mapping player: %v", err)
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// queueDepth is how many messages a queue holds, visible or in flight.
func queueDepth(t *testing.T, c clients, queueURL string) int {
	t.Helper()
	a := queueAttributes(t, c, queueURL)
	visible, _ := strconv.Atoi(a["ApproximateNumberOfMessages"])
	inFlight, _ := strconv.Atoi(a["ApproximateNumberOfMessagesNotVisible"])
	return visible + inFlight
}

// receiveAll reads every message of a queue (leaving them in flight).
func receiveAll(t *testing.T, c clients, queueURL string) []sqstypes.Message {
	t.Helper()
	var out []sqstypes.Message
	for {
		got, err := c.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Messages) == 0 {
			return out
		}
		out = append(out, got.Messages...)
	}
}
