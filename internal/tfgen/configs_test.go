package tfgen

import (
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// exampleConfig is config/routes.yaml as the loader resolves it: the seed's
// approval workflow on an existing HTTP API, defaults applied, overrides merged.
func exampleConfig() *config.Config {
	retry := config.Retry{
		MaxAttempts: 5, Interval: 2 * time.Second, BackoffRate: 2, MaxDelay: 30 * time.Second,
		Jitter: config.JitterFull, On: config.AllOutcomes,
	}
	completedRetry := retry
	completedRetry.MaxAttempts, completedRetry.Interval = 4, 5*time.Second
	slack := &config.SecretRef{SSMParameter: "/sales-approvals/slack-webhook-url"}
	return &config.Config{
		Path:    "config/routes.yaml",
		Service: "sales-approvals",
		Region:  "ap-northeast-1",
		Ingress: config.Ingress{HTTPAPIName: "sales-support-api", BasePath: "/hooks", MaxBodyBytes: 256 * 1024},
		Target: config.Target{
			BaseURL: "https://sales-support.internal.example.com",
			Timeout: 10 * time.Second,
			Headers: map[string]string{"X-Forwarded-By": "webhookq"},
			Signing: &config.SecretRef{SSMParameter: "/sales-approvals/outbound-signing-secret"},
		},
		Queue: config.Queue{
			MaxReceiveCount: 5, Retention: 4 * 24 * time.Hour, DLQRetention: 14 * 24 * time.Hour,
			BatchSize: 10, MaxConcurrency: 5,
			RedeliveryDelay: 30 * time.Second, MaxRedeliveryDelay: 15 * time.Minute,
		},
		Retry:   retry,
		Notify:  config.Notify{When: config.NotifyFinal, SlackWebhookURL: slack},
		Logging: config.Logging{Level: config.LogAll, IncludeExecutionData: false, RetentionDays: 30},
		Routes: []config.Route{
			{
				Name:      "approval-progress",
				Path:      "/approval-progress",
				Group:     config.Group{Source: config.GroupHeader, Value: "X-Approval-Request-Id"},
				TargetURL: "https://sales-support.internal.example.com/api/webhooks/approval-progress",
				Dedup:     config.Dedup{Source: config.DedupHeader, Header: "X-Delivery-Id"},
				Headers:   []string{"X-Event-Type", "X-Delivery-Id", "X-Approval-Request-Id"},
				Verify: &config.Verify{
					Scheme: config.VerifyHMAC, Header: "X-Workflow-Signature",
					Secret: config.SecretRef{SSMParameter: "/sales-approvals/workflow-saas-signing-secret"},
				},
				Timeout: 10 * time.Second,
				Retry:   retry,
				Notify:  config.Notify{When: config.NotifyFinal, SlackWebhookURL: slack},
			},
			{
				Name:      "approval-completed",
				Path:      "/approval-completed",
				Group:     config.Group{Source: config.GroupBody, Value: "account.id"},
				TargetURL: "https://sales-support.internal.example.com/api/webhooks/approval-completed",
				Dedup:     config.Dedup{Source: config.DedupContent},
				Headers:   []string{"X-Event-Type", "X-Delivery-Id"},
				Timeout:   20 * time.Second,
				Retry:     completedRetry,
				Notify:    config.Notify{When: config.NotifyEveryFailure, SlackWebhookURL: slack},
			},
		},
	}
}

// createdAPIConfig creates its own HTTP API and exercises the other choices:
// high-throughput mode, an SNS topic, Secrets Manager references by name and
// by ARN, a static group, request-id deduplication, no base path.
func createdAPIConfig() *config.Config {
	retry := config.Retry{
		MaxAttempts: 3, Interval: time.Second, BackoffRate: 2, MaxDelay: 10 * time.Second,
		Jitter: config.JitterNone, On: []config.Outcome{config.OutcomeServerError, config.OutcomeTimeout},
	}
	notify := config.Notify{
		When:            config.NotifyFinal,
		SNSTopicARN:     "arn:aws:sns:us-east-1:123456789012:billing-alerts",
		SlackWebhookURL: &config.SecretRef{SecretsManager: "billing/slack-webhook"},
	}
	return &config.Config{
		Service: "billing-events",
		Region:  "us-east-1",
		Ingress: config.Ingress{MaxBodyBytes: 256 * 1024},
		Target: config.Target{
			BaseURL: "https://billing.example.com",
			Timeout: 5 * time.Second,
			SecretHeaders: map[string]config.SecretRef{
				"Authorization": {SecretsManager: "arn:aws:secretsmanager:us-east-1:123456789012:secret:billing/token-AbCdEf"},
				"X-Api-Key":     {SecretsManager: "billing/api-key"},
			},
		},
		Queue: config.Queue{
			MaxReceiveCount: 3, Retention: 24 * time.Hour, DLQRetention: 7 * 24 * time.Hour,
			BatchSize: 1, MaxConcurrency: 2, HighThroughput: true,
			RedeliveryDelay: 10 * time.Second, MaxRedeliveryDelay: time.Minute,
		},
		Retry:   retry,
		Notify:  notify,
		Logging: config.Logging{Level: config.LogError, IncludeExecutionData: true, RetentionDays: 7},
		Routes: []config.Route{
			{
				Name:      "invoice-paid",
				Path:      "/invoice-paid",
				Group:     config.Group{Source: config.GroupStatic, Value: "invoices"},
				TargetURL: "https://billing.example.com/hooks/invoice-paid",
				Dedup:     config.Dedup{Source: config.DedupRequestID},
				Headers:   []string{},
				Timeout:   5 * time.Second,
				Retry:     retry,
				Notify:    notify,
			},
			{
				Name:      "customer-updated",
				Path:      "/customer-updated",
				Group:     config.Group{Source: config.GroupBody, Value: "customer.id"},
				TargetURL: "https://billing.example.com/hooks/customer-updated",
				Dedup:     config.Dedup{Source: config.DedupHeader, Header: "X-Event-Id"},
				Headers:   []string{"X-Event-Id"},
				Verify: &config.Verify{
					Scheme: config.VerifyStripe, Tolerance: 5 * time.Minute,
					Secret: config.SecretRef{SecretsManager: "billing/stripe-signing"},
				},
				Timeout: 5 * time.Second,
				Retry:   retry,
				Notify:  notify,
			},
		},
	}
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
