package sqsconformance

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Scenarios is the suite, in the order a reader should meet them.
func Scenarios() []Scenario {
	return []Scenario{
		orderPerGroup, batchPrefersOneGroup, inFlightGroupLock, sendBatchOrder,
		contentDedup, idDedup, fifoIDCharacters, visibilityExpiry, changeVisibility,
		staleReceiptHandle, changeVisibilityNotInFlight, queueCounts, receiveAttemptID,
		deadLetterAfterMaxReceives, messageMoveTask, attributeDigests, redriveAllowPolicy,
	}
}

// byGroup renders received messages as "G: b1,b2" per group, sorted by group.
func byGroup(msgs []types.Message) string {
	groups := map[string][]string{}
	for _, m := range msgs {
		g := m.Attributes["MessageGroupId"]
		groups[g] = append(groups[g], aws.ToString(m.Body))
	}
	var parts []string
	for g, b := range groups {
		parts = append(parts, g+": "+strings.Join(b, ","))
	}
	sort.Strings(parts)
	return strings.Join(parts, " | ")
}

func drain(ctx context.Context, e *Env, url string) ([]types.Message, error) {
	var all []types.Message
	for {
		msgs, err := e.Receive(ctx, url, 10, 30)
		if err != nil || len(msgs) == 0 {
			return all, err
		}
		all = append(all, msgs...)
		for _, m := range msgs {
			if _, err := e.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return all, err
			}
		}
	}
}

var orderPerGroup = Scenario{
	Name: "order-per-group",
	AWS:  "FIFO: messages of one message group are received in the order they were sent (SQSDeveloperGuide/FIFO-queues-message-order).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		for _, s := range [][2]string{{"A", "a1"}, {"B", "b1"}, {"A", "a2"}, {"C", "c1"}, {"B", "b2"}, {"A", "a3"}, {"C", "c2"}} {
			if _, err := e.Send(ctx, url, s[0], s[1]); err != nil {
				return []string{ErrorLine(err)}
			}
		}
		all, err := drain(ctx, e, url)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		return []string{"delivered " + byGroup(all), Line("count %d", len(all))}
	},
	Want: []string{"delivered A: a1,a2,a3 | B: b1,b2 | C: c1,c2", "count 7"},
}

var batchPrefersOneGroup = Scenario{
	Name: "batch-prefers-one-group",
	AWS:  "ReceiveMessage on FIFO: \"Amazon SQS first attempts to return as many messages with the same message group ID as possible\" (API_ReceiveMessage, FIFO-queues-understanding-logic).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		for _, s := range [][2]string{{"A", "a1"}, {"B", "b1"}, {"A", "a2"}, {"B", "b2"}} {
			if _, err := e.Send(ctx, url, s[0], s[1]); err != nil {
				return []string{ErrorLine(err)}
			}
		}
		msgs, err := e.Receive(ctx, url, 3, 30)
		return []string{Bodies("first batch of 3", msgs, err)}
	},
	Want: []string{"first batch of 3: a1,a2,b1"},
	Moto: &Deviation{
		Reason:     "moto returns visible messages in send order across groups instead of filling the batch from one group first",
		Transcript: []string{"first batch of 3: a1,b1,a2"},
	},
}

var inFlightGroupLock = Scenario{
	Name: "in-flight-group-lock",
	AWS:  "FIFO: while a message of a group is in flight, no further message of that group is returned until it is deleted or visible again (FIFO-queues-understanding-logic).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		for _, s := range [][2]string{{"A", "a1"}, {"A", "a2"}, {"B", "b1"}} {
			if _, err := e.Send(ctx, url, s[0], s[1]); err != nil {
				return []string{ErrorLine(err)}
			}
		}
		var tr []string
		first, err := e.Receive(ctx, url, 1, 30)
		tr = append(tr, Bodies("receive 1", first, err))
		second, err := e.Receive(ctx, url, 10, 30)
		tr = append(tr, Bodies("receive 10 while a1 in flight", second, err))
		third, err := e.Receive(ctx, url, 10, 30)
		tr = append(tr, Bodies("receive 10 while a1 and b1 in flight", third, err))
		if len(first) == 1 {
			_, err = e.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle})
			if err != nil {
				tr = append(tr, "delete a1: "+ErrorLine(err))
			}
		}
		fourth, err := e.Receive(ctx, url, 10, 30)
		return append(tr, Bodies("receive 10 after deleting a1", fourth, err))
	},
	Want: []string{
		"receive 1: a1",
		"receive 10 while a1 in flight: b1",
		"receive 10 while a1 and b1 in flight: ",
		"receive 10 after deleting a1: a2",
	},
}

