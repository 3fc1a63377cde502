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

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/lambda/secret"
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

// noopDLQ accepts every parked message.
type noopDLQ struct{}

func (noopDLQ) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return &sqs.SendMessageOutput{MessageId: aws.String("dlq-1")}, nil
}

// BenchmarkRejectForged is what a forged webhook costs the forwarder: parse,
// verify (an HMAC over a 1 KiB body, the secret cached), refuse, log, park
// (a no-op send: the SQS call's own latency is not the forwarder's) and
// count, for a batch of 10 forged records of one route.
func BenchmarkRejectForged(b *testing.B) {
	body := `{"event":"approval.step","request":{"id":"R-1","step":3},"pad":"` + strings.Repeat("x", 900) + `"}`
	cfg := verifyConfig()
	env := secretsFor(cfg, goodSecret)
	fwd, err := forwarder.New(&forwarder.Config{
		Routes:                cfg,
		StateMachineARNPrefix: arnPrefix,
		QueueURL:              testQueue,
		Starter:               noopStarter{},
		Queue:                 noopQueue{},
		DLQURL:                testDLQ,
		DeadLetters:           noopDLQ{},
		Secrets:               &secret.Resolver{LookupEnv: env.lookup},
		Metrics:               discardEMF(b, cfg),
		Logger:                slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	const n = 10
	var records []events.SQSMessage
	for i := range n {
		records = append(records, signedRecord(fmt.Sprint(i), hmacRoute, 1, body, sign(hmacRoute, otherSecret, body, received)))
	}
	ev := events.SQSEvent{Records: records}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if resp, _ := fwd.Handle(ctx, ev); len(resp.BatchItemFailures) != 0 {
			b.Fatalf("failures: %v", resp.BatchItemFailures)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n)/1e3, "µs/record")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() { _, _ = fwd.Handle(ctx, ev) }))/n, "allocs/record")
}

// discardEMF is the EMF recorder writing nowhere: its encoding is part of
// the cost.
func discardEMF(b *testing.B, cfg *config.Config) *metrics.EMF {
	b.Helper()
	emf, err := metrics.NewEMF(io.Discard, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	return emf
}
