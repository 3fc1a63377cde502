package generate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate"
	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
	"github.com/webhookq/webhookq/internal/webhook"
)

// The measurement tests re-measure the cost model's log volumes (measured.go)
// from the real things and fail when the committed numbers are stale,
// printing the ones to commit. Byte counts may move by a few bytes between
// runs (timestamps, durations and ids in the lines), so they are compared
// within a tolerance; event counts exactly.
const (
	bytesTolerance = 0.02
	slopeTolerance = 0.05
)

// webhookBody is a JSON webhook of exactly n bytes, shaped like an order
// event (many short quoted strings, as real events are), so its escaping in
// the logs is typical.
func webhookBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"id":"evt_0001","type":"order.updated","data":{"items":[`)
	for i := 0; b.Len() < n-80; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%04d","qty":%d,"note":"fragile"}`, i, i%5+1)
	}
	b.WriteString(`]},"pad":"`)
	b.WriteString(strings.Repeat("x", n-b.Len()-len(`"}`)))
	b.WriteString(`"}`)
	return []byte(b.String())
}

// TestExecutionLogBytes runs the minimal golden config through the local
// twin, posting two webhooks of different sizes through its ingress, reads
// the executions from the twin's history, renders them as the CloudWatch
// Logs records Step Functions writes at each level (with and without
// execution data) and checks executionLogs in measured.go against them.
func TestExecutionLogBytes(t *testing.T) {
	cfg := loadMinimal(t)
	route := cfg.Routes[0]
	workflows := writeWorkflows(t, cfg)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"received":true}`)
	}))
	t.Cleanup(target.Close)
	tw, err := twin.Start(twin.Options{
		Config: cfg, WorkflowsDir: workflows, DataPath: filepath.Join(t.TempDir(), "twin.db"),
		Addr: "127.0.0.1:0", TargetOverride: target.URL, Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = tw.Shutdown(ctx)
	})

	small, big := 1<<10, generate.ExecutionLogBodyBytes
	for _, n := range []int{small, big} {
		resp, err := http.Post(tw.IngressURL+cfg.IngressPath(route), "application/json", strings.NewReader(string(webhookBody(n))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("ingress answered %d", resp.StatusCode)
		}
	}
	byBody := map[int]*statemachine.Execution{}
	deadline := time.Now().Add(60 * time.Second)
	for len(byBody) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the twin ran %d of the 2 executions within a minute", len(byBody))
		}
		time.Sleep(100 * time.Millisecond)
		list, err := tw.History().List(context.Background(), statemachine.Filter{Route: route.Name, Status: statemachine.StatusSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			full, err := tw.History().Get(context.Background(), e.ARN)
			if err != nil {
				t.Fatal(err)
			}
			var env webhook.Envelope
			if err := json.Unmarshal(full.Input, &env); err != nil {
				t.Fatal(err)
			}
			raw, err := env.RawBody()
			if err != nil {
				t.Fatal(err)
			}
			byBody[len(raw)] = full
		}
	}
	ref := byBody[big]
	if len(ref.ARN) != generate.ExecutionLogARNBytes || len(generate.ExecutionARN(cfg, route)) != len(ref.ARN) {
		t.Errorf("execution ARN %s has %d bytes; the model assumes %d (executionLogARNBytes) and names %d (executionARN)",
			ref.ARN, len(ref.ARN), generate.ExecutionLogARNBytes, len(generate.ExecutionARN(cfg, route)))
	}

	role := "arn:aws:iam::123456789012:role/" + cfg.StateMachineName(route) + "-sfn"
	measure := func(e *statemachine.Execution, key generate.ExecutionLogKey) generate.LogVolume {
		var v generate.LogVolume
		for _, rec := range e.LogRecords(key.Level, key.WithData, role) {
			v.Events++
			v.Bytes += len(rec)
		}
		return v
	}
	got := map[generate.ExecutionLogKey]generate.ExecutionLog{}
	stale := false
	for _, level := range []config.LogLevel{config.LogAll, config.LogError, config.LogFatal, config.LogOff} {
		for _, data := range []bool{false, true} {
			key := generate.ExecutionLogKey{Level: level, WithData: data}
			s, b := measure(byBody[small], key), measure(ref, key)
			m := generate.ExecutionLog{Log: b, BytesPerBodyByte: float64(b.Bytes-s.Bytes) / float64(big-small)}
			if m.Log.Events > 0 {
				got[key] = m
			}
			want := generate.ExecutionLogs[key]
			if m.Log.Events != want.Log.Events || !near(float64(m.Log.Bytes), float64(want.Log.Bytes), bytesTolerance) ||
				math.Abs(m.BytesPerBodyByte-want.BytesPerBodyByte) > slopeTolerance*max(1, want.BytesPerBodyByte) {
				t.Errorf("level %s, execution data %v: measured %+v, measured.go says %+v", level, data, m, want)
				stale = true
			}
		}
	}
	if stale {
		t.Logf("measured; commit as executionLogs in internal/generate/measured.go:\n%s", executionLogsLiteral(got))
	}
}

func executionLogsLiteral(m map[generate.ExecutionLogKey]generate.ExecutionLog) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, fmt.Sprintf("\t{config.Log%s, %v}: {Log: logVolume{Events: %d, Bytes: %d}, BytesPerBodyByte: %.2f},",
			levelName(k.Level), k.WithData, v.Log.Events, v.Log.Bytes, v.BytesPerBodyByte))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func levelName(l config.LogLevel) string {
	return strings.ToUpper(string(l[:1])) + strings.ToLower(string(l[1:]))
}

// TestLambdaLogBytes runs the real forward and deliver bootstraps under the
// Lambda emulator and checks lambdaLog in measured.go against what a warm
// invocation prints, from its START line to its REPORT line: forward with a
// batch of 1 and of 10 successful records (the difference is per record),
// deliver with one successful 4 KiB delivery.
func TestLambdaLogBytes(t *testing.T) {
	cfg := loadMinimal(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"received":true}`)
	}))
	t.Cleanup(target.Close)
	states := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read to the end: a request body left unread makes the server close
		// the connection the SDK is about to reuse.
		raw, _ := io.ReadAll(r.Body)
		var req struct{ StateMachineArn, Name, Input string }
		if err := json.Unmarshal(raw, &req); err != nil {
			http.Error(w, `{"__type":"SerializationException"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		now := float64(time.Now().UnixMilli()) / 1000
		_ = json.NewEncoder(w).Encode(map[string]any{
			"executionArn":    strings.Replace(req.StateMachineArn, ":stateMachine:", ":express:", 1) + ":" + req.Name + ":00000000-0000-0000-0000-000000000000",
			"stateMachineArn": req.StateMachineArn, "name": req.Name, "startDate": now, "stopDate": now,
			"status": "SUCCEEDED", "input": req.Input, "output": `{"status":200}`,
		})
	}))
	t.Cleanup(states.Close)
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	yaml, err := os.ReadFile(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	// The minimal config, delivering to the local target.
	yaml = []byte(strings.Replace(string(yaml), "https://app.example.com", target.URL, 1))
	if err := os.WriteFile(routes, yaml, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		webhook.EnvConfig:                 routes,
		"AWS_ENDPOINT_URL_SFN":            states.URL,
		"AWS_ENDPOINT_URL_SQS":            states.URL,
		webhook.EnvStateMachineARNPrefix:  "arn:aws:states:us-east-1:123456789012:stateMachine:minimal-",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
	}
	route := cfg.Routes[0].Name
	body := webhookBody(4 << 10)

	forward := lambdarie.Start(t, "./functions/forward", env)
	one, ten := sqsBatch(t, route, body, 1), sqsBatch(t, route, body, 10)
	forward.Invoke(t, one) // cold: the bootstrap starts
	b1 := invocationLog(t, forward, one)
	b10 := invocationLog(t, forward, ten)
	perRecord := generate.LogVolume{Events: (b10.Events - b1.Events) / 9, Bytes: (b10.Bytes - b1.Bytes) / 9}
	perInvocation := generate.LogVolume{Events: b1.Events - perRecord.Events, Bytes: b1.Bytes - perRecord.Bytes}
	checkLambdaLog(t, "forward", perInvocation, perRecord)

	deliver := lambdarie.Start(t, "./functions/deliver", env)
	env2 := webhook.Envelope{WebhookID: "wh-1", Route: route, Group: "orders", MessageID: "00000000-0000-4000-8000-000000000000", ReceiveCount: 1, Headers: map[string]string{}}
	env2.EncodeBody(body)
	ev, err := json.Marshal(webhook.DeliverRequest{Webhook: env2})
	if err != nil {
		t.Fatal(err)
	}
	deliver.Invoke(t, ev)
	checkLambdaLog(t, "deliver", invocationLog(t, deliver, ev), generate.LogVolume{})
}

func checkLambdaLog(t *testing.T, fn string, perInvocation, perRecord generate.LogVolume) {
	t.Helper()
	want := generate.LambdaLog[fn]
	if perInvocation.Events != want.PerInvocation.Events || perRecord.Events != want.PerRecord.Events ||
		!near(float64(perInvocation.Bytes), float64(want.PerInvocation.Bytes), bytesTolerance) ||
		!near(float64(perRecord.Bytes), float64(want.PerRecord.Bytes), bytesTolerance) {
		t.Errorf("%s logs %+v per invocation and %+v per record; measured.go says %+v and %+v; commit\n\t%q: {PerInvocation: logVolume{Events: %d, Bytes: %d}, PerRecord: logVolume{Events: %d, Bytes: %d}},",
			fn, perInvocation, perRecord, want.PerInvocation, want.PerRecord,
			fn, perInvocation.Events, perInvocation.Bytes, perRecord.Events, perRecord.Bytes)
	}
}

// invocationLog invokes fn with event, checks that it succeeded, and returns
// the lines it printed for that invocation, START to REPORT.
func invocationLog(t *testing.T, fn *lambdarie.Function, event []byte) generate.LogVolume {
	t.Helper()
	before := strings.Count(fn.Logs(), "START RequestId: ")
	answer := string(fn.Invoke(t, event))
	if strings.Contains(answer, "errorType") || strings.Contains(answer, "itemIdentifier") {
		t.Fatalf("invocation failed: %s\n%s", answer, fn.Logs())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := strings.Split(fn.Logs(), "\n")
		var v generate.LogVolume
		started, starts := false, 0
		for _, line := range lines {
			if strings.HasPrefix(line, "START RequestId: ") {
				starts++
				started = starts == before+1
			}
			if !started {
				continue
			}
			v.Events++
			v.Bytes += len(line)
			if strings.HasPrefix(line, "REPORT RequestId: ") {
				return v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no REPORT line for invocation %d:\n%s", before+1, fn.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sqsBatch is an SQS event of n first receives of route, each of its own
// message group.
func sqsBatch(t *testing.T, route string, body []byte, n int) []byte {
	t.Helper()
	var ev events.SQSEvent
	str := func(v string) events.SQSMessageAttribute {
		return events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	for i := range n {
		id := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: id, ReceiptHandle: "rh-" + id, Body: string(body),
			Attributes: map[string]string{"ApproximateReceiveCount": "1", "MessageGroupId": "g-" + strconv.Itoa(i),
				"SequenceNumber": fmt.Sprintf("1888000000000000%04d", i), "SentTimestamp": "1795856400000"},
			MessageAttributes: map[string]events.SQSMessageAttribute{
				webhook.AttrRoute: str(route), webhook.AttrWebhookID: str("wh-" + id), webhook.AttrReceivedAt: str("2026-12-06T09:00:00Z"),
			},
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:minimal.fifo", AWSRegion: "us-east-1",
		})
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func near(got, want, tolerance float64) bool {
	return math.Abs(got-want) <= tolerance*max(want, 1)
}

func loadMinimal(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("testdata", "minimal", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// writeWorkflows writes the config's generated workflows into a fresh folder.
func writeWorkflows(t *testing.T, cfg *config.Config) string {
	t.Helper()
	files, err := generate.Files(cfg)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for name, b := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, generate.WorkflowsDir)
}