var sendBatchOrder = Scenario{
	Name: "send-batch-order",
	AWS:  "SendMessageBatch on FIFO: entries of one group are enqueued in the order of the batch (API_SendMessageBatch).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		var entries []types.SendMessageBatchRequestEntry
		for i := 1; i <= 5; i++ {
			entries = append(entries, types.SendMessageBatchRequestEntry{
				Id: aws.String(fmt.Sprint("e", i)), MessageBody: aws.String(fmt.Sprint("m", i)), MessageGroupId: aws.String("G"),
			})
		}
		out, err := e.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
		if err != nil {
			return []string{ErrorLine(err)}
		}
		seqs := make([]string, 0, len(out.Successful))
		for _, s := range out.Successful {
			seqs = append(seqs, aws.ToString(s.SequenceNumber))
		}
		increasing := sort.SliceIsSorted(seqs, func(i, j int) bool {
			return len(seqs[i]) < len(seqs[j]) || (len(seqs[i]) == len(seqs[j]) && seqs[i] < seqs[j])
		})
		msgs, err := e.Receive(ctx, url, 10, 30)
		return []string{Line("successful %d failed %d", len(out.Successful), len(out.Failed)),
			Line("sequence numbers increase in batch order: %v", increasing), Bodies("receive 10", msgs, err)}
	},
	Want: []string{"successful 5 failed 0", "sequence numbers increase in batch order: true", "receive 10: m1,m2,m3,m4,m5"},
}

var contentDedup = Scenario{
	Name: "content-dedup",
	AWS:  "ContentBasedDeduplication: a body sent again within 5 minutes is accepted but not delivered; SendMessage returns the original MessageId (using-messagededuplicationid-property).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		first, err := e.Send(ctx, url, "G", "same body")
		if err != nil {
			return []string{ErrorLine(err)}
		}
		second, err := e.Send(ctx, url, "H", "same body")
		if err != nil {
			return []string{ErrorLine(err)}
		}
		all, err := drain(ctx, e, url)
		return []string{
			Line("duplicate returns the original MessageId: %v", aws.ToString(first.MessageId) == aws.ToString(second.MessageId)),
			Bodies("delivered", all, err),
		}
	},
	Want: []string{"duplicate returns the original MessageId: true", "delivered: same body"},
	Moto: &Deviation{
		Reason:     "moto answers a duplicate with a new MessageId (the message is still not delivered)",
		Transcript: []string{"duplicate returns the original MessageId: false", "delivered: same body"},
	},
}

var fifoIDCharacters = Scenario{
	Name: "fifo-id-characters",
	AWS:  "MessageGroupId and MessageDeduplicationId: up to 128 characters, alphanumeric and punctuation (!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~); anything else is refused (API_SendMessage).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		long := strings.Repeat("x", 128)
		var tr []string
		for _, c := range []struct{ label, group, dedup string }{
			{"128-character ids", long, long},
			{"punctuation group", `!"#$%&'()*+,-./:;<=>?@[\]^_` + "`{|}~", ""},
			{"group with a space", "a b", ""},
			{"non-ASCII group", "é", ""},
			{"129-character group", long + "x", ""},
			{"dedup id with a space", "G", "a b"},
			{"129-character dedup id", "G", long + "x"},
		} {
			in := &sqs.SendMessageInput{QueueUrl: &url, MessageGroupId: aws.String(c.group), MessageBody: aws.String(c.label)}
			if c.dedup != "" {
				in.MessageDeduplicationId = aws.String(c.dedup)
			}
			if _, err := e.Client.SendMessage(ctx, in); err != nil {
				tr = append(tr, c.label+": "+ErrorLine(err))
			} else {
				tr = append(tr, c.label+": sent")
			}
		}
		return tr
	},
	Want: []string{"128-character ids: sent", "punctuation group: sent", "group with a space: error InvalidParameterValue",
		"non-ASCII group: error InvalidParameterValue", "129-character group: error InvalidParameterValue",
		"dedup id with a space: error InvalidParameterValue", "129-character dedup id: error InvalidParameterValue"},
	Moto: &Deviation{
		Reason: "moto 5.2.1 accepts any MessageGroupId and MessageDeduplicationId",
		Transcript: []string{"128-character ids: sent", "punctuation group: sent", "group with a space: sent",
			"non-ASCII group: sent", "129-character group: sent", "dedup id with a space: sent", "129-character dedup id: sent"},
	},
}

