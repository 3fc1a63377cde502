// Command forward is the forward Lambda: the SQS FIFO queue's event source
// mapping invokes it with a batch of webhooks, and it runs each through its
// route's Express state machine with StartSyncExecution (internal/lambda/forwarder).
// Its log lines and its metrics (EMF lines, internal/lambda/metrics) go to
// standard output, which Lambda sends to CloudWatch Logs.
//
// Environment: WEBHOOKQ_STATE_MACHINE_ARN_PREFIX (required),
// WEBHOOKQ_QUEUE_URL (optional; else derived from the record's queue ARN),
// WEBHOOKQ_DLQ_URL (optional; set, the forwarder parks failed messages there
// itself with the failure attached),
// WEBHOOKQ_NOTIFY_FUNCTION (optional; the notify function the forwarder
// invokes asynchronously for a message it parks that the workflow did not
// notify for), WEBHOOKQ_CONFIG (default $LAMBDA_TASK_ROOT/routes.yaml), and
// the AWS SDK's own variables — AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL_SQS and
// AWS_ENDPOINT_URL_LAMBDA point it at local endpoints in tests.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/webhookq/webhookq/internal/awssdk"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/lambda/secret"
	"github.com/webhookq/webhookq/internal/webhook"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	fwd, err := setup(context.Background(), log)
	if err != nil {
		log.Error("forward: cannot start", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambda.Start(fwd.Handle)
}

func setup(ctx context.Context, log *slog.Logger) (*forwarder.Forwarder, error) {
	cfg, err := config.LoadBundled()
	if err != nil {
		return nil, err
	}
	awsCfg, err := awssdk.LoadConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS config: %w", err)
	}
	queues := sqs.NewFromConfig(awsCfg)
	// Metrics go to standard output as EMF lines, beside the log lines.
	emf, err := metrics.NewEMF(os.Stdout, cfg, nil)
	if err != nil {
		return nil, err
	}
	return forwarder.New(&forwarder.Config{
		Routes:                cfg,
		StateMachineARNPrefix: os.Getenv(webhook.EnvStateMachineARNPrefix),
		QueueURL:              os.Getenv(webhook.EnvQueueURL),
		DLQURL:                os.Getenv(webhook.EnvDLQURL),
		Starter:               forwarder.NewStatesClient(awsCfg, config.ComputeBudget(cfg).SDKTimeout, forwarder.DefaultConcurrency),
		Queue:                 queues,
		DeadLetters:           queues,
		NotifyFunction:        os.Getenv(webhook.EnvNotifyFunction),
		Notifier:              lambdaapi.NewFromConfig(awsCfg),
		Logger:                log,
		Jitter:                rand.Float64,
		Metrics:               emf,
		// The routes' inbound verification secrets: the forwarder verifies
		// before any execution starts.
		Secrets: &secret.Resolver{SSM: ssm.NewFromConfig(awsCfg), SecretsManager: secretsmanager.NewFromConfig(awsCfg)},
	})
}
