package forwarder_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/webhook"
)

const motoRegion = "us-east-1"

// fifoQueue is a FIFO queue on moto, read the way the event source mapping
// reads it.
type fifoQueue struct {
	client *sqs.Client
	url    string
	arn    string
}

func newFIFOQueue(t *testing.T) *fifoQueue {
	t.Helper()
	return createFIFOQueue(t, sqs.NewFromConfig(testenv.AWSConfig(testenv.Moto(t), motoRegion)), "forwarder-test.fifo")
}

func createFIFOQueue(t *testing.T, client *sqs.Client, name string) *fifoQueue {
	t.Helper()
	ctx := context.Background()
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name),
		Attributes: map[string]string{
			"FifoQueue":                 "true",
			"ContentBasedDeduplication": "true",
			"VisibilityTimeout":         "600", // the queue's long timeout: only ChangeMessageVisibility brings messages back sooner
		},
	})
	if err != nil {
		t.Fatalf("CreateQueue on moto: %v", err)
	}
	return &fifoQueue{client: client, url: aws.ToString(out.QueueUrl), arn: "arn:aws:sqs:" + motoRegion + ":123456789012:" + name}
}

func (q *fifoQueue) send(t *testing.T, id, group string) {
	t.Helper()
	_, err := q.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl:       aws.String(q.url),
		MessageBody:    aws.String(`{"id":"` + id + `"}`),
		MessageGroupId: aws.String(group),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			webhook.AttrWebhookID: {DataType: aws.String("String"), StringValue: aws.String("wh-" + id)},
			webhook.AttrRoute:     {DataType: aws.String("String"), StringValue: aws.String("approval-progress")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// receive takes what SQS hands out now, as SQS event records.
func (q *fifoQueue) receive(t *testing.T) []events.SQSMessage {
	t.Helper()
	out, err := q.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.url),
		MaxNumberOfMessages:         10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var records []events.SQSMessage
	for _, m := range out.Messages {
		attrs := map[string]events.SQSMessageAttribute{}
		for k, v := range m.MessageAttributes {
			attrs[k] = events.SQSMessageAttribute{StringValue: v.StringValue, DataType: aws.ToString(v.DataType)}
		}
		records = append(records, events.SQSMessage{
			MessageId:         aws.ToString(m.MessageId),
			ReceiptHandle:     aws.ToString(m.ReceiptHandle),
			Body:              aws.ToString(m.Body),
			Attributes:        m.Attributes,
			MessageAttributes: attrs,
			EventSourceARN:    q.arn,
			EventSource:       "aws:sqs",
			AWSRegion:         motoRegion,
		})
	}
	return records
}

// deleteSucceeded deletes what the response did not report, as the event
// source mapping does.
func (q *fifoQueue) deleteSucceeded(t *testing.T, records []events.SQSMessage, resp events.SQSEventResponse) {
	t.Helper()
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, r := range records {
		if failed[r.MessageId] {
			continue
		}
		if _, err := q.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(r.ReceiptHandle)}); err != nil {
			t.Fatal(err)
		}
	}
}

func webhookIDs(records []events.SQSMessage) []string {
	var ids []string
	for _, r := range records {
		ids = append(ids, *r.MessageAttributes[webhook.AttrWebhookID].StringValue)
	}
	return ids
}