var idDedup = Scenario{
	Name: "id-dedup",
	AWS:  "MessageDeduplicationId: messages sent with the same id within 5 minutes are delivered once, whatever their bodies; the id overrides content-based deduplication (API_SendMessage).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		for _, b := range []string{"first", "second"} {
			_, err := e.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageGroupId: aws.String("G"),
				MessageBody: aws.String(b), MessageDeduplicationId: aws.String("dup-1")})
			if err != nil {
				return []string{ErrorLine(err)}
			}
		}
		// Same body, different ids: both delivered.
		for _, id := range []string{"u-1", "u-2"} {
			_, err := e.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageGroupId: aws.String("G"),
				MessageBody: aws.String("body"), MessageDeduplicationId: aws.String(id)})
			if err != nil {
				return []string{ErrorLine(err)}
			}
		}
		all, err := drain(ctx, e, url)
		var tr []string
		tr = append(tr, Bodies("delivered", all, err))
		if len(all) > 0 {
			tr = append(tr, "first dedup id: "+all[0].Attributes["MessageDeduplicationId"])
		}
		return tr
	},
	Want: []string{"delivered: first,body,body", "first dedup id: dup-1"},
}

var visibilityExpiry = Scenario{
	Name: "visibility-expiry-and-receive-count",
	AWS:  "A received message is invisible for the visibility timeout, then delivered again with ApproximateReceiveCount incremented and ApproximateFirstReceiveTimestamp unchanged (sqs-visibility-timeout, API_ReceiveMessage).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		if _, err := e.Send(ctx, url, "G", "x"); err != nil {
			return []string{ErrorLine(err)}
		}
		var tr []string
		first, err := e.Receive(ctx, url, 1, shortVisibility)
		tr = append(tr, Bodies("receive", first, err))
		hidden, err := e.Receive(ctx, url, 1, shortVisibility)
		tr = append(tr, Bodies("receive during visibility timeout", hidden, err))
		time.Sleep(afterVisibility)
		again, err := e.Receive(ctx, url, 1, 30)
		tr = append(tr, Bodies("receive after it", again, err))
		if len(first) == 1 && len(again) == 1 {
			tr = append(tr,
				"receive counts "+first[0].Attributes["ApproximateReceiveCount"]+","+again[0].Attributes["ApproximateReceiveCount"],
				Line("first receive timestamp kept: %v", first[0].Attributes["ApproximateFirstReceiveTimestamp"] == again[0].Attributes["ApproximateFirstReceiveTimestamp"]),
				Line("same message id: %v", aws.ToString(first[0].MessageId) == aws.ToString(again[0].MessageId)),
				Line("new receipt handle: %v", aws.ToString(first[0].ReceiptHandle) != aws.ToString(again[0].ReceiptHandle)))
		}
		return tr
	},
	Want: []string{"receive: x", "receive during visibility timeout: ", "receive after it: x",
		"receive counts 1,2", "first receive timestamp kept: true", "same message id: true", "new receipt handle: true"},
}

