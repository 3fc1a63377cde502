package redrive_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/redrive"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/twin/sqsapi"
	"github.com/webhookq/webhookq/internal/webhook"
)

// BenchmarkMove is one client-side redrive of a DLQ holding 1,000 webhooks in
// 40 groups (the size issue 15's interrupt test uses) against the local
// twin's SQS endpoint: the run cmd/redrive and the twin's page make, from the
// first receive to the two empty receives that end it. Each message costs a
// share of a receive, a SendMessage and a DeleteMessage, each a signed HTTP
// call to the durable store; on AWS each of them is a network round trip.
func BenchmarkMove(b *testing.B) {
	const total, groups = 1000, 40
	store, err := fifo.Open(filepath.Join(b.TempDir(), "twin.db"), fifo.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(sqsapi.New(store, ""))
	b.Cleanup(srv.Close)
	client := sqs.NewFromConfig(testenv.AWSConfig(srv.URL, "us-east-1"))
	ctx := context.Background()
	queue := func(name string) string {
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{"FifoQueue": "true"}})
		if err != nil {
			b.Fatal(err)
		}
		return aws.ToString(out.QueueUrl)
	}
	dlq, source := queue("bench-dlq.fifo"), queue("bench.fifo")
	tool := &redrive.Tool{SQS: client, SourceURL: source, DLQURL: dlq, Hold: 30 * time.Second, EmptyReceives: 2}

	for run := 0; run < b.N; run++ {
		b.StopTimer()
		for batch := 0; batch < total/10; batch++ {
			var entries []types.SendMessageBatchRequestEntry
			for i := batch * 10; i < batch*10+10; i++ {
				id := fmt.Sprintf("r%d-w%04d", run, i)
				entries = append(entries, types.SendMessageBatchRequestEntry{
					Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(id), MessageGroupId: aws.String(fmt.Sprintf("g%02d", i%groups)),
					MessageDeduplicationId: aws.String(id),
					MessageAttributes:      map[string]types.MessageAttributeValue{webhook.AttrWebhookID: {DataType: aws.String("String"), StringValue: aws.String(id)}},
				})
			}
			if out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(dlq), Entries: entries}); err != nil || len(out.Failed) > 0 {
				b.Fatalf("park: %v %+v", err, out)
			}
		}
		b.StartTimer()
		scan, err := tool.Move(ctx, redrive.Filter{})
		if err != nil || len(scan.Messages) != total {
			b.Fatalf("run %d moved %d of %d: %v", run, len(scan.Messages), total, err)
		}
	}
	b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "msgs/s")
}
