package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/webhook"
)

// bundle is one test's queues on a shared SQS endpoint.
type bundle struct {
	client *sqs.Client
	source string
	dlq    string
	tool   *Tool
}

var queueSeq atomic.Int64

// newBundle creates a FIFO source queue and its FIFO DLQ, as the Terraform
// module does, on the endpoint.
func newBundle(t *testing.T, client *sqs.Client) *bundle {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("rd%d-%d", time.Now().UnixNano()%1e6, queueSeq.Add(1))
	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq.fifo"), Attributes: map[string]string{
		"FifoQueue": "true", "ContentBasedDeduplication": "true",
	}})
	if err != nil {
		t.Fatal(err)
	}
	dlqAttrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqAttrs.Attributes["QueueArn"], "maxReceiveCount": 1})
	src, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + ".fifo"), Attributes: map[string]string{
		"FifoQueue": "true", "ContentBasedDeduplication": "true", "RedrivePolicy": string(redrive), "VisibilityTimeout": "1",
	}})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{client: client, source: *src.QueueUrl, dlq: *dlq.QueueUrl}
	b.tool = &Tool{SQS: client, SourceURL: b.source, DLQURL: b.dlq, Hold: 5 * time.Second, EmptyReceives: 2}
	return b
}

// park puts a message in the DLQ as the forwarder parks one: same group, the
// ingress attributes, and the failure record.
func (b *bundle) park(t *testing.T, group, id, route, body string) {
	t.Helper()
	b.parkFor(t, webhook.ReasonExhausted, group, id, route, body)
}