var changeVisibility = Scenario{
	Name: "change-message-visibility",
	AWS:  "ChangeMessageVisibility sets an in-flight message's remaining timeout from now; 0 makes it visible at once (API_ChangeMessageVisibility).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		if _, err := e.Send(ctx, url, "G", "x"); err != nil {
			return []string{ErrorLine(err)}
		}
		var tr []string
		change := func(label string, handle *string, seconds int32) {
			_, err := e.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: handle, VisibilityTimeout: seconds})
			if err != nil {
				tr = append(tr, label+": "+ErrorLine(err))
			} else {
				tr = append(tr, label+": ok")
			}
		}
		first, err := e.Receive(ctx, url, 1, 30)
		tr = append(tr, Bodies("receive with 30 s", first, err))
		if len(first) != 1 {
			return tr
		}
		change("change to 0", first[0].ReceiptHandle, 0)
		second, err := e.Receive(ctx, url, 1, 30)
		tr = append(tr, Bodies("receive right after", second, err))
		if len(second) != 1 {
			return tr
		}
		change("change to 2", second[0].ReceiptHandle, shortVisibility)
		hidden, err := e.Receive(ctx, url, 1, 30)
		tr = append(tr, Bodies("receive within 2 s", hidden, err))
		time.Sleep(afterVisibility)
		third, err := e.Receive(ctx, url, 1, 30)
		tr = append(tr, Bodies("receive after 2 s", third, err))
		if len(third) == 1 {
			tr = append(tr, "receive count "+third[0].Attributes["ApproximateReceiveCount"])
		}
		return tr
	},
	Want: []string{"receive with 30 s: x", "change to 0: ok", "receive right after: x", "change to 2: ok",
		"receive within 2 s: ", "receive after 2 s: x", "receive count 3"},
}

var deadLetterAfterMaxReceives = Scenario{
	Name: "dead-letter-after-max-receives",
	AWS: "RedrivePolicy: a message received maxReceiveCount times moves to the dead-letter queue instead of being received again; " +
		"it keeps its MessageId, group and attributes; on FIFO its deduplication id is replaced by its message id (sqs-configure-dead-letter-queue-redrive); " +
		"DeadLetterQueueSourceArn names the source (API_ReceiveMessage).",
	Run: func(ctx context.Context, e *Env) []string {
		dlqURL, dlqARN, err := e.CreateFIFO(ctx, "dlq", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, dlqARN)
		url, srcARN, err := e.CreateFIFO(ctx, "src", map[string]string{"RedrivePolicy": policy})
		if err != nil {
			return []string{ErrorLine(err)}
		}
		sent, err := e.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageGroupId: aws.String("G"),
			MessageBody: aws.String("poison"), MessageDeduplicationId: aws.String("poison-dedup"),
			MessageAttributes: map[string]types.MessageAttributeValue{"webhook-id": {DataType: aws.String("String"), StringValue: aws.String("wh-1")}}})
		if err != nil {
			return []string{ErrorLine(err)}
		}
		if _, err := e.Send(ctx, url, "G", "next"); err != nil {
			return []string{ErrorLine(err)}
		}
		var tr []string
		for i := 1; i <= 2; i++ {
			msgs, err := e.ReceiveAndRelease(ctx, url, 1)
			tr = append(tr, Bodies(fmt.Sprint("source receive ", i), msgs, err))
		}
		msgs, err := e.Receive(ctx, url, 1, 30)
		tr = append(tr, Bodies("source receive 3", msgs, err))
		dead, err := e.Receive(ctx, dlqURL, 10, 30)
		tr = append(tr, Bodies("dead-letter receive", dead, err))
		if len(dead) == 1 {
			d := dead[0]
			tr = append(tr,
				Line("same message id: %v", aws.ToString(d.MessageId) == aws.ToString(sent.MessageId)),
				"group "+d.Attributes["MessageGroupId"],
				"attribute webhook-id "+aws.ToString(d.MessageAttributes["webhook-id"].StringValue),
				Line("dedup id is the message id: %v", d.Attributes["MessageDeduplicationId"] == aws.ToString(sent.MessageId)),
				Line("source arn set: %v", d.Attributes["DeadLetterQueueSourceArn"] == srcARN),
			)
		}
		return tr
	},
	Want: []string{"source receive 1: poison", "source receive 2: poison", "source receive 3: next", "dead-letter receive: poison",
		"same message id: true", "group G", "attribute webhook-id wh-1", "dedup id is the message id: true", "source arn set: true"},
	Moto: &Deviation{
		Reason: "moto moves the message object unchanged: the deduplication id stays the original, and DeadLetterQueueSourceArn is not set",
		Transcript: []string{"source receive 1: poison", "source receive 2: poison", "source receive 3: next", "dead-letter receive: poison",
			"same message id: true", "group G", "attribute webhook-id wh-1", "dedup id is the message id: false", "source arn set: false"},
	},
}

