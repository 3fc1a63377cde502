package notifier

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/secret"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// TestNotifyAgainstMoto runs the notifier with the real SNS and SSM clients
// against moto: the Slack URL is an SSM parameter, the topic fans out to an
// SQS queue, and the test reads back what SNS delivered.
func TestNotifyAgainstMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testenv.AWSConfig(testenv.Moto(t), "ap-northeast-1")
	snsc, sqsc, ssmc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg), ssm.NewFromConfig(cfg)

	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("webhookq-failures")})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("failures-inbox")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
	}); err != nil {
		t.Fatal(err)
	}
	slack, texts := slackEndpoint(t, 200)
	if _, err := ssmc.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(slackRef.SSMParameter), Type: ssmtypes.ParameterTypeSecureString,
		Value: aws.String(slack.URL + "/services/T000/B000/s3cretpath"),
	}); err != nil {
		t.Fatal(err)
	}

	ch := config.Notify{When: config.NotifyFinal, SNSTopicARN: aws.ToString(topic.TopicArn), SlackWebhookURL: &slackRef}
	n := newNotifier(t, &Config{
		Routes:  &config.Config{Notify: ch, Routes: []config.Route{{Name: "approval-progress", Notify: ch}}},
		SNS:     snsc,
		Secrets: &secret.Resolver{SSM: ssmc},
		Logger:  slog.New(slog.DiscardHandler),
	})
	res, err := n.Notify(ctx, testRequest(true))
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if strings.Join(res.Delivered, ",") != "sns,slack" {
		t.Errorf("delivered = %v", res.Delivered)
	}
	if text := <-texts; !strings.Contains(text, "--webhook-id wh-7f3a") {
		t.Errorf("Slack text %q", text)
	}

	out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, WaitTimeSeconds: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("SNS delivered %d messages to the queue, want 1", len(out.Messages))
	}
	// The SNS notification envelope SQS subscribers receive.
	var note struct{ Subject, Message, TopicArn string }
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &note); err != nil {
		t.Fatalf("SNS envelope: %v", err)
	}
	want := Compose(Describe(testRequest(true)))
	if note.Subject != want.Subject || note.Message != want.Text || note.TopicArn != aws.ToString(topic.TopicArn) {
		t.Errorf("SNS delivered subject %q, topic %s, message:\n%s", note.Subject, note.TopicArn, note.Message)
	}
}
