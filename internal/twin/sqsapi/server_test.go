package sqsapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin/fifo"
)

const region = "us-east-1"

// startServer serves a fresh store on a loopback port and returns its URL.
func startServer(t testing.TB) string {
	t.Helper()
	store, err := fifo.Open(filepath.Join(t.TempDir(), "queues.db"), fifo.Options{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(store, ""))
	t.Cleanup(func() {
		srv.Close()
		store.Close()
	})
	return srv.URL
}

func client(endpoint string) *sqs.Client {
	return sqs.NewFromConfig(testenv.AWSConfig(endpoint, region))
}

func TestSDKRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := client(startServer(t))
	created, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders.fifo"),
		Attributes: map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(created.QueueUrl)
	if !strings.HasSuffix(url, "/000000000000/orders.fifo") {
		t.Fatalf("queue url %s", url)
	}
	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders.fifo")})
	if err != nil || aws.ToString(got.QueueUrl) != url {
		t.Fatalf("GetQueueUrl = %v, %v", got, err)
	}
	attrs := map[string]types.MessageAttributeValue{
		"s": {DataType: aws.String("String"), StringValue: aws.String("héllo")},
		"n": {DataType: aws.String("Number"), StringValue: aws.String("42")},
		"b": {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
	}
	// The SDK checks MD5OfMessageBody on send and receive; a wrong digest fails the call.
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(`{"a":1}`),
		MessageGroupId: aws.String("g1"), MessageAttributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(sent.SequenceNumber) == "" || aws.ToString(sent.MD5OfMessageAttributes) == "" {
		t.Fatalf("send output %+v", sent)
	}
	batch, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("two"), MessageGroupId: aws.String("g1")},
		{Id: aws.String("b"), MessageBody: aws.String("no group")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Successful) != 1 || len(batch.Failed) != 1 || aws.ToString(batch.Failed[0].Code) != "MissingParameter" {
		t.Fatalf("batch = %+v", batch)
	}
	recv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(recv.Messages) != 2 {
		t.Fatalf("received %d messages", len(recv.Messages))
	}
	m := recv.Messages[0]
	if aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) ||
		aws.ToString(m.MessageAttributes["s"].StringValue) != "héllo" || string(m.MessageAttributes["b"].BinaryValue) != "\x00\x01\x02\xff" {
		t.Fatalf("attributes did not round-trip: %+v", m)
	}
	for _, a := range []string{"SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageDeduplicationId", "MessageGroupId"} {
		if m.Attributes[a] == "" {
			t.Errorf("system attribute %s missing: %v", a, m.Attributes)
		}
	}
	entries := []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("x"), ReceiptHandle: m.ReceiptHandle},
		{Id: aws.String("y"), ReceiptHandle: aws.String("not-a-handle")},
	}
	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: entries})
	if err != nil || len(del.Successful) != 1 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatalf("delete batch = %+v, %v", del, err)
	}
	qa, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if qa.Attributes["ApproximateNumberOfMessagesNotVisible"] != "1" || qa.Attributes["QueueArn"] != "arn:aws:sqs:us-east-1:000000000000:orders.fifo" || len(qa.Attributes) != 2 {
		t.Fatalf("attributes = %v", qa.Attributes)
	}
}

func TestSDKErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	endpoint := startServer(t)
	c := client(endpoint)
	_, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Fatalf("GetQueueUrl(missing) = %v, want QueueDoesNotExist", err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Fatalf("error code = %v, want the query-compatible code", err)
	}
	url := endpoint + "/000000000000/q"
	if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: aws.String("bogus"), VisibilityTimeout: 1})
	var invalid *types.ReceiptHandleIsInvalid
	if !errors.As(err, &invalid) {
		t.Fatalf("bogus handle: %v", err)
	}
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"VisibilityTimeout": "7"}})
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) {
		t.Fatalf("recreate with other attributes: %v", err)
	}
	resp, err := http.Post(endpoint, "application/x-amz-json-1.0", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 400 || body["__type"] != "com.amazonaws.sqs#InvalidAction" {
		t.Fatalf("no target: %d %v", resp.StatusCode, body)
	}
}

func TestListQueuesPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := client(startServer(t))
	for _, n := range []string{"a1", "a2", "a3", "b1"} {
		if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("a"), MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range out.QueueUrls {
			names = append(names, u[strings.LastIndex(u, "/")+1:])
		}
	}
	if strings.Join(names, ",") != "a1,a2,a3" || pages != 2 {
		t.Fatalf("paged names %v in %d pages", names, pages)
	}
}

// TestAWSCLI drives the AWS CLI (v1, which speaks the SQS JSON protocol since
// botocore 1.31) against the server.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the AWS CLI is not on PATH; install it with pip install awscli")
	}
	endpoint := startServer(t)
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(aws, append([]string{"--endpoint-url", endpoint, "--output", "json", "sqs"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
			"AWS_DEFAULT_REGION="+region, "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws sqs %v: %v\n%s", args, err, out)
		}
		var doc map[string]any
		if len(strings.TrimSpace(string(out))) > 0 {
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("aws sqs %v: %v\n%s", args, err, out)
			}
		}
		return doc
	}
	url := run("create-queue", "--queue-name", "cli.fifo", "--attributes", "FifoQueue=true,ContentBasedDeduplication=true")["QueueUrl"].(string)
	sent := run("send-message", "--queue-url", url, "--message-body", "hello from the cli", "--message-group-id", "g",
		"--message-attributes", `{"kind":{"DataType":"String","StringValue":"demo"}}`)
	if sent["MessageId"] == "" || sent["SequenceNumber"] == nil {
		t.Fatalf("send-message output %v", sent)
	}
	listed := run("list-queues")
	if urls, _ := listed["QueueUrls"].([]any); len(urls) != 1 || urls[0] != url {
		t.Fatalf("list-queues output %v", listed)
	}
	recv := run("receive-message", "--queue-url", url, "--attribute-names", "All", "--message-attribute-names", "All", "--wait-time-seconds", "1")
	msgs, _ := recv["Messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("receive-message output %v", recv)
	}
	m := msgs[0].(map[string]any)
	if m["Body"] != "hello from the cli" || m["Attributes"].(map[string]any)["MessageGroupId"] != "g" ||
		m["MessageAttributes"].(map[string]any)["kind"].(map[string]any)["StringValue"] != "demo" {
		t.Fatalf("received %v", m)
	}
	run("delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"].(string))
	attrs := run("get-queue-attributes", "--queue-url", url, "--attribute-names", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
	if a := attrs["Attributes"].(map[string]any); a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("after delete: %v", attrs)
	}
}

func TestSDKQueueManagement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := client(startServer(t))
	create := func(name string) string {
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{"FifoQueue": "true"}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.QueueUrl)
	}
	dlq, src := create("dlq.fifo"), create("src.fifo")
	policy := `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq.fifo","maxReceiveCount":"4"}`
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &src,
		Attributes: map[string]string{"RedrivePolicy": policy, "VisibilityTimeout": "7"}}); err != nil {
		t.Fatal(err)
	}
	sources, err := c.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: &dlq})
	if err != nil || len(sources.QueueUrls) != 1 || sources.QueueUrls[0] != src {
		t.Fatalf("dead-letter sources = %+v, %v", sources, err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &src, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil || attrs.Attributes["RedrivePolicy"] != policy || attrs.Attributes["VisibilityTimeout"] != "7" {
		t.Fatalf("attributes = %v, %v", attrs, err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &src, MessageBody: aws.String("x"),
		MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &src}); err != nil {
		t.Fatal(err)
	}
	if out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &src}); err != nil || len(out.Messages) != 0 {
		t.Fatalf("after purge: %+v, %v", out, err)
	}
	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &src}); err != nil {
		t.Fatal(err)
	}
	var missing *types.QueueDoesNotExist
	if _, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &src}); !errors.As(err, &missing) {
		t.Fatalf("deleted queue: %v", err)
	}
}
