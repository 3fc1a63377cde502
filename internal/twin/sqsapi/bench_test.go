package sqsapi

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// The HTTP benchmarks measure what an AWS SDK v2 client sees: SigV4 signing,
// JSON over loopback HTTP, and the durable store underneath.

func benchQueue(b *testing.B) (*sqs.Client, string) {
	b.Helper()
	c := client(startServer(b))
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("bench.fifo"),
		Attributes: map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}})
	if err != nil {
		b.Fatal(err)
	}
	return c, aws.ToString(out.QueueUrl)
}

var benchBody = strings.Repeat("x", 1000)

func sendOne(b *testing.B, c *sqs.Client, url string, n int64) {
	_, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url,
		MessageBody: aws.String(fmt.Sprint(n, benchBody)), MessageGroupId: aws.String(fmt.Sprint("g", n%100))})
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkHTTPSendMessage(b *testing.B) {
	c, url := benchQueue(b)
	var n int64
	for b.Loop() {
		n++
		sendOne(b, c, url, n)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkHTTPSendMessage16(b *testing.B) {
	c, url := benchQueue(b)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range 16 {
		wg.Go(func() {
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				sendOne(b, c, url, n)
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkHTTPReceiveDelete: ReceiveMessage(10) + DeleteMessageBatch.
func BenchmarkHTTPReceiveDelete(b *testing.B) {
	c, url := benchQueue(b)
	ctx := context.Background()
	for i := 0; i < b.N; i += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for j := i; j < min(i+10, b.N); j++ {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("e", j)),
				MessageBody: aws.String(fmt.Sprint(j, benchBody)), MessageGroupId: aws.String(fmt.Sprint("g", j%100))})
		}
		if out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries}); err != nil || len(out.Failed) > 0 {
			b.Fatal(err, out)
		}
	}
	b.ResetTimer()
	for done := 0; done < b.N; {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Messages) == 0 {
			b.Fatalf("queue ran dry after %d of %d", done, b.N)
		}
		entries := make([]types.DeleteMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle}
		}
		if del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: entries}); err != nil || len(del.Failed) > 0 {
			b.Fatal(err, del)
		}
		done += len(out.Messages)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
