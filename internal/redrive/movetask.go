package redrive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// MoveTask is the state of an SQS message move task.
type MoveTask struct {
	Handle string
	Status string // RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED
	Moved  int64
	ToMove int64
	Reason string
}

// ErrMoveTaskUnsupported means the endpoint does not implement SQS message move
// tasks (moto 5.2.1 does not); Move with an empty filter does the same job
// client-side.
var ErrMoveTaskUnsupported = errors.New("the endpoint does not support SQS message move tasks")

// MoveAll starts an SQS message move task from the DLQ back to the source
// queue at rate messages per second (0: SQS's own pace), reports progress every
// poll, and waits for it to end. When ctx is cancelled the task is cancelled
// (messages already moved stay moved). An empty DLQ is ErrEmptyDLQ, as for
// the other operations.
//
// A move task moves messages as they are: attributes unchanged (the failure
// record stays; the forwarder raises the redrive count when it parks such a
// message again), every message, so Tool.MaxRedrives cannot apply. It moves a
// snapshot too: SQS fixes ApproximateNumberOfMessagesToMove when the task
// starts, and should a task go on past that number — moving messages that
// reached the DLQ after it started, such as the ones it moved and the
// forwarder parked again — MoveAll cancels it.
func (t *Tool) MoveAll(ctx context.Context, rate int32, poll time.Duration) (MoveTask, error) {
	n, _, err := t.approximateCount(ctx, t.DLQURL)
	if err != nil {
		return MoveTask{}, err
	}
	if n == 0 {
		return MoveTask{}, ErrEmptyDLQ
	}
	dlqARN, err := t.queueARN(ctx, t.DLQURL)
	if err != nil {
		return MoveTask{}, err
	}
	srcARN, err := t.queueARN(ctx, t.SourceURL)
	if err != nil {
		return MoveTask{}, err
	}
	in := &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN), DestinationArn: aws.String(srcARN)}
	if rate > 0 {
		in.MaxNumberOfMessagesPerSecond = aws.Int32(rate)
	}
	out, err := t.SQS.StartMessageMoveTask(ctx, in)
	if err != nil {
		if unsupported(err) {
			return MoveTask{}, fmt.Errorf("%w: %v", ErrMoveTaskUnsupported, err)
		}
		return MoveTask{}, fmt.Errorf("start a message move task from %s: %w", dlqARN, err)
	}
	task := MoveTask{Handle: aws.ToString(out.TaskHandle), Status: "RUNNING"}
	t.progress("move task %s started: %s → %s", task.Handle, dlqARN, srcARN)
	cancelTask := func() error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sqsCallTimeout)
		defer cancel()
		_, err := t.SQS.CancelMessageMoveTask(cctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: aws.String(task.Handle)})
		return err
	}
	for {
		select {
		case <-ctx.Done():
			if cerr := cancelTask(); cerr != nil {
				return task, fmt.Errorf("interrupted; cancelling move task %s failed: %w", task.Handle, cerr)
			}
			t.progress("move task %s cancelled after %d messages", task.Handle, task.Moved)
			return task, ctx.Err()
		case <-time.After(poll):
		}
		cur, err := t.moveTask(ctx, dlqARN, task.Handle)
		if err != nil {
			return task, err
		}
		task = cur
		t.progress("move task %s: %s, %d of %d moved", task.Handle, task.Status, task.Moved, task.ToMove)
		switch task.Status {
		case "COMPLETED":
			return task, nil
		case "FAILED", "CANCELLED":
			return task, fmt.Errorf("move task %s %s: %s", task.Handle, task.Status, task.Reason)
		case "RUNNING":
			if task.ToMove > 0 && task.Moved > task.ToMove {
				if cerr := cancelTask(); cerr != nil {
					return task, fmt.Errorf("move task %s moved %d messages of the %d the DLQ held when it started; cancelling it failed: %w", task.Handle, task.Moved, task.ToMove, cerr)
				}
				t.progress("move task %s cancelled: it moved %d messages, more than the %d the DLQ held when it started", task.Handle, task.Moved, task.ToMove)
				task.Status = "CANCELLED"
				return task, nil
			}
		}
	}
}

func (t *Tool) moveTask(ctx context.Context, dlqARN, handle string) (MoveTask, error) {
	out, err := t.SQS.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlqARN), MaxResults: aws.Int32(10)})
	if err != nil {
		return MoveTask{}, fmt.Errorf("list message move tasks of %s: %w", dlqARN, err)
	}
	for _, r := range out.Results {
		if aws.ToString(r.TaskHandle) == handle || (r.TaskHandle == nil && len(out.Results) == 1) {
			return MoveTask{
				Handle: handle,
				Status: aws.ToString(r.Status),
				Moved:  r.ApproximateNumberOfMessagesMoved,
				ToMove: aws.ToInt64(r.ApproximateNumberOfMessagesToMove),
				Reason: aws.ToString(r.FailureReason),
			}, nil
		}
	}
	// SQS lists only the running task with its handle; a finished one may be
	// listed without it, newest first.
	if len(out.Results) > 0 {
		r := out.Results[0]
		return MoveTask{Handle: handle, Status: aws.ToString(r.Status), Moved: r.ApproximateNumberOfMessagesMoved,
			ToMove: aws.ToInt64(r.ApproximateNumberOfMessagesToMove), Reason: aws.ToString(r.FailureReason)}, nil
	}
	return MoveTask{}, fmt.Errorf("move task %s is not listed for %s", handle, dlqARN)
}

func (t *Tool) queueARN(ctx context.Context, url string) (string, error) {
	out, err := t.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("read the ARN of %s: %w", url, err)
	}
	arn := out.Attributes[string(types.QueueAttributeNameQueueArn)]
	if arn == "" {
		return "", fmt.Errorf("%s reported no QueueArn", url)
	}
	return arn, nil
}

// unsupported recognises an endpoint that does not know the operation: an AWS
// error saying so, or a server error that is not even in AWS's error shape
// (moto answers an HTML 500 for operations it does not implement).
func unsupported(err error) bool {
	var de *smithy.DeserializationError
	var re *smithyhttp.ResponseError
	if errors.As(err, &de) && errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "InvalidAction", "UnknownOperationException", "UnsupportedOperation", "NotImplemented":
		return true
	}
	return false
}
