package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/webhook"
)

const routesYAML = `service: rie-test
region: us-east-1
target:
  base_url: http://127.0.0.1:9
notify:
  when: final
  sns_topic_arn: %s
  slack_webhook_url:
    ssm_parameter: /rie-test/slack-webhook-url
routes:
  - name: orders
    path: /orders
    group: static:orders
    target_path: /deliver/orders
    dedup: content
    verify: {scheme: none, reason: the test sender signs nothing}
`

// TestBootstrapUnderEmulator runs the real notify bootstrap under
// aws-lambda-rie with moto as its AWS (SNS, SSM) and a local Slack-compatible
// endpoint, and checks what each channel received and what Lambda reports.
func TestBootstrapUnderEmulator(t *testing.T) {
	ctx := context.Background()
	moto := testenv.Moto(t)
	cfg := testenv.AWSConfig(moto, lambdarie.Region)
	snsc, sqsc, ssmc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg), ssm.NewFromConfig(cfg)

	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("rie-test-failures")})
	if err != nil {
		t.Fatal(err)
	}
	inbox := subscribeQueue(t, snsc, sqsc, aws.ToString(topic.TopicArn))

	var slackStatus atomic.Int32
	slackStatus.Store(http.StatusOK)
	slackTexts := make(chan string, 4)
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Text string }
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &m)
		slackTexts <- m.Text
		w.WriteHeader(int(slackStatus.Load()))
	}))
	t.Cleanup(slack.Close)
	if _, err := ssmc.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/rie-test/slack-webhook-url"), Type: ssmtypes.ParameterTypeSecureString,
		Value: aws.String(slack.URL + "/services/T0/B0/s3cretpath"),
	}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(routes, []byte(fmt.Sprintf(routesYAML, aws.ToString(topic.TopicArn))), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(routes); err != nil {
		t.Fatalf("test routes.yaml is invalid: %v", err)
	}
	fn := lambdarie.Start(t, "./functions/notify", map[string]string{
		webhook.EnvConfig:  routes,
		"AWS_ENDPOINT_URL": moto,
	})

	// The Notify state's payload, as Step Functions builds it.
	event := func(id string) []byte {
		return []byte(`{"webhook":{"webhookId":"` + id + `","route":"orders","group":"orders","messageId":"m-1","receiveCount":5,` +
			`"finalAttempt":true,"headers":{},"body":"{}","bodyEncoding":"utf8"},` +
			`"error":{"Error":"Webhook.Retryable","Cause":"{\"errorMessage\":\"attempt 3/3: POST http://127.0.0.1:9/deliver/orders: connection failed: connection refused\",\"errorType\":\"Webhook.Retryable\"}"},` +
			`"executionId":"arn:aws:states:us-east-1:123456789012:express:rie-test-orders:e1:r1","stateMachine":"rie-test-orders",` +
			`"startTime":"2026-11-28T10:00:00Z"}`)
	}

	t.Run("both channels", func(t *testing.T) {
		answer := fn.Invoke(t, event("wh-a"))
		if string(answer) != `{"delivered":["sns","slack"]}` {
			t.Fatalf("answer %s", answer)
		}
		checkSNS(t, sqsc, inbox, "wh-a")
		if text := <-slackTexts; !strings.Contains(text, "go run ./cmd/redrive redrive --webhook-id wh-a") {
			t.Errorf("Slack text %q", text)
		}
	})
	t.Run("slack fails, sns still delivers", func(t *testing.T) {
		slackStatus.Store(http.StatusInternalServerError)
		answer := fn.Invoke(t, event("wh-b"))
		var reply struct{ ErrorType, ErrorMessage string }
		if err := json.Unmarshal(answer, &reply); err != nil {
			t.Fatalf("answer %s: %v", answer, err)
		}
		if reply.ErrorType != "ChannelError" || !strings.Contains(reply.ErrorMessage, "slack: webhook from ssm:/rie-test/slack-webhook-url answered 500") {
			t.Errorf("answer %s", answer)
		}
		if strings.Contains(string(answer), "s3cretpath") || strings.Contains(fn.Logs(), "s3cretpath") {
			t.Error("the Slack webhook URL leaked into the answer or the logs")
		}
		checkSNS(t, sqsc, inbox, "wh-b")
		<-slackTexts
	})
}

func subscribeQueue(t *testing.T, snsc *sns.Client, sqsc *sqs.Client, topicARN string) string {
	t.Helper()
	ctx := context.Background()
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("inbox")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
	}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl)
}

// checkSNS reads the one notification SNS fanned out to the queue.
func checkSNS(t *testing.T, sqsc *sqs.Client, queueURL, webhookID string) {
	t.Helper()
	out, err := sqsc.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), WaitTimeSeconds: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("queue got %d SNS notifications, want 1", len(out.Messages))
	}
	if _, err := sqsc.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	var note struct{ Subject, Message string }
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &note); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Webhook id: " + webhookID,
		"Cause:      attempt 3/3: POST http://127.0.0.1:9/deliver/orders: connection failed: connection refused",
		"#/express-executions/details/arn:aws:states:us-east-1:123456789012:express:rie-test-orders:e1:r1?startDate=",
		"go run ./cmd/redrive redrive --webhook-id " + webhookID,
	} {
		if !strings.Contains(note.Message, want) {
			t.Errorf("SNS message lacks %q:\n%s", want, note.Message)
		}
	}
	if note.Subject != "webhookq orders: delivery failed, moved to the DLQ (Webhook.Retryable)" {
		t.Errorf("SNS subject %q", note.Subject)
	}
}