var messageMoveTask = Scenario{
	Name: "message-move-task",
	AWS:  "StartMessageMoveTask moves a DLQ's messages back to their source queue in the background; ListMessageMoveTasks reports COMPLETED with the counts (API_StartMessageMoveTask, API_ListMessageMoveTasks).",
	Run: func(ctx context.Context, e *Env) []string {
		_, dlqARN, err := e.CreateFIFO(ctx, "dlq", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"1"}`, dlqARN)
		url, _, err := e.CreateFIFO(ctx, "src", map[string]string{"RedrivePolicy": policy})
		if err != nil {
			return []string{ErrorLine(err)}
		}
		for _, b := range []string{"p1", "p2"} {
			if _, err := e.Send(ctx, url, "G", b); err != nil {
				return []string{ErrorLine(err)}
			}
		}
		var tr []string
		if _, err := e.ReceiveAndRelease(ctx, url, 10); err != nil {
			return append(tr, ErrorLine(err))
		}
		left, err := e.Receive(ctx, url, 10, 30) // dead-letters p1 and p2
		tr = append(tr, Bodies("source after dead-lettering", left, err))
		start, err := e.Client.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: &dlqARN})
		if err != nil {
			return append(tr, "start: "+ErrorLine(err))
		}
		tr = append(tr, Line("start: handle returned %v", aws.ToString(start.TaskHandle) != ""))
		var last types.ListMessageMoveTasksResultEntry
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			out, err := e.Client.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: &dlqARN})
			if err != nil {
				return append(tr, "list: "+ErrorLine(err))
			}
			if len(out.Results) > 0 {
				last = out.Results[0]
				if aws.ToString(last.Status) != "RUNNING" {
					break
				}
			}
		}
		tr = append(tr, Line("task %s moved %d of %d", aws.ToString(last.Status), last.ApproximateNumberOfMessagesMoved, aws.ToInt64(last.ApproximateNumberOfMessagesToMove)))
		back, err := e.Receive(ctx, url, 10, 30)
		tr = append(tr, Bodies("source after the move", back, err))
		if len(back) > 0 {
			tr = append(tr, "receive count "+back[0].Attributes["ApproximateReceiveCount"])
		}
		return tr
	},
	Want: []string{"source after dead-lettering: ", "start: handle returned true", "task COMPLETED moved 2 of 2",
		"source after the move: p1,p2", "receive count 1"},
	Moto: &Deviation{
		Reason:     "moto 5.2.1 does not implement StartMessageMoveTask",
		Transcript: []string{"source after dead-lettering: ", "start: error http 500"},
	},
}

var attributeDigests = Scenario{
	Name: "message-attribute-digests",
	AWS:  "MD5OfMessageAttributes: MD5 over the attributes sorted by name, each as length-prefixed name, type, transport byte and value (sqs-message-metadata#sqs-attributes-md5-message-digest-calculation).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		attrs := map[string]types.MessageAttributeValue{
			"webhook-id":    {DataType: aws.String("String"), StringValue: aws.String("wh-42")},
			"h-X-Event":     {DataType: aws.String("String"), StringValue: aws.String("order.created ✓")},
			"attempt":       {DataType: aws.String("Number"), StringValue: aws.String("3")},
			"raw":           {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 0xfe, 0xff}},
			"custom.string": {DataType: aws.String("String.json"), StringValue: aws.String(`{"k":"v"}`)},
		}
		sent, err := e.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageGroupId: aws.String("G"),
			MessageBody: aws.String("body ✓"), MessageAttributes: attrs})
		if err != nil {
			return []string{ErrorLine(err)}
		}
		msgs, err := e.Receive(ctx, url, 1, 30)
		tr := []string{"send md5 body " + aws.ToString(sent.MD5OfMessageBody), "send md5 attributes " + aws.ToString(sent.MD5OfMessageAttributes)}
		if err != nil || len(msgs) != 1 {
			return append(tr, Bodies("receive", msgs, err))
		}
		m := msgs[0]
		tr = append(tr, "receive md5 attributes "+aws.ToString(m.MD5OfMessageAttributes),
			"binary "+fmt.Sprint(m.MessageAttributes["raw"].BinaryValue), "custom type "+aws.ToString(m.MessageAttributes["custom.string"].DataType))
		// Receiving a subset digests only the returned attributes.
		if _, err := e.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
			return append(tr, "change to 0: "+ErrorLine(err))
		}
		out, err := e.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, VisibilityTimeout: 30, MessageAttributeNames: []string{"webhook-id"}})
		if err != nil || len(out.Messages) != 1 {
			return append(tr, Bodies("receive one attribute", out.Messages, err))
		}
		return append(tr, "receive one attribute md5 "+aws.ToString(out.Messages[0].MD5OfMessageAttributes),
			Line("attributes returned %d", len(out.Messages[0].MessageAttributes)))
	},
	// The digests agree with moto's independent implementation and, for the
	// body, with Python's hashlib.
	Want: []string{"send md5 body d516d70315d2f31da333d61a6655ad33", "send md5 attributes 3c4b316c3b4e1431faf94ad0b5a2d564",
		"receive md5 attributes 3c4b316c3b4e1431faf94ad0b5a2d564", "binary [0 1 2 254 255]", "custom type String.json",
		"receive one attribute md5 0f79a2278c60275406475a139307b582", "attributes returned 1"},
}

var redriveAllowPolicy = Scenario{
	Name: "redrive-allow-policy",
	AWS:  "RedriveAllowPolicy set on a queue is returned by GetQueueAttributes (API_SetQueueAttributes).",
	Run: func(ctx context.Context, e *Env) []string {
		policy := `{"redrivePermission":"allowAll"}`
		url, _, err := e.CreateFIFO(ctx, "dlq", map[string]string{"RedriveAllowPolicy": policy})
		if err != nil {
			return []string{ErrorLine(err)}
		}
		out, err := e.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
		if err != nil {
			return []string{ErrorLine(err)}
		}
		return []string{"RedriveAllowPolicy " + out.Attributes["RedriveAllowPolicy"]}
	},
	Want: []string{`RedriveAllowPolicy {"redrivePermission":"allowAll"}`},
	Moto: &Deviation{
		Reason:     "moto 5.2.1 drops RedriveAllowPolicy",
		Transcript: []string{"RedriveAllowPolicy "},
	},
}

var staleReceiptHandle = Scenario{
	Name: "stale-receipt-handle",
	AWS: "DeleteMessage: \"you must provide the most recently received receipt handle … otherwise, the request succeeds, " +
		"but the message will not be deleted\" (API_DeleteMessage).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		if _, err := e.Send(ctx, url, "G", "x"); err != nil {
			return []string{ErrorLine(err)}
		}
		var tr []string
		old, err := e.ReceiveAndRelease(ctx, url, 1)
		tr = append(tr, Bodies("receive and release", old, err))
		cur, err := e.Receive(ctx, url, 1, 30)
		tr = append(tr, Bodies("receive again", cur, err))
		if len(old) != 1 || len(cur) != 1 {
			return tr
		}
		_, err = e.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: old[0].ReceiptHandle})
		tr = append(tr, "delete with the old handle: "+okOrError(err), e.counts(ctx, url))
		_, err = e.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: cur[0].ReceiptHandle})
		return append(tr, "delete with the current handle: "+okOrError(err), e.counts(ctx, url))
	},
	Want: []string{"receive and release: x", "receive again: x", "delete with the old handle: ok", "visible 0 in flight 1",
		"delete with the current handle: ok", "visible 0 in flight 0"},
	Moto: &Deviation{
		Reason: "moto deletes the message with a stale receipt handle",
		Transcript: []string{"receive and release: x", "receive again: x", "delete with the old handle: ok", "visible 0 in flight 0",
			"delete with the current handle: ok", "visible 0 in flight 0"},
	},
}

var changeVisibilityNotInFlight = Scenario{
	Name: "change-visibility-not-in-flight",
	AWS:  "ChangeMessageVisibility on a message that is not in flight fails with MessageNotInflight (API_ChangeMessageVisibility, Errors).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		if _, err := e.Send(ctx, url, "G", "x"); err != nil {
			return []string{ErrorLine(err)}
		}
		released, err := e.ReceiveAndRelease(ctx, url, 1)
		tr := []string{Bodies("receive and release", released, err)}
		if len(released) != 1 {
			return tr
		}
		_, err = e.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: released[0].ReceiptHandle, VisibilityTimeout: 10})
		return append(tr, "change visibility of the visible message: "+okOrError(err), e.counts(ctx, url))
	},
	Want: []string{"receive and release: x", "change visibility of the visible message: error AWS.SimpleQueueService.MessageNotInflight", "visible 1 in flight 0"},
	Moto: &Deviation{
		Reason:     "moto changes the visibility of a message that is not in flight instead of failing with MessageNotInflight",
		Transcript: []string{"receive and release: x", "change visibility of the visible message: ok", "visible 0 in flight 1"},
	},
}

var queueCounts = Scenario{
	Name: "queue-counts",
	AWS:  "GetQueueAttributes: ApproximateNumberOfMessages counts visible messages, ApproximateNumberOfMessagesNotVisible in-flight ones (API_GetQueueAttributes).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		for _, s := range [][2]string{{"A", "a1"}, {"A", "a2"}, {"B", "b1"}} {
			if _, err := e.Send(ctx, url, s[0], s[1]); err != nil {
				return []string{ErrorLine(err)}
			}
		}
		tr := []string{e.counts(ctx, url)}
		msgs, err := e.Receive(ctx, url, 10, 30)
		return append(tr, Bodies("receive 10", msgs, err), e.counts(ctx, url))
	},
	Want: []string{"visible 3 in flight 0", "receive 10: a1,a2,b1", "visible 0 in flight 3"},
}

var receiveAttemptID = Scenario{
	Name: "receive-request-attempt-id",
	AWS:  "ReceiveRequestAttemptId: a receive retried with the same id within 5 minutes returns the same messages and receipt handles (API_ReceiveMessage).",
	Run: func(ctx context.Context, e *Env) []string {
		url, _, err := e.CreateFIFO(ctx, "q", nil)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		for _, s := range [][2]string{{"A", "a1"}, {"B", "b1"}} {
			if _, err := e.Send(ctx, url, s[0], s[1]); err != nil {
				return []string{ErrorLine(err)}
			}
		}
		in := &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 1, VisibilityTimeout: 30, ReceiveRequestAttemptId: aws.String("attempt-1")}
		first, err := e.Client.ReceiveMessage(ctx, in)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		retried, err := e.Client.ReceiveMessage(ctx, in)
		if err != nil {
			return []string{ErrorLine(err)}
		}
		same := len(first.Messages) == 1 && len(retried.Messages) == 1 &&
			aws.ToString(first.Messages[0].ReceiptHandle) == aws.ToString(retried.Messages[0].ReceiptHandle)
		return []string{Bodies("first", first.Messages, nil), Bodies("retried", retried.Messages, nil), Line("same receipt handle: %v", same)}
	},
	Want: []string{"first: a1", "retried: a1", "same receipt handle: true"},
	Moto: &Deviation{
		Reason:     "moto ignores ReceiveRequestAttemptId: the retry is a new receive",
		Transcript: []string{"first: a1", "retried: b1", "same receipt handle: false"},
	},
}

func okOrError(err error) string {
	if err != nil {
		return ErrorLine(err)
	}
	return "ok"
}

func (e *Env) counts(ctx context.Context, url string) string {
	out, err := e.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return "counts: " + ErrorLine(err)
	}
	return "visible " + out.Attributes["ApproximateNumberOfMessages"] + " in flight " + out.Attributes["ApproximateNumberOfMessagesNotVisible"]
}
