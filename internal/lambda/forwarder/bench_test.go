package forwarder_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/webhook"
)

// noopStarter succeeds at once: what is left is the forwarder's own work.
type noopStarter struct{ out *sfn.StartSyncExecutionOutput }

func (s noopStarter) StartSyncExecution(context.Context, *sfn.StartSyncExecutionInput, ...func(*sfn.Options)) (*sfn.StartSyncExecutionOutput, error) {
	return s.out, nil
}

type noopQueue struct{}

func (noopQueue) ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// BenchmarkHandle is the forwarder's overhead per batch with a no-op starter:
// parsing, the envelope, its JSON, and the JSON log line, for batches of 1
// and 10 records (10 records in 4 message groups, 1 KiB JSON bodies).
func BenchmarkHandle(b *testing.B) {
	body := `{"event":"approval.step","request":{"id":"R-1","step":3},"pad":"` + strings.Repeat("x", 900) + `"}`
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			fwd, err := forwarder.New(&forwarder.Config{
				Routes:                testConfig(),
				StateMachineARNPrefix: arnPrefix,
				QueueURL:              testQueue,
				Starter: noopStarter{&sfn.StartSyncExecutionOutput{
					ExecutionArn: aws.String("arn:aws:states:ap-northeast-1:123456789012:express:sales-approvals-approval-progress:x:y"),
					Status:       sfntypes.SyncExecutionStatusSucceeded,
				}},
				Queue:  noopQueue{},
				Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
			})
			if err != nil {
				b.Fatal(err)
			}
			var records []events.SQSMessage
			for i := range n {
				r := record(fmt.Sprint(i), fmt.Sprint("g", i%4), "approval-progress", 1, body)
				r.MessageAttributes[webhook.AttrHeaderPrefix+"X-Event-Type"] = strAttr("approval.step")
				records = append(records, r)
			}
			ev := events.SQSEvent{Records: records}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				resp, _ := fwd.Handle(ctx, ev)
				if len(resp.BatchItemFailures) != 0 {
					b.Fatalf("failures: %v", resp.BatchItemFailures)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}
