// Package redrive inspects webhookq's dead-letter queue and sends messages back
// to the source queue, safely: a message is deleted from the DLQ only after
// its copy was accepted by the source queue, and the copy's deduplication id
// is derived from the DLQ message, so a rerun after an interruption between
// the send and the delete is deduplicated by SQS (within its 5-minute window)
// instead of delivering twice.
//
// FIFO limits what any client can see of a DLQ: while messages of a group are
// in flight (received, not deleted), SQS returns no further message of that
// group. A listing therefore shows at most one receive batch (up to ten
// messages) of each group, and a selective redrive can reach a message only
// when everything ahead of it in its group is selected too. The reports say
// how many messages stayed out of reach.
package redrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/webhook"
)

// SQS is the part of the SQS API the tool uses.
type SQS interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	StartMessageMoveTask(ctx context.Context, in *sqs.StartMessageMoveTaskInput, optFns ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	ListMessageMoveTasks(ctx context.Context, in *sqs.ListMessageMoveTasksInput, optFns ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error)
	CancelMessageMoveTask(ctx context.Context, in *sqs.CancelMessageMoveTaskInput, optFns ...func(*sqs.Options)) (*sqs.CancelMessageMoveTaskOutput, error)
}

// Tool works on one source queue and its DLQ.
type Tool struct {
	SQS       SQS
	SourceURL string
	DLQURL    string
	// Progress receives one line per step of long operations; nil discards.
	Progress io.Writer
	// Hold is how long received DLQ messages stay invisible while the tool
	// works on them; they are released as soon as it is done.
	Hold time.Duration
	// EmptyReceives is how many empty receives in a row end a scan (SQS
	// samples servers, so one empty answer does not prove an empty queue).
	EmptyReceives int
}

// Scan is what a pass over the DLQ saw.
type Scan struct {
	// Messages are the messages the operation acted on (listed, moved,
	// purged or, with a dry run, would move), in DLQ order.
	Messages []Message
	// Seen counts every distinct message received.
	Seen int
	// Approximate is SQS's count of messages in the DLQ before the pass.
	Approximate int
	// Blocked counts selected messages that stayed in the DLQ because an
	// unselected message is ahead of them in their group.
	Blocked int
}

// Unreached is how many messages the DLQ held that the pass never received
// (hidden behind their group's in-flight messages, or in flight elsewhere).
func (s Scan) Unreached() int { return max(0, s.Approximate-s.Seen) }

// ErrEmptyDLQ is returned when the DLQ holds no message at all.
var ErrEmptyDLQ = errors.New("the dead-letter queue is empty")

// action is what a pass does with each selected, reachable message.
type action int

const (
	actList action = iota
	actDryRun
	actMove
	actPurge
)

// List returns the DLQ messages f selects (see the package comment for what
// FIFO lets a listing see). Nothing is moved or deleted.
func (t *Tool) List(ctx context.Context, f Filter) (Scan, error) { return t.pass(ctx, f, actList) }

// DryRun returns exactly the messages Move would move now, moving nothing.
func (t *Tool) DryRun(ctx context.Context, f Filter) (Scan, error) { return t.pass(ctx, f, actDryRun) }

// Move sends the selected messages back to the source queue, in group order,
// each deleted from the DLQ only after its send succeeded.
func (t *Tool) Move(ctx context.Context, f Filter) (Scan, error) { return t.pass(ctx, f, actMove) }

// Purge deletes the selected messages from the DLQ for good.
func (t *Tool) Purge(ctx context.Context, f Filter) (Scan, error) { return t.pass(ctx, f, actPurge) }