// TestRedeliveryOnMotoFIFO runs the forwarder with the real SQS client on
// moto's FIFO queue, playing the event source mapping: a failed head comes
// back after the backoff delay, its blocked follower (made visible at once)
// does not overtake it, another group is unaffected, and a redelivered
// message carries the next receive count.
func TestRedeliveryOnMotoFIFO(t *testing.T) {
	t.Parallel()
	q := newFIFOQueue(t)
	for _, m := range [][2]string{{"a1", "A"}, {"a2", "A"}, {"b1", "B"}} {
		q.send(t, m[0], m[1])
	}

	const delay = 3 * time.Second
	starter := &fakeStarter{t: t, results: map[string]result{"wh-a1": {status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrRetryable}}}
	cfg := testConfig()
	cfg.Queue.RedeliveryDelay, cfg.Queue.MaxRedeliveryDelay = delay, time.Minute
	fwd, err := forwarder.New(&forwarder.Config{
		Routes: cfg, StateMachineARNPrefix: arnPrefix, QueueURL: q.url,
		Starter: starter, Queue: q.client, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}

	batch := q.receive(t)
	if got := webhookIDs(batch); !slices.Equal(got, []string{"wh-a1", "wh-a2", "wh-b1"}) {
		t.Fatalf("first receive %v", got)
	}
	resp, _ := fwd.Handle(context.Background(), events.SQSEvent{Records: batch})
	q.deleteSucceeded(t, batch, resp)
	if len(resp.BatchItemFailures) != 2 {
		t.Fatalf("failures %v, want a1 and a2", resp.BatchItemFailures)
	}
	firstHandled := time.Now()

	// a2 is visible (0 s) but a1 is in flight: the group is locked.
	if got := q.receive(t); len(got) != 0 {
		t.Fatalf("while the head is in flight SQS handed out %v", webhookIDs(got))
	}

	var again []events.SQSMessage
	for time.Since(firstHandled) < delay+10*time.Second {
		if again = q.receive(t); len(again) > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if waited := time.Since(firstHandled); waited < delay-500*time.Millisecond {
		t.Errorf("redelivered after %s, before the %s backoff", waited, delay)
	}
	if got := webhookIDs(again); !slices.Equal(got, []string{"wh-a1", "wh-a2"}) {
		t.Fatalf("redelivery %v, want a1 then a2", got)
	}
	if rc := again[0].Attributes["ApproximateReceiveCount"]; rc != "2" {
		t.Errorf("redelivered head's receive count %s, want 2", rc)
	}

	starter.results = nil
	resp, _ = fwd.Handle(context.Background(), events.SQSEvent{Records: again})
	q.deleteSucceeded(t, again, resp)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("second round failures %v", resp.BatchItemFailures)
	}
	if got, want := starter.started(), []string{"wh-a1", "wh-b1", "wh-a1", "wh-a2"}; !sameMultiset(got, want) {
		t.Errorf("executions %v, want %v", got, want)
	}
	if c, _ := starter.call("wh-a2"); c.envelope.ReceiveCount != 2 || c.name != forwarder.ExecutionName(c.envelope.MessageID, 2) {
		t.Errorf("a2's execution: receive %d, name %q", c.envelope.ReceiveCount, c.name)
	}
	if left := q.receive(t); len(left) != 0 {
		t.Errorf("queue not empty: %v", webhookIDs(left))
	}
}

// TestParkingOnMotoFIFO: after its final execution a failed message is parked in
// a real FIFO DLQ with its body, group and attributes plus the failure, the
// event source mapping deletes it, and its group goes on in the same batch.
func TestParkingOnMotoFIFO(t *testing.T) {
	t.Parallel()
	q := newFIFOQueue(t)
	dlq := createFIFOQueue(t, q.client, "forwarder-test-dlq.fifo")
	q.send(t, "a1", "A")
	q.send(t, "a2", "A")

	starter := &fakeStarter{t: t, results: map[string]result{"wh-a1": {status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrRetryable, cause: "attempt 3/3: target answered 503"}}}
	cfg := testConfig()
	cfg.Queue.RetryWindow = 0 // the first execution is the final one
	fwd, err := forwarder.New(&forwarder.Config{
		Routes: cfg, StateMachineARNPrefix: arnPrefix, QueueURL: q.url, DLQURL: dlq.url,
		Starter: starter, Queue: q.client, DeadLetters: q.client, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	batch := q.receive(t)
	resp, _ := fwd.Handle(context.Background(), events.SQSEvent{Records: batch})
	q.deleteSucceeded(t, batch, resp)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures %v, want none (a1 parked, a2 delivered)", resp.BatchItemFailures)
	}
	if got := starter.started(); !slices.Equal(got, []string{"wh-a1", "wh-a2"}) {
		t.Errorf("started %v, want a1 then a2", got)
	}
	if left := q.receive(t); len(left) != 0 {
		t.Errorf("source queue still holds %v", webhookIDs(left))
	}

	parked := dlq.receive(t)
	if got := webhookIDs(parked); !slices.Equal(got, []string{"wh-a1"}) {
		t.Fatalf("DLQ holds %v, want a1", got)
	}
	m := parked[0]
	if m.Body != batch[0].Body || m.Attributes["MessageGroupId"] != "A" || *m.MessageAttributes[webhook.AttrRoute].StringValue != "approval-progress" {
		t.Errorf("parked copy: body %q group %q attributes %v", m.Body, m.Attributes["MessageGroupId"], m.MessageAttributes)
	}
	var f webhook.Failure
	if err := json.Unmarshal([]byte(*m.MessageAttributes[webhook.AttrFailure].StringValue), &f); err != nil {
		t.Fatal(err)
	}
	if f.Error != webhook.ErrRetryable || f.Cause != "attempt 3/3: target answered 503" || f.ReceiveCount != 1 || f.ExecutionARN == "" || f.FailedAt == "" {
		t.Errorf("failure attribute %+v", f)
	}
}

// sameMultiset compares two lists ignoring order (groups run concurrently).
func sameMultiset(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
