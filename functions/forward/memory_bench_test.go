package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/webhook"
)

// benchRoutes is the forward function's config in BenchmarkBatchAtMemory:
// one route, no inbound verification, so every record becomes an execution.
const benchRoutes = `service: bench
region: us-east-1
target:
  base_url: https://app.example.com
routes:
  - name: orders
    path: /orders
    group: header:X-Order-Id
    target_path: /hooks/orders
    headers: [X-Order-Id, X-Event-Type]
    verify: {scheme: none, reason: the benchmark's batch is unsigned}
`

// TestBenchRoutesLoad keeps benchRoutes a config the forward function
// accepts: benchmarks are not part of the suite, and BenchmarkBatchAtMemory
// failed at the bootstrap's start once the loader began to require verify.
func TestBenchRoutesLoad(t *testing.T) {
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(routes, []byte(benchRoutes), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(routes); err != nil {
		t.Errorf("BenchmarkBatchAtMemory's routes.yaml: %v", err)
	}
}

// executionLatency is how long each Express execution of the benchmark
// takes: the cost model's target answering in 300 ms plus the workflow's
// own time (docs/generate.md).
const executionLatency = 400 * time.Millisecond

// BenchmarkBatchAtMemory measures the real forward bootstrap under the
// Lambda emulator, held to the CPU share of 128, 256 and 512 MB
// (lambdarie.StartAtMemory): one batch of 10 records of 10 message groups
// (so the forwarder runs their executions concurrently), each execution
// answering after executionLatency, over HTTPS with a certificate the
// function verifies against the system roots. ns/op is a warm batch;
// ms/first-batch includes the bootstrap's start and its first TLS
// handshakes; cpu-ms/batch (warm, from /proc, 10 ms resolution averaged)
// and peak-RSS-MB are the bootstrap's own. Run it with -benchtime=10x; docs/generate.md has the numbers.
func BenchmarkBatchAtMemory(b *testing.B) {
	bootstrap := lambdarie.Build(b, "./functions/forward")
	dir := b.TempDir()
	routes := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(routes, []byte(benchRoutes), 0o644); err != nil {
		b.Fatal(err)
	}
	batch := tenGroupBatch(b, 4<<10)
	for _, memory := range []int{128, 256, 512} {
		b.Run(fmt.Sprintf("%dMB", memory), func(b *testing.B) {
			states := slowStates(b, executionLatency)
			fn := lambdarie.StartAtMemory(b, bootstrap, map[string]string{
				"AWS_ENDPOINT_URL_SFN":           states.URL,
				"AWS_ENDPOINT_URL_SQS":           states.URL,
				"SSL_CERT_FILE":                  testenv.TrustedRoots(b, states.Certificate()),
				webhook.EnvConfig:                routes,
				webhook.EnvStateMachineARNPrefix: "arn:aws:states:us-east-1:123456789012:stateMachine:bench-",
			}, memory)
			fn.Bench(b, batch, "batch", checkAllSucceeded)
		})
	}
}

func checkAllSucceeded(tb testing.TB, answer []byte) {
	tb.Helper()
	if string(answer) != `{"batchItemFailures":[]}` {
		tb.Fatalf("batch answer %s, want no failures", answer)
	}
}

// slowStates is an HTTPS endpoint answering every StartSyncExecution with
// SUCCEEDED after latency, as a workflow whose target takes that long.
func slowStates(b *testing.B, latency time.Duration) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			StateMachineArn, Name, Input string
		}
		// Read to the end: a request body left unread makes the server close
		// the connection the SDK is about to reuse.
		raw, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Amz-Target") != "AWSStepFunctions.StartSyncExecution" || json.Unmarshal(raw, &req) != nil {
			http.Error(w, `{"__type":"UnknownOperationException"}`, http.StatusBadRequest)
			return
		}
		started := float64(time.Now().UnixMilli()) / 1000
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"executionArn":    strings.Replace(req.StateMachineArn, ":stateMachine:", ":express:", 1) + ":" + req.Name + ":0001",
			"stateMachineArn": req.StateMachineArn,
			"name":            req.Name,
			"startDate":       started,
			"stopDate":        float64(time.Now().UnixMilli()) / 1000,
			"status":          "SUCCEEDED",
			"input":           req.Input,
			"output":          `{"status":200}`,
		})
	}))
	b.Cleanup(srv.Close)
	return srv
}

// tenGroupBatch is an SQS event of 10 first receives of the orders route,
// one per message group, each with a bodyBytes JSON body.
func tenGroupBatch(b *testing.B, bodyBytes int) []byte {
	var ev events.SQSEvent
	str := func(v string) events.SQSMessageAttribute {
		return events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	for i := range 10 {
		group := "order-" + strconv.Itoa(i)
		body := `{"order":"` + group + `","pad":"` + strings.Repeat("x", bodyBytes-len(group)-20) + `"}`
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:     fmt.Sprintf("0000000%d-bench-4000-8000-000000000000", i),
			ReceiptHandle: "rh-" + group,
			Body:          body,
			Attributes: map[string]string{
				"ApproximateReceiveCount": "1",
				"MessageGroupId":          group,
				"SequenceNumber":          fmt.Sprintf("1888000000000000000%d", i),
				"SentTimestamp":           "1795856400000",
			},
			MessageAttributes: map[string]events.SQSMessageAttribute{
				webhook.AttrRoute:                       str("orders"),
				webhook.AttrWebhookID:                   str("wh-" + group),
				webhook.AttrReceivedAt:                  str("2026-12-06T09:00:00Z"),
				webhook.AttrHeaderPrefix + "X-Order-Id": str(group),
			},
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:bench.fifo",
			AWSRegion:      "us-east-1",
		})
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
