// Command notify is the notify Lambda (provided.al2023 bootstrap): it reports
// a failed delivery on SNS and Slack, invoked by a route's workflow. The work
// is in internal/lambda/notifier; this wires the configuration and the AWS clients.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/webhookq/webhookq/internal/awssdk"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/notifier"
	"github.com/webhookq/webhookq/internal/lambda/secret"
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
	n, err := notifier.New(&notifier.Config{
		Routes:  cfg,
		SNS:     sns.NewFromConfig(awsCfg),
		Secrets: &secret.Resolver{SSM: ssm.NewFromConfig(awsCfg), SecretsManager: secretsmanager.NewFromConfig(awsCfg)},
	})
	if err != nil {
		slog.Error("notify: cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(n.Notify)
}
