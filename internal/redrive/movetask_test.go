package redrive

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// runawayTask is an SQS whose move task goes on past the number of messages
// it started with, as a task moving messages parked again during it would;
// whether SQS's tasks do is not documented.
type runawayTask struct {
	SQS
	polls     atomic.Int32
	cancelled atomic.Bool
}

func (f *runawayTask) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{
		"ApproximateNumberOfMessages": "3", "ApproximateNumberOfMessagesNotVisible": "0", "QueueArn": "arn:aws:sqs:us-east-1:0:" + aws.ToString(in.QueueUrl),
	}}, nil
}

func (f *runawayTask) StartMessageMoveTask(context.Context, *sqs.StartMessageMoveTaskInput, ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error) {
	return &sqs.StartMessageMoveTaskOutput{TaskHandle: aws.String("task-1")}, nil
}

func (f *runawayTask) ListMessageMoveTasks(context.Context, *sqs.ListMessageMoveTasksInput, ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error) {
	moved := int64(2 * f.polls.Add(1)) // 2, 4, 6, …: past the 3 it started with on the second poll
	return &sqs.ListMessageMoveTasksOutput{Results: []types.ListMessageMoveTasksResultEntry{{
		TaskHandle: aws.String("task-1"), Status: aws.String("RUNNING"), ApproximateNumberOfMessagesMoved: moved, ApproximateNumberOfMessagesToMove: aws.Int64(3),
	}}}, nil
}

func (f *runawayTask) CancelMessageMoveTask(context.Context, *sqs.CancelMessageMoveTaskInput, ...func(*sqs.Options)) (*sqs.CancelMessageMoveTaskOutput, error) {
	f.cancelled.Store(true)
	return &sqs.CancelMessageMoveTaskOutput{}, nil
}

func TestMoveAllCancelsATaskThatOutgrowsItsStart(t *testing.T) {
	t.Parallel()
	fake := &runawayTask{}
	tool := &Tool{SQS: fake, SourceURL: "src", DLQURL: "dlq", Hold: time.Second}
	task, err := tool.MoveAll(context.Background(), 0, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !fake.cancelled.Load() || task.Status != "CANCELLED" || fake.polls.Load() != 2 {
		t.Fatalf("task %+v after %d polls, cancelled %v; want cancelled at the second poll (4 moved of 3)", task, fake.polls.Load(), fake.cancelled.Load())
	}
}
