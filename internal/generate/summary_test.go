package generate

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

func costLine(t *testing.T, c Cost, service string) CostLine {
	t.Helper()
	for _, l := range c.Lines {
		if l.Service == service {
			return l
		}
	}
	t.Fatalf("no %q line in %+v", service, c.Lines)
	return CostLine{}
}

func TestEstimateCost(t *testing.T) {
	t.Parallel()
	memory := map[string]int{"forward": 256, "deliver": 256, "notify": 128}
	cfg := &config.Config{Logging: config.Logging{Level: config.LogOff}}
	c := EstimateCost(cfg, memory, ListPrices, DefaultCostAssumptions)

	var sum float64
	for _, l := range c.Lines {
		sum += l.USD
	}
	if math.Abs(sum-c.TotalUSD) > 1e-9 {
		t.Errorf("total %.4f, lines add up to %.4f", c.TotalUSD, sum)
	}
	// Hand-computed from the price table: 1M HTTP API requests; a 5 KiB
	// message is one 64 KB chunk, so send + receive + delete = 3M SQS
	// requests; 2M Lambda requests; 1M executions, each 300 ms + 20 ms + 100 ms
	// = 420 ms, billed 500 ms at 64 MB = 31,250 GB-s.
	for service, want := range map[string]float64{
		"API Gateway HTTP API":   1.00,
		"SQS FIFO":               1.50,
		"Lambda requests":        0.40,
		"Step Functions Express": 1.00,
		"Express duration":       31250 * 0.06 / 3600,
	} {
		if got := costLine(t, c, service).USD; math.Abs(got-want) > 1e-6 {
			t.Errorf("%s: $%.6f, want $%.6f", service, got, want)
		}
	}

	// A 200 KiB body is four 64 KB chunks on send and on receive.
	big := EstimateCost(cfg, memory, ListPrices, CostAssumptions{BodyBytes: 200 << 10, DeliveryLatency: 300 * time.Millisecond})
	if got := costLine(t, big, "SQS FIFO"); !strings.HasPrefix(got.Usage, "9M ") || math.Abs(got.USD-4.5) > 1e-9 {
		t.Errorf("200 KiB body: SQS %+v, want 9M requests, $4.50", got)
	}

	// Twice the memory, twice the Lambda duration cost.
	double := EstimateCost(cfg, map[string]int{"forward": 512, "deliver": 512, "notify": 128}, ListPrices, DefaultCostAssumptions)
	if a, b := costLine(t, c, "Lambda arm64 duration").USD, costLine(t, double, "Lambda arm64 duration").USD; math.Abs(b-2*a) > 1e-9 {
		t.Errorf("Lambda duration at 512 MB $%.4f, want twice $%.4f", b, a)
	}
}

func TestEstimateCostFollowsLogging(t *testing.T) {
	t.Parallel()
	memory := map[string]int{"forward": 256, "deliver": 256, "notify": 128}
	logs := func(level config.LogLevel, data bool) float64 {
		cfg := &config.Config{Logging: config.Logging{Level: level, IncludeExecutionData: data}}
		return costLine(t, EstimateCost(cfg, memory, ListPrices, DefaultCostAssumptions), "CloudWatch Logs ingestion").USD
	}
	off, errLevel, all, allData := logs(config.LogOff, false), logs(config.LogError, false), logs(config.LogAll, false), logs(config.LogAll, true)
	if off <= 0 {
		t.Errorf("logging off: $%.2f, want the Lambdas' own log lines priced", off)
	}
	if errLevel != off {
		t.Errorf("ERROR level: $%.2f, want $%.2f as with logging off (a success logs nothing)", errLevel, off)
	}
	if !(all > errLevel && allData > all) {
		t.Errorf("want OFF ≤ ERROR < ALL < ALL with data, got %.2f %.2f %.2f %.2f", off, errLevel, all, allData)
	}
}