func (t *Tool) pass(ctx context.Context, f Filter, act action) (scan Scan, err error) {
	scan.Approximate, err = t.approximateCount(ctx, t.DLQURL)
	if err != nil {
		return scan, err
	}
	if scan.Approximate == 0 {
		return scan, ErrEmptyDLQ
	}
	var held []Message
	defer func() {
		// Release what we held even when ctx is done: the messages would come
		// back after Hold anyway, but sooner is better for whoever is next.
		if rerr := t.release(context.WithoutCancel(ctx), held); rerr != nil && err == nil {
			err = rerr
		}
	}()
	blocked := map[string]bool{}
	seen := map[string]bool{}
	empties := 0
	for empties < max(1, t.EmptyReceives) {
		out, err := t.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(t.DLQURL),
			MaxNumberOfMessages:         10,
			VisibilityTimeout:           int32(t.Hold / time.Second),
			WaitTimeSeconds:             1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return scan, fmt.Errorf("receive from the DLQ %s: %w", t.DLQURL, err)
		}
		if len(out.Messages) == 0 {
			empties++
			continue
		}
		empties = 0
		for _, raw := range out.Messages {
			m := parseMessage(raw)
			if !seen[m.MessageID] {
				seen[m.MessageID] = true
				scan.Seen++
			}
			selected := f.Match(m)
			switch {
			case !selected:
				blocked[m.Group] = true
				held = append(held, m)
			case blocked[m.Group]:
				scan.Blocked++
				held = append(held, m)
			case act == actList || act == actDryRun:
				scan.Messages = append(scan.Messages, m)
				held = append(held, m)
			default:
				if err := t.remove(ctx, m, act); err != nil {
					// Stop here: later messages of this group must not
					// overtake this one in the source queue.
					held = append(held, m)
					return scan, err
				}
				scan.Messages = append(scan.Messages, m)
				t.progress("%s %s (group %s, webhook %s) [%d done]", verb(act), m.MessageID, m.Group, m.WebhookID, len(scan.Messages))
			}
		}
	}
	return scan, nil
}

func verb(act action) string {
	if act == actPurge {
		return "purged"
	}
	return "moved"
}

// remove sends m to the source queue (unless purging), then deletes it from the DLQ.
func (t *Tool) remove(ctx context.Context, m Message, act action) error {
	if act == actMove {
		if _, err := t.SQS.SendMessage(ctx, redriveInput(t.SourceURL, m)); err != nil {
			return fmt.Errorf("send %s back to %s (it stays in the DLQ): %w", m.MessageID, t.SourceURL, err)
		}
	}
	_, err := t.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(t.DLQURL), ReceiptHandle: aws.String(m.ReceiptHandle)})
	if err != nil {
		if act == actMove {
			return fmt.Errorf("delete %s from the DLQ after sending it back (a rerun within 5 minutes is deduplicated): %w", m.MessageID, err)
		}
		return fmt.Errorf("delete %s from the DLQ: %w", m.MessageID, err)
	}
	return nil
}

// redriveInput is the source-queue copy of a DLQ message: same body, group
// and attributes, the failure record dropped, the redrive count raised, and a
// deduplication id that is the same for every attempt of this redrive.
func redriveInput(sourceURL string, m Message) *sqs.SendMessageInput {
	attrs := maps.Clone(m.Attributes)
	if attrs == nil {
		attrs = map[string]types.MessageAttributeValue{}
	}
	delete(attrs, webhook.AttrFailure)
	count := strconv.Itoa(m.RedriveCount + 1)
	attrs[webhook.AttrRedriveCount] = types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(count)}
	group := m.Group
	if group == "" {
		// A FIFO message always has a group; this only guards against a
		// malformed listing so the send fails with SQS's message, not ours.
		group = "redrive"
	}
	return &sqs.SendMessageInput{
		QueueUrl:               aws.String(sourceURL),
		MessageBody:            aws.String(m.Body),
		MessageGroupId:         aws.String(group),
		MessageDeduplicationId: aws.String(dedupID(m.MessageID, count)),
		MessageAttributes:      attrs,
	}
}

// dedupID is at most 128 characters of [A-Za-z0-9-_.] as SQS requires.
func dedupID(messageID, count string) string {
	id := "redrive-" + count + "-" + messageID
	if len(id) > 128 {
		id = id[:128]
	}
	return id
}

func (t *Tool) release(ctx context.Context, held []Message) error {
	var errs []error
	for _, m := range held {
		_, err := t.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(t.DLQURL), ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: 0,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("release %s (it reappears after %s): %w", m.MessageID, t.Hold, err))
		}
	}
	return errors.Join(errs...)
}

func (t *Tool) approximateCount(ctx context.Context, url string) (int, error) {
	out, err := t.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("read the attributes of %s: %w", url, err)
	}
	n := 0
	for _, k := range []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, _ := strconv.Atoi(out.Attributes[string(k)])
		n += v
	}
	return n, nil
}

func (t *Tool) progress(format string, args ...any) {
	if t.Progress != nil {
		fmt.Fprintf(t.Progress, format+"\n", args...)
	}
}
