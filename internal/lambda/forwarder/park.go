package forwarder

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/webhook"
)

// attrFirstReceive is SQS's ApproximateFirstReceiveTimestamp (epoch millis).
const attrFirstReceive = "ApproximateFirstReceiveTimestamp"

// park sends a record that failed for good to the DLQ, as it came in plus
// webhook.AttrFailure, and reports whether it is there. The caller then
// treats the record as done: the event source mapping deletes it from the
// queue and its group goes on (a parked message unblocks its group).
//
// The copy keeps the body, the message group and every message attribute,
// so cmd/redrive can send it back unchanged. Its deduplication id names this
// receive of this message: a retried send is deduplicated, a later parking of
// the same webhook (after a redrive, as a new message) is not.
//
// Parking fails when no DLQ is configured, the record has no message id or
// group, or the send fails; the record then takes the ordinary failure path
// and SQS's redrive policy remains the backstop.
func (f *Forwarder) park(ctx context.Context, rec events.SQSMessage, failure webhook.Failure) bool {
	if f.dlqURL == "" {
		return false
	}
	group := rec.Attributes[attrMessageGroupID]
	if rec.MessageId == "" || group == "" {
		f.log.LogAttrs(ctx, slog.LevelWarn, "cannot park without a message id and group; SQS's redrive policy will move it", recordAttrs(rec)...)
		return false
	}
	receiveCount, _ := strconv.Atoi(rec.Attributes[attrReceiveCount])
	failure.ReceiveCount = receiveCount
	failure.FirstAttemptAt = sentTime(rec.Attributes[attrFirstReceive])
	failure.FailedAt = f.now().UTC().Format(time.RFC3339Nano)
	failureJSON, err := webhook.EncodeFailure(failure)
	if err != nil {
		f.log.LogAttrs(ctx, slog.LevelError, "cannot encode the failure attribute", recordAttrs(rec, slog.String("error", err.Error()))...)
		return false
	}

	attrs := map[string]sqstypes.MessageAttributeValue{}
	for name, a := range rec.MessageAttributes {
		if name == webhook.AttrFailure {
			continue
		}
		attrs[name] = attributeValue(a)
	}
	attrs[webhook.AttrFailure] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(failureJSON)}
	if _, movedBack := rec.MessageAttributes[webhook.AttrFailure]; movedBack {
		// It still carries its last failure record, so it came back from the
		// DLQ as it was, through an SQS message move task (redrive
		// --move-task, the SQS console's DLQ redrive), not through
		// cmd/redrive's copy, which drops the record and raises the count
		// itself: count that redrive here, so --max-redrives sees it.
		attrs[webhook.AttrRedriveCount] = sqstypes.MessageAttributeValue{DataType: aws.String("Number"),
			StringValue: aws.String(strconv.Itoa(redriveCount(rec) + 1))}
	}

	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sqsCallTimeout)
	defer cancel()
	out, err := f.deadLetters.SendMessage(callCtx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(f.dlqURL),
		MessageBody:            aws.String(rec.Body),
		MessageGroupId:         aws.String(group),
		MessageDeduplicationId: aws.String("park-" + ExecutionName(rec.MessageId, receiveCount)),
		MessageAttributes:      attrs,
	})
	logAttrs := recordAttrs(rec,
		slog.Int("receive_count", receiveCount),
		slog.String("failure", failure.Error),
		slog.String("execution_arn", failure.ExecutionARN))
	if err != nil {
		f.log.LogAttrs(ctx, slog.LevelError, "cannot park in the DLQ; the message comes back and SQS's redrive policy will move it",
			append(logAttrs, slog.String("error", err.Error()))...)
		return false
	}
	f.log.LogAttrs(ctx, slog.LevelError, "parked in the DLQ", append(logAttrs, slog.String("dlq_message_id", aws.ToString(out.MessageId)))...)
	return true
}

// attributeValue turns a record's message attribute back into the form
// SendMessage takes.
func attributeValue(a events.SQSMessageAttribute) sqstypes.MessageAttributeValue {
	v := sqstypes.MessageAttributeValue{DataType: aws.String(a.DataType), StringValue: a.StringValue, BinaryValue: a.BinaryValue}
	if a.DataType == "" {
		if a.StringValue != nil {
			v.DataType = aws.String("String")
		} else {
			v.DataType = aws.String("Binary")
		}
	}
	return v
}

// redriveCount is the record's webhook.AttrRedriveCount; 0 when absent or not
// a count.
func redriveCount(rec events.SQSMessage) int {
	a, ok := rec.MessageAttributes[webhook.AttrRedriveCount]
	if !ok || a.StringValue == nil {
		return 0
	}
	n, err := strconv.Atoi(*a.StringValue)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
