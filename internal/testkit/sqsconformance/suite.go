// Package sqsconformance is one SQS FIFO scenario suite run, with the same
// AWS SDK v2 client, against any SQS endpoint: the local twin's sqsapi server
// and moto. Each scenario writes a transcript of what it observed (bodies in
// order, receive counts, relations between ids, error codes) — never ids or
// timestamps themselves — and states the transcript AWS's documented
// behaviour produces. The twin must produce exactly that; moto must too,
// unless the scenario names a known moto difference, in which case moto must
// produce the stated deviation (so a fixed moto gap is noticed, not hidden).
//
// Differences found against moto 5.2.1 (AWS's documented behaviour first):
//
//   - Group and deduplication ids: AWS refuses a MessageGroupId or
//     MessageDeduplicationId beyond 128 characters or with anything but ASCII
//     letters, digits and punctuation; moto accepts them.
//   - Duplicate send: AWS answers a duplicate within the 5-minute window with
//     the original message's MessageId ("accepted successfully but not
//     delivered"); moto answers with a fresh MessageId that is never
//     delivered.
//   - Batch receive across groups: AWS "first attempts to return as many
//     messages with the same message group ID as possible"; moto returns
//     visible messages in send order, interleaving groups.
//   - Dead-letter move: AWS replaces a FIFO message's deduplication id with
//     its message id and sets DeadLetterQueueSourceArn; moto keeps the
//     original deduplication id and omits DeadLetterQueueSourceArn.
//   - Redrive: StartMessageMoveTask / ListMessageMoveTasks are not
//     implemented by moto 5.2.1 (it answers HTTP 500 with an HTML page).
//   - RedriveAllowPolicy: moto drops it from the queue's attributes.
//   - Stale receipt handle: AWS's DeleteMessage with a handle older than the
//     message's latest receive "succeeds, but the message will not be
//     deleted"; moto deletes it.
//   - ChangeMessageVisibility of a message not in flight: AWS fails with
//     MessageNotInflight; moto makes the message invisible.
//   - ReceiveRequestAttemptId: AWS returns the same messages and receipt
//     handles to a retried receive; moto ignores the id.
//
// Each difference is pinned by the scenario that found it (Scenario.Moto).
// Besides, moto's SQS backend answered HTTP 500 when scenarios ran in
// parallel against one server, so the suite runs them one at a time.
package sqsconformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// Scenario is one behaviour checked on every endpoint.
type Scenario struct {
	Name string
	// AWS cites the documented behaviour Want encodes.
	AWS string
	Run func(ctx context.Context, e *Env) []string
	// Want is the transcript of AWS's documented behaviour.
	Want []string
	// Moto, when set, is moto 5.2.1's known different transcript.
	Moto *Deviation
}

// Deviation is a known difference of an endpoint from AWS's behaviour.
type Deviation struct {
	Reason     string
	Transcript []string
}

// Env is what a scenario runs with: a client and a queue-name prefix unique
// to the scenario, so scenarios can share one endpoint.
type Env struct {
	Client *sqs.Client
	Prefix string
}

// Short timeouts keep the suite to seconds; the waits leave a margin for a
// loaded machine.
const (
	shortVisibility = 2 // seconds
	afterVisibility = 2800 * time.Millisecond
)

// CreateFIFO creates prefix+name+".fifo" with content-based deduplication and
// the extra attributes, and returns its URL and ARN.
func (e *Env) CreateFIFO(ctx context.Context, name string, extra map[string]string) (url, arn string, err error) {
	attrs := map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "30"}
	for k, v := range extra {
		attrs[k] = v
	}
	out, err := e.Client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(e.Prefix + name + ".fifo"), Attributes: attrs})
	if err != nil {
		return "", "", err
	}
	url = aws.ToString(out.QueueUrl)
	qa, err := e.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", err
	}
	return url, qa.Attributes["QueueArn"], nil
}

// Send sends body to group.
func (e *Env) Send(ctx context.Context, url, group, body string) (*sqs.SendMessageOutput, error) {
	return e.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageGroupId: &group, MessageBody: &body})
}

// Receive receives up to max messages with a visibility timeout (seconds)
// and every system and message attribute, without long polling.
func (e *Env) Receive(ctx context.Context, url string, max, visibility int32) ([]types.Message, error) {
	out, err := e.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: &url, MaxNumberOfMessages: max, VisibilityTimeout: visibility,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// ReceiveAndRelease receives up to max messages and makes them visible again
// at once, as a consumer that failed them does; each such receive counts.
func (e *Env) ReceiveAndRelease(ctx context.Context, url string, max int32) ([]types.Message, error) {
	msgs, err := e.Receive(ctx, url, max, 30)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		_, err := e.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
		if err != nil {
			return msgs, err
		}
	}
	return msgs, nil
}

// Bodies is "label: b1,b2" or "label: error <code>".
func Bodies(label string, msgs []types.Message, err error) string {
	if err != nil {
		return label + ": " + ErrorLine(err)
	}
	b := make([]string, len(msgs))
	for i, m := range msgs {
		b[i] = aws.ToString(m.Body)
	}
	return label + ": " + strings.Join(b, ",")
}

// ErrorLine names an error by its SQS error code, the part that is the same
// on every endpoint.
func ErrorLine(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return "error " + api.ErrorCode()
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		return fmt.Sprintf("error http %d", resp.HTTPStatusCode())
	}
	return "error " + err.Error()
}

// Line formats one transcript line.
func Line(format string, args ...any) string { return fmt.Sprintf(format, args...) }
