package generate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
)

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
	if s.Cost == nil || s.Cost.Prices.Region != "ap-northeast-1" {
		t.Fatalf("example priced at %+v (%v), want ap-northeast-1's prices", s.Cost, s.CostErr)
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
		"Retry policy: " + config.RetryPolicy,
		"SQS maxReceiveCount (backstop)      " + config.ComputeFinality(cfg).Explain(),
		"longest wait behind a failing head  " + config.ComputeFinality(cfg).FollowerWait.String(),
		// Every secret the example references, what reads it, and how to create it.
		"Secrets to create before the first apply",
		"  SSM parameter /sales-approvals/outbound-signing-secret — deliver: outbound signing (target.signing_secret)\n" +
			"    aws ssm put-parameter --region ap-northeast-1 --type SecureString --name /sales-approvals/outbound-signing-secret --value '<the value>'\n",
		"  SSM parameter /sales-approvals/workflow-saas-signing-secret — forward, deliver: route approval-progress: inbound hmac signature; " +
			"forward, deliver: route approval-completed: inbound hmac signature\n",
		"  SSM parameter /sales-approvals/slack-webhook-url — notify: Slack notifications (notify.slack_webhook_url)\n",
		"Estimated AWS cost per million webhooks in ap-northeast-1: $",
		"ap-northeast-1 list prices read " + PriceDate,
		"CloudWatch Logs, Step Functions",
		"(level ALL)",
		"To save: logging.level: ALL → ERROR saves $",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "us-east-1") {
		t.Errorf("the example's summary names us-east-1:\n%s", text.String())
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