// parkFor parks a message with the given park reason.
func (b *bundle) parkFor(t *testing.T, reason webhook.Reason, group, id, route, body string) {
	t.Helper()
	// The cause as the workflow's Fail state passes it on: the Lambda error payload.
	failure, _ := json.Marshal(webhook.Failure{Reason: reason, Error: webhook.ErrRetryable, Cause: `{"errorMessage":"attempt 5/5: target answered 503","errorType":"Webhook.Retryable"}`,
		FirstAttemptAt: "2026-11-28T09:00:00Z", FailedAt: "2026-11-28T09:05:00Z", ReceiveCount: 5})
	_, err := b.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(b.dlq), MessageBody: aws.String(body), MessageGroupId: aws.String(group),
		MessageDeduplicationId: aws.String(id),
		MessageAttributes: map[string]types.MessageAttributeValue{
			webhook.AttrWebhookID:  strAttr(id),
			webhook.AttrRoute:      strAttr(route),
			webhook.AttrReceivedAt: strAttr("2026-11-28T08:59:59Z"),
			webhook.AttrFailure:    strAttr(string(failure)),
			"h-X-Event-Type":       strAttr("approval.progress"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func strAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// drain receives and deletes everything in a queue, returning it in order.
func drain(t *testing.T, client *sqs.Client, url string) []types.Message {
	t.Helper()
	var all []types.Message
	for empties := 0; empties < 2; {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			empties++
			continue
		}
		for _, m := range out.Messages {
			all = append(all, m)
			if _, err := client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return all
}

func webhookIDs(msgs []types.Message) []string {
	var ids []string
	for _, m := range msgs {
		ids = append(ids, aws.ToString(m.MessageAttributes[webhook.AttrWebhookID].StringValue))
	}
	return ids
}

func messageIDs(msgs []Message) []string {
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.WebhookID)
	}
	return ids
}

// failingDeletes wraps the real client and fails the first n DeleteMessage
// calls, as if the tool were interrupted between a send and its delete.
type failingDeletes struct {
	SQS
	left atomic.Int32
}

func (f *failingDeletes) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	if f.left.Add(-1) >= 0 {
		return nil, errors.New("connection reset (injected)")
	}
	return f.SQS.DeleteMessage(ctx, in, opts...)
}

func TestAgainstMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	client := sqs.NewFromConfig(testenv.AWSConfig(endpoint, "us-east-1"))
	ctx := context.Background()

	t.Run("list shows what the forwarder recorded and filters", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		b.park(t, "req-1", "wh-1", "approval-progress", `{"n":1}`)
		b.park(t, "req-1", "wh-2", "approval-progress", `{"n":2}`)
		b.park(t, "acct-9", "wh-3", "approval-completed", `{"n":3}`)
		scan, err := b.tool.List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if got := messageIDs(scan.Messages); !slices.Equal(got, []string{"wh-1", "wh-2", "wh-3"}) {
			t.Fatalf("listed %v", got)
		}
		m := scan.Messages[0]
		if m.Route != "approval-progress" || m.Group != "req-1" || m.Error != webhook.ErrRetryable || m.ReceiveCount != 5 || m.Reason != webhook.ReasonExhausted ||
			m.Cause != "attempt 5/5: target answered 503" ||
			m.FirstFailureAt.Format(time.RFC3339) != "2026-11-28T09:00:00Z" || m.LastFailureAt.Format(time.RFC3339) != "2026-11-28T09:05:00Z" {
			t.Fatalf("first message parsed as %+v", m)
		}
		scan, err = b.tool.List(ctx, Filter{Routes: []string{"approval-completed"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := messageIDs(scan.Messages); !slices.Equal(got, []string{"wh-3"}) {
			t.Fatalf("route filter listed %v", got)
		}
		// Listing moved nothing and released everything at once.
		if left := drain(t, client, b.dlq); len(left) != 3 {
			t.Fatalf("after listing the DLQ holds %d messages, want 3", len(left))
		}
	})

	t.Run("selective redrive keeps group order and identity", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		for i := 1; i <= 4; i++ {
			b.park(t, "req-1", "a"+strconv.Itoa(i), "approval-progress", fmt.Sprintf(`{"seq":%d}`, i))
		}
		b.park(t, "req-2", "b1", "approval-progress", `{"seq":1}`)
		scan, err := b.tool.Move(ctx, Filter{Groups: []string{"req-1"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := messageIDs(scan.Messages); !slices.Equal(got, []string{"a1", "a2", "a3", "a4"}) {
			t.Fatalf("moved %v", got)
		}
		moved := drain(t, client, b.source)
		if got := webhookIDs(moved); !slices.Equal(got, []string{"a1", "a2", "a3", "a4"}) {
			t.Fatalf("source queue holds %v, want a1..a4 in order", got)
		}
		for i, m := range moved {
			if g := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; g != "req-1" {
				t.Errorf("message %d group %q", i, g)
			}
			if _, ok := m.MessageAttributes[webhook.AttrFailure]; ok {
				t.Errorf("message %d still carries the failure record", i)
			}
			if rc := aws.ToString(m.MessageAttributes[webhook.AttrRedriveCount].StringValue); rc != "1" {
				t.Errorf("message %d redrive count %q, want 1", i, rc)
			}
			if ev := aws.ToString(m.MessageAttributes["h-X-Event-Type"].StringValue); ev != "approval.progress" {
				t.Errorf("message %d lost its carried header: %q", i, ev)
			}
			if want := fmt.Sprintf(`{"seq":%d}`, i+1); aws.ToString(m.Body) != want {
				t.Errorf("message %d body %q, want %q", i, aws.ToString(m.Body), want)
			}
		}
		if left := webhookIDs(drain(t, client, b.dlq)); !slices.Equal(left, []string{"b1"}) {
			t.Fatalf("DLQ keeps %v, want [b1]", left)
		}
	})

	t.Run("a selected message behind an unselected one stays", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		b.park(t, "g", "first", "r", "1")
		b.park(t, "g", "second", "r", "2")
		scan, err := b.tool.Move(ctx, Filter{WebhookIDs: []string{"second"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(scan.Messages) != 0 || scan.SkippedFor(SkipBehind) != 1 {
			t.Fatalf("moved %v, skipped %v; want nothing moved, 1 behind", messageIDs(scan.Messages), scan.Skipped)
		}
		if left := webhookIDs(drain(t, client, b.dlq)); !slices.Equal(left, []string{"first", "second"}) {
			t.Fatalf("DLQ keeps %v", left)
		}
	})

	t.Run("dry run moves nothing", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		b.park(t, "g1", "x1", "r", "1")
		b.park(t, "g2", "x2", "r", "2")
		scan, err := b.tool.DryRun(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if got := messageIDs(scan.Messages); !slices.Equal(got, []string{"x1", "x2"}) {
			t.Fatalf("dry run would move %v", got)
		}
		if n := len(drain(t, client, b.source)); n != 0 {
			t.Fatalf("dry run put %d messages in the source queue", n)
		}
		if n := len(drain(t, client, b.dlq)); n != 2 {
			t.Fatalf("DLQ holds %d after a dry run, want 2", n)
		}
	})

	t.Run("interrupted between send and delete loses and duplicates nothing", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		b.park(t, "g", "only", "r", "payload")
		flaky := &failingDeletes{SQS: client}
		flaky.left.Store(1)
		interrupted := *b.tool
		interrupted.SQS = flaky
		if _, err := interrupted.Move(ctx, Filter{}); err == nil || !strings.Contains(err.Error(), "deduplicated") {
			t.Fatalf("interrupted move: err = %v, want the delete failure", err)
		}
		// The copy is in the source queue and the original still in the DLQ:
		// nothing lost. The rerun sends the same deduplication id again.
		if _, err := b.tool.Move(ctx, Filter{}); err != nil {
			t.Fatal(err)
		}
		if got := webhookIDs(drain(t, client, b.source)); !slices.Equal(got, []string{"only"}) {
			t.Fatalf("source queue holds %v, want exactly one copy", got)
		}
		if n := len(drain(t, client, b.dlq)); n != 0 {
			t.Fatalf("DLQ still holds %d", n)
		}
	})

	t.Run("purge removes only the selection", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		b.park(t, "g1", "keep", "r1", "1")
		b.park(t, "g2", "drop", "r2", "2")
		scan, err := b.tool.Purge(ctx, Filter{Routes: []string{"r2"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := messageIDs(scan.Messages); !slices.Equal(got, []string{"drop"}) {
			t.Fatalf("purged %v", got)
		}
		if got := webhookIDs(drain(t, client, b.dlq)); !slices.Equal(got, []string{"keep"}) {
			t.Fatalf("DLQ keeps %v", got)
		}
		if n := len(drain(t, client, b.source)); n != 0 {
			t.Fatalf("purge sent %d messages to the source queue", n)
		}
	})

	t.Run("list and purge by reason", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		b.park(t, "g1", "real", "r", "1")
		b.parkFor(t, webhook.ReasonSignature, "g2", "forged-1", "r", "2")
		b.parkFor(t, webhook.ReasonSignature, "g3", "forged-2", "r", "3")
		b.parkFor(t, webhook.ReasonPermanent, "g4", "refused", "r", "4")
		scan, err := b.tool.List(ctx, Filter{Reasons: []webhook.Reason{webhook.ReasonSignature, webhook.ReasonPermanent}})
		if err != nil {
			t.Fatal(err)
		}
		if got := messageIDs(scan.Messages); !slices.Equal(got, []string{"forged-1", "forged-2", "refused"}) {
			t.Fatalf("listed %v by reason", got)
		}
		scan, err = b.tool.Purge(ctx, Filter{Reasons: []webhook.Reason{webhook.ReasonSignature}})
		if err != nil {
			t.Fatal(err)
		}
		if got := messageIDs(scan.Messages); !slices.Equal(got, []string{"forged-1", "forged-2"}) {
			t.Fatalf("purged %v by reason signature", got)
		}
		if got := webhookIDs(drain(t, client, b.dlq)); !slices.Equal(got, []string{"real", "refused"}) {
			t.Fatalf("DLQ keeps %v", got)
		}
	})

	t.Run("messages SQS moved on its own and garbage attributes are listed and movable", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		// A message moved by SQS's redrive policy after one receive: no
		// failure record, only what SQS keeps.
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(b.source), MessageBody: aws.String("plain"), MessageGroupId: aws.String("g")}); err != nil {
			t.Fatal(err)
		}
		if out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(b.source), WaitTimeSeconds: 1}); err != nil || len(out.Messages) != 1 {
			t.Fatalf("receive from source: %v, %d messages", err, len(out.Messages))
		}
		time.Sleep(1500 * time.Millisecond) // visibility 1 s: the next receive moves it
		if out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(b.source), WaitTimeSeconds: 1}); err != nil || len(out.Messages) != 0 {
			t.Fatalf("second receive from source: %v, %d messages (want 0: moved to the DLQ)", err, len(out.Messages))
		}
		// Garbage: malformed attributes of every kind webhookq reads.
		_, err := client.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(b.dlq), MessageBody: aws.String("\x7f garbage {"), MessageGroupId: aws.String("g2"), MessageDeduplicationId: aws.String("junk"),
			MessageAttributes: map[string]types.MessageAttributeValue{
				webhook.AttrFailure:      strAttr("{not json"),
				webhook.AttrRedriveCount: strAttr("-7"),
				webhook.AttrReceivedAt:   strAttr("yesterday"),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		scan, err := b.tool.List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(scan.Messages) != 2 {
			t.Fatalf("listed %d messages, want 2", len(scan.Messages))
		}
		junk := scan.Messages[1]
		if len(junk.Problems) != 4 {
			t.Fatalf("garbage message problems %q, want 4 (webhook id, redrive count, received-at, failure)", junk.Problems)
		}
		if scan.Messages[0].ReceiveCount < 1 || scan.Messages[0].FirstFailureAt.IsZero() {
			t.Fatalf("SQS-moved message: %+v, want SQS's receive count and timestamps", scan.Messages[0])
		}
		if _, err := b.tool.Move(ctx, Filter{}); err != nil {
			t.Fatal(err)
		}
		if n := len(drain(t, client, b.source)); n != 2 {
			t.Fatalf("source queue holds %d after the move, want 2", n)
		}
	})

	t.Run("empty DLQ", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		if _, err := b.tool.List(ctx, Filter{}); !errors.Is(err, ErrEmptyDLQ) {
			t.Fatalf("err = %v, want ErrEmptyDLQ", err)
		}
	})

	t.Run("move task unsupported by moto is recognised", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, client)
		b.park(t, "g", "m1", "r", "1")
		_, err := b.tool.MoveAll(ctx, 10, 100*time.Millisecond)
		if !errors.Is(err, ErrMoveTaskUnsupported) {
			t.Fatalf("MoveAll on moto: err = %v, want ErrMoveTaskUnsupported", err)
		}
	})
}

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	m := Message{MessageID: "m1", Route: "r1", Group: "g1", WebhookID: "w1", Reason: webhook.ReasonSignature, ReceivedAt: at("2026-11-28T10:00:00Z")}
	for _, tc := range []struct {
		name string
		f    Filter
		want bool
	}{
		{"empty", Filter{}, true},
		{"route", Filter{Routes: []string{"r2", "r1"}}, true},
		{"other route", Filter{Routes: []string{"r2"}}, false},
		{"group and id", Filter{Groups: []string{"g1"}, WebhookIDs: []string{"w1"}}, true},
		{"group but other id", Filter{Groups: []string{"g1"}, WebhookIDs: []string{"w2"}}, false},
		{"message id", Filter{MessageIDs: []string{"m1"}}, true},
		{"reason", Filter{Reasons: []webhook.Reason{webhook.ReasonPermanent, webhook.ReasonSignature}}, true},
		{"other reason", Filter{Reasons: []webhook.Reason{webhook.ReasonExhausted}}, false},
		{"reason, none recorded", Filter{Reasons: []webhook.Reason{webhook.ReasonExhausted}}, false},
		{"since inclusive", Filter{Since: at("2026-11-28T10:00:00Z")}, true},
		{"since later", Filter{Since: at("2026-11-28T10:00:01Z")}, false},
		{"until exclusive", Filter{Until: at("2026-11-28T10:00:00Z")}, false},
		{"window", Filter{Since: at("2026-11-28T09:00:00Z"), Until: at("2026-11-28T11:00:00Z")}, true},
		{"time filter, unknown time", Filter{Since: at("2026-11-28T09:00:00Z")}, false},
	} {
		msg := m
		switch tc.name {
		case "time filter, unknown time":
			msg.ReceivedAt = time.Time{}
		case "reason, none recorded":
			msg.Reason = ""
		}
		if got := tc.f.Match(msg); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzParseMessage: whatever attributes a DLQ message carries, parsing never
// panics and the message stays movable (its body and group are kept).
func FuzzParseMessage(f *testing.F) {
	f.Add("wh-1", "approval", `{"error":"Webhook.Retryable","failedAt":"2026-11-28T09:05:00Z","receiveCount":5}`, "2", "1764320399000", "5", "g", "body")
	f.Add("", "", "{", "x", "yesterday", "-1", "", "\xff")
	f.Fuzz(func(t *testing.T, id, route, failure, redrives, received, receives, group, body string) {
		raw := types.Message{
			MessageId: aws.String("m"), ReceiptHandle: aws.String("r"), Body: aws.String(body),
			Attributes: map[string]string{"MessageGroupId": group, "ApproximateReceiveCount": receives, "SentTimestamp": received},
			MessageAttributes: map[string]types.MessageAttributeValue{
				webhook.AttrWebhookID: strAttr(id), webhook.AttrRoute: strAttr(route), webhook.AttrFailure: strAttr(failure),
				webhook.AttrRedriveCount: strAttr(redrives), webhook.AttrReceivedAt: strAttr(received),
			},
		}
		m := ParseMessage(raw)
		if m.Body != body || m.Group != group || m.WebhookID != id {
			t.Fatalf("parse lost identity: %+v", m)
		}
		in := redriveInput("https://q", m)
		if len(*in.MessageDeduplicationId) > 128 || *in.MessageGroupId == "" {
			t.Fatalf("redrive input invalid: %+v", in)
		}
	})
}
