package tfgen

import (
	"path/filepath"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// exampleConfig is the project's example, config/routes.yaml: the seed's
// approval workflow on an existing HTTP API.
func exampleConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join(testenv.RepoRoot(t), "config", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// createdAPIYAML creates its own HTTP API and exercises the choices the
// example does not: high-throughput mode, an SNS topic, Secrets Manager
// references by name and by ARN, secret headers, a static group, request-id
// deduplication, no ingress section (no base path), ERROR logging with
// execution data, a route with verify scheme none, a route with its own
// ingress throttle, a target in a VPC.
const createdAPIYAML = `service: billing-events
region: us-east-1
target:
  base_url: https://billing.internal
  timeout: 5s
  vpc:
    subnet_ids: [subnet-0a1b2c3d4e5f60718, subnet-0f1e2d3c4b5a69788]
    security_group_ids: [sg-0123456789abcdef0]
  secret_headers:
    Authorization:
      secrets_manager: arn:aws:secretsmanager:us-east-1:123456789012:secret:billing/token-AbCdEf
    X-Api-Key:
      secrets_manager: billing/api-key
queue:
  retry_window: 20m
  retention: 1d
  dlq_retention: 7d
  batch_size: 1
  max_concurrency: 2
  # Opts out of the high-throughput default, so the module's test plans
  # both queue modes (the example config has the default).
  high_throughput: false
  redelivery_delay: 10s
  max_redelivery_delay: 1m
retry:
  max_attempts: 3
  interval: 1s
  backoff_rate: 2
  max_delay: 10s
  jitter: none
  on: [server_error, timeout]
notify:
  when: final
  sns_topic_arn: arn:aws:sns:us-east-1:123456789012:billing-alerts
  slack_webhook_url:
    secrets_manager: billing/slack-webhook
logging:
  level: ERROR
  include_execution_data: true
  retention_days: 7
routes:
  - name: invoice-paid
    path: /invoice-paid
    group: static:invoices
    target_path: /hooks/invoice-paid
    dedup: request_id
    verify:
      scheme: none
      reason: the billing system's legacy sender signs nothing; the app re-reads each invoice
  - name: customer-updated
    path: /customer-updated
    group: body:customer.id
    target_path: /hooks/customer-updated
    dedup: header:X-Event-Id
    headers: [X-Event-Id, Stripe-Signature]
    verify:
      scheme: stripe
      secret:
        secrets_manager: billing/stripe-signing
    overrides:
      ingress:
        throttle: {rate: 5, burst: 10}
`

func createdAPIConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Parse("created-api.yaml", []byte(createdAPIYAML))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// workflowFiles maps each route to ../workflows/<route>.asl.json, the layout
// cmd/generate writes.
func workflowFiles(cfg *config.Config) map[string]string {
	m := map[string]string{}
	for _, r := range cfg.Routes {
		m[r.Name] = "../workflows/" + r.Name + ".asl.json"
	}
	return m
}
