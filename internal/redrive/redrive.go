// Package redrive inspects webhookq's dead-letter queue and sends messages back
// to the source queue, safely:
//
//   - A run moves a snapshot, once: only what the DLQ held when it started,
//     each message at most once, so a webhook that fails again at once is
//     parked again and stays there instead of cycling (see snapshot). Every
//     run ends and reports what it moved and what it skipped, and why (Skips).
//   - The redrive count (webhook.AttrRedriveCount) is raised on every copy
//     sent back; Tool.MaxRedrives refuses a message that reached it.
//   - A message is deleted from the DLQ only after its copy was accepted by
//     the source queue, and the copy's deduplication id is derived from the
//     DLQ message, so a rerun after a crash between the send and the delete
//     is deduplicated by SQS (within its 5-minute window) instead of
//     delivering twice. Cancelling the context (Ctrl-C) never splits a send
//     from its delete: the message in hand is finished, nothing more is
//     started, and everything received is released.
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
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

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
	// EmptyReceives is how many receives in a row that bring nothing new to
	// act on end a pass (SQS samples servers, so one empty answer does not
	// prove an empty queue).
	EmptyReceives int
	// MaxRedrives refuses to move a message already redriven this many times
	// (SkipMaxRedrives); 0 moves any.
	MaxRedrives int
}

// DefaultMaxRedrives is cmd/redrive's --max-redrives and the twin page's
// limit: a webhook that failed again after this many redrives needs a look,
// not another redrive.
const DefaultMaxRedrives = 3

// sqsCallTimeout bounds each call that runs detached from the caller's
// context: the send and delete of a message in hand, the releases.
const sqsCallTimeout = 30 * time.Second

// Scan is what a pass over the DLQ saw.
type Scan struct {
	// Messages are the messages the operation acted on (listed, moved,
	// purged or, with a dry run, would move), in DLQ order.
	Messages []Message
	// Skipped are the selected messages left in the DLQ (or, with a dry run,
	// that would be), and why.
	Skipped []Skipped
	// Seen counts every distinct message received.
	Seen int
	// Approximate is SQS's count of messages in the DLQ before the pass.
	Approximate int
}

// Unreached is how many messages the DLQ held that the pass never received
// (hidden behind their group's in-flight messages, or in flight elsewhere).
func (s Scan) Unreached() int { return max(0, s.Approximate-s.Seen) }

// SkippedFor counts the messages skipped for why.
func (s Scan) SkippedFor(why Skip) int {
	n := 0
	for _, k := range s.Skipped {
		if k.Why == why {
			n++
		}
	}
	return n
}

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

// DryRun returns exactly the messages Move would move now, and the ones it
// would skip, moving nothing.
func (t *Tool) DryRun(ctx context.Context, f Filter) (Scan, error) { return t.pass(ctx, f, actDryRun) }

// Move sends the selected messages the DLQ holds now back to the source
// queue, in group order, each deleted from the DLQ only after its send
// succeeded, each at most once.
func (t *Tool) Move(ctx context.Context, f Filter) (Scan, error) { return t.pass(ctx, f, actMove) }

// Purge deletes the selected messages the DLQ holds now for good.
func (t *Tool) Purge(ctx context.Context, f Filter) (Scan, error) { return t.pass(ctx, f, actPurge) }