func TestSummarizeExample(t *testing.T) {
	t.Parallel()
	cfg := loadCase(t, "example")
	s, err := Summarize(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Routes) != len(cfg.Routes) {
		t.Fatalf("%d routes summarised, config has %d", len(s.Routes), len(cfg.Routes))
	}
	r := s.Routes[0]
	if r.IngressPath != "/hooks/approval-progress" || r.Group != "header:X-Approval-Request-Id" ||
		r.Target != "https://sales-support.internal.example.com/api/webhooks/approval-progress" {
		t.Errorf("route summary %+v", r)
	}
	if s.API != "sales-support-api" || s.CreatesAPI {
		t.Errorf("API %q creates=%v, want the existing sales-support-api", s.API, s.CreatesAPI)
	}
	if s.Cost.MemoryMB["forward"] <= 0 || s.Cost.MemoryMB["deliver"] <= 0 {
		t.Errorf("memory not read from the generated locals: %v", s.Cost.MemoryMB)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	b := config.ComputeBudget(cfg)
	for _, want := range []string{
		"sales-approvals in ap-northeast-1, existing HTTP API \"sales-support-api\"",
		"terraform -chdir=terraform output -raw ingress_access_log_command",
		"existing_api_stage_auto_deploy in terraform/terraform.tfvars",
		"approval-completed  POST /hooks/approval-completed  body:account.id",
		"Ingress protection\nROUTE               VERIFY                     RATE/S  BURST\n" +
			"approval-progress   hmac X-Workflow-Signature  100     200\napproval-completed  hmac X-Workflow-Signature  100     200\n" +
			"  The existing API's stage is not the module's: set the limits on it yourself",
		"    aws apigatewayv2 update-stage --region ap-northeast-1 \\\n",
		fmt.Sprintf("routes total 200 requests/s, within the %d SendMessage/s the queue takes in FIFO high-throughput mode in ap-northeast-1 (%d/s per message group)\n"+
			"  ingress ceiling: 200 webhooks/s, set by the routes' throttles", config.HighThroughputSendQuota("ap-northeast-1"), config.FIFOSendQuota),
		"forward Lambda timeout          " + b.ForwardTimeout.String(),
		"queue visibility timeout        " + b.VisibilityTimeout.String(),
		"StartSyncExecution SDK timeout  " + b.SDKTimeout.String(),
		"worst-case execution            " + b.WorstExecution.String(),
		"Estimated AWS cost per million webhooks: $",
		"every delivery succeeds on its first attempt",
		"Retry policy: " + config.RetryPolicy,
		"SQS maxReceiveCount (backstop)      " + config.ComputeFinality(cfg).Explain(),
		"longest wait behind a failing head  " + config.ComputeFinality(cfg).FollowerWait.String(),
		// Every secret the example references, what reads it, and how to create it.
		"Secrets to create before the first apply",
		"  SSM parameter /sales-approvals/outbound-signing-secret — deliver: outbound signing (target.signing_secret)\n" +
			"    aws ssm put-parameter --region ap-northeast-1 --type SecureString --name /sales-approvals/outbound-signing-secret --value '<the value>'\n",
		"  SSM parameter /sales-approvals/workflow-saas-signing-secret — deliver: route approval-progress: inbound hmac signature; " +
			"deliver: route approval-completed: inbound hmac signature\n",
		"  SSM parameter /sales-approvals/slack-webhook-url — notify: Slack notifications (notify.slack_webhook_url)\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, text.String())
		}
	}
}

// A route that verifies nothing is named in the summary with its reason.
func TestSummaryNamesUnverifiedRoutes(t *testing.T) {
	t.Parallel()
	text := summaryText(t, "high-throughput")
	for _, want := range []string{
		"device-events  none                    100     200\n",
		"fleet-status   hmac X-Fleet-Signature  100     200\n",
		"API Gateway throttles each route on the new API's $default stage (429 beyond the limit)",
		"device-events verifies nothing (device firmware cannot hold a signing secret; readings are checked against the registry): anyone who knows its URL can have webhookq deliver, and sign, what they post",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
}

// Routes whose rates add up past what a FIFO queue without high throughput
// takes are called out: SQS, not the throttle, would refuse the surplus, and
// the queue sets the ingress ceiling.
func TestSummaryWarnsWhenRatesExceedTheQueue(t *testing.T) {
	t.Parallel()
	text := summaryText(t, "many-routes")
	want := "routes total 3000 requests/s, above the 300 SendMessage/s the queue takes without high-throughput mode (queue.high_throughput: false):\n" +
		"  past it SQS refuses webhooks and ingress answers them with an error, not 429; lower the rates or drop high_throughput: false\n" +
		"  ingress ceiling: 300 webhooks/s, set by the queue's SendMessage quota"
	if !strings.Contains(text, want) {
		t.Errorf("summary lacks %q:\n%s", want, text)
	}
}

// summaryText is the printed summary of a golden case.
func summaryText(t *testing.T, name string) string {
	t.Helper()
	s, err := Summarize(loadCase(t, name))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	return text.String()
}
