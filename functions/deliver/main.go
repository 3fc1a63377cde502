// Command deliver is the deliver Lambda (provided.al2023 bootstrap): one HTTP
// delivery attempt per invocation, invoked by a route's workflow. The work is
// in internal/lambda/delivery; this wires the configuration and the AWS clients.
// Environment: WEBHOOKQ_PROBE_KEY (the probe key's ARN; unset, probes are
// refused), WEBHOOKQ_CONFIG, and the AWS SDK's own variables.
// Its log lines go to standard error, its metrics (EMF lines,
// internal/lambda/metrics) to standard output; Lambda sends both to
// CloudWatch Logs.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/webhookq/webhookq/internal/awssdk"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/delivery"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/lambda/secret"
	"github.com/webhookq/webhookq/internal/webhook"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	cfg, err := config.LoadBundled()
	if err != nil {
		slog.Error("load config", "error", err.Error())
		os.Exit(1)
	}
	awsCfg, err := awssdk.LoadConfig(context.Background())
	if err != nil {
		slog.Error("load AWS config", "error", err.Error())
		os.Exit(1)
	}
	// Metrics go to standard output as EMF lines (the log on stderr).
	emf, err := metrics.NewEMF(os.Stdout, cfg, nil)
	if err != nil {
		slog.Error("deliver: cannot start", "error", err.Error())
		os.Exit(1)
	}
	deliverer, err := delivery.New(&delivery.Config{
		Routes:  cfg,
		Secrets: &secret.Resolver{SSM: ssm.NewFromConfig(awsCfg), SecretsManager: secretsmanager.NewFromConfig(awsCfg)},
		Metrics: emf,
		// Post-deploy probes (cmd/check) are MACed with this key; deliver
		// only checks them.
		Probes: delivery.Probes{Key: os.Getenv(webhook.EnvProbeKey), MACs: kms.NewFromConfig(awsCfg)},
	})
	if err != nil {
		slog.Error("deliver: cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(deliverer.Handle)
}