func (t *Tool) pass(ctx context.Context, f Filter, act action) (scan Scan, err error) {
	var serverNow time.Time
	scan.Approximate, serverNow, err = t.approximateCount(ctx, t.DLQURL)
	if err != nil {
		return scan, err
	}
	if scan.Approximate == 0 {
		return scan, ErrEmptyDLQ
	}
	snap := newSnapshot(serverNow)
	// Passes that act, and the dry run that predicts one, keep to the
	// snapshot; a listing shows whatever it sees.
	snapshotted := act != actList
	var held []Message
	defer func() {
		// Release what we held even when ctx is done: the messages would come
		// back after Hold anyway, but sooner is better for whoever is next.
		if rerr := t.release(context.WithoutCancel(ctx), held); rerr != nil && err == nil {
			err = rerr
		}
	}()
	// blocked marks the groups the pass stopped at: nothing behind the first
	// message it did not act on may overtake it.
	blocked := map[string]bool{}
	seen := map[string]bool{}
	skip := func(m Message, why Skip) {
		blocked[m.Group] = true
		held = append(held, m)
		scan.Skipped = append(scan.Skipped, Skipped{Message: m, Why: why})
	}
	for empties := 0; empties < max(1, t.EmptyReceives); {
		if err := ctx.Err(); err != nil {
			return scan, err
		}
		// Not cancelled with ctx: a receive cut short could leave the
		// messages SQS already handed out invisible for Hold.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sqsCallTimeout)
		out, err := t.SQS.ReceiveMessage(rctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(t.DLQURL),
			MaxNumberOfMessages:         10,
			VisibilityTimeout:           int32(t.Hold / time.Second),
			WaitTimeSeconds:             1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		cancel()
		if err != nil {
			return scan, fmt.Errorf("receive from the DLQ %s: %w", t.DLQURL, err)
		}
		progress := false
		for _, raw := range out.Messages {
			m := ParseMessage(raw)
			switch {
			case seen[m.MessageID] || ctx.Err() != nil:
				// Received again after Hold ran out (it was not acted on the
				// first time), or the run was interrupted: leave it.
				held = append(held, m)
				continue
			case snapshotted && snap.ownCopy(m):
				seen[m.MessageID] = true
				skip(m, SkipParkedAgain)
				continue
			case snapshotted && snap.arrivedDuringRun(m):
				seen[m.MessageID] = true
				if f.Match(m) {
					skip(m, SkipArrived)
				} else {
					blocked[m.Group] = true
					held = append(held, m)
				}
				continue
			}
			seen[m.MessageID] = true
			scan.Seen++
			progress = true
			switch {
			case !f.Match(m):
				blocked[m.Group] = true
				held = append(held, m)
			case blocked[m.Group]:
				skip(m, SkipBehind)
			case act == actList:
				scan.Messages = append(scan.Messages, m)
				held = append(held, m)
			case (act == actMove || act == actDryRun) && t.MaxRedrives > 0 && m.RedriveCount >= t.MaxRedrives:
				skip(m, SkipMaxRedrives)
			case act == actDryRun:
				scan.Messages = append(scan.Messages, m)
				held = append(held, m)
			default:
				if err := t.remove(ctx, m, act, snap); err != nil {
					// Stop here: later messages of this group must not
					// overtake this one in the source queue.
					held = append(held, m)
					return scan, err
				}
				scan.Messages = append(scan.Messages, m)
				t.progress("%s %s (group %s, webhook %s) [%d done]", verb(act), m.MessageID, m.Group, m.WebhookID, len(scan.Messages))
			}
		}
		if progress {
			empties = 0
		} else {
			empties++
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

// remove sends m to the source queue (unless purging), then deletes it from
// the DLQ. Both calls run to completion even when ctx is cancelled: an
// interrupt between them would leave the webhook in both queues.
func (t *Tool) remove(ctx context.Context, m Message, act action, snap *snapshot) error {
	ctx = context.WithoutCancel(ctx)
	if act == actMove {
		in := redriveInput(t.SourceURL, m)
		sctx, cancel := context.WithTimeout(ctx, sqsCallTimeout)
		_, err := t.SQS.SendMessage(sctx, in)
		cancel()
		if err != nil {
			return fmt.Errorf("send %s back to %s (it stays in the DLQ): %w", m.MessageID, t.SourceURL, err)
		}
		snap.sent(m, m.RedriveCount+1)
	}
	dctx, cancel := context.WithTimeout(ctx, sqsCallTimeout)
	defer cancel()
	_, err := t.SQS.DeleteMessage(dctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(t.DLQURL), ReceiptHandle: aws.String(m.ReceiptHandle)})
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

// release makes the held messages visible again. A message no longer in
// flight (Hold ran out, and it may have been received again since) needs
// nothing.
func (t *Tool) release(ctx context.Context, held []Message) error {
	var errs []error
	for _, m := range held {
		cctx, cancel := context.WithTimeout(ctx, sqsCallTimeout)
		_, err := t.SQS.ChangeMessageVisibility(cctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(t.DLQURL), ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: 0,
		})
		cancel()
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "MessageNotInflight" || apiErr.ErrorCode() == "AWS.SimpleQueueService.MessageNotInflight") {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("release %s (it reappears after %s): %w", m.MessageID, t.Hold, err))
		}
	}
	return errors.Join(errs...)
}

// approximateCount is SQS's count of the queue's messages, and the server's
// clock when it answered (its Date header; the local clock if it sent none).
func (t *Tool) approximateCount(ctx context.Context, url string) (int, time.Time, error) {
	out, err := t.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read the attributes of %s: %w", url, err)
	}
	n := 0
	for _, k := range []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, _ := strconv.Atoi(out.Attributes[string(k)])
		n += v
	}
	now, ok := awsmiddleware.GetServerTime(out.ResultMetadata)
	if !ok {
		now = time.Now()
	}
	return n, now, nil
}

func (t *Tool) progress(format string, args ...any) {
	if t.Progress != nil {
		fmt.Fprintf(t.Progress, format+"\n", args...)
	}
}
