// Command forward is the forward Lambda: the SQS FIFO queue's event source
// mapping invokes it with a batch of webhooks, and it runs each through its
// route's Express state machine with StartSyncExecution (internal/lambda/forwarder).
//
// Environment: WEBHOOKQ_STATE_MACHINE_ARN_PREFIX (required),
// WEBHOOKQ_QUEUE_URL (optional; else derived from the record's queue ARN),
// WEBHOOKQ_DLQ_URL (optional; set, the forwarder parks failed messages there
// itself with the failure attached),
// WEBHOOKQ_CONFIG (default $LAMBDA_TASK_ROOT/routes.yaml), and the AWS SDK's
// own variables — AWS_ENDPOINT_URL_SFN and AWS_ENDPOINT_URL_SQS point it at
// local endpoints in tests.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
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
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS config: %w", err)
	}
	states := newStatesClient(awsCfg, config.ComputeBudget(cfg).SDKTimeout)
	queues := sqs.NewFromConfig(awsCfg)
	return forwarder.New(forwarder.Options{
		Config:                cfg,
		StateMachineARNPrefix: os.Getenv(webhook.EnvStateMachineARNPrefix),
		QueueURL:              os.Getenv(webhook.EnvQueueURL),
		DLQURL:                os.Getenv(webhook.EnvDLQURL),
		Starter:               states,
		Queue:                 queues,
		DeadLetters:           queues,
		Logger:                log,
		Jitter:                rand.Float64,
	})
}

// newStatesClient is the Step Functions client for StartSyncExecution.
func newStatesClient(awsCfg aws.Config, timeout time.Duration) *sfn.Client {
	return sfn.NewFromConfig(awsCfg, func(o *sfn.Options) {
		// StartSyncExecution holds the connection for the whole execution:
		// the client's timeout must outlast the longest one.
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(timeout)
		// A retried StartSyncExecution would run the workflow again inside
		// the same Lambda budget; SQS redelivery is the retry.
		o.RetryMaxAttempts = 1
		if o.BaseEndpoint != nil {
			// Against a local endpoint the "sync-" host prefix AWS uses for
			// StartSyncExecution would name a host that does not exist.
			o.APIOptions = append(o.APIOptions, disableHostPrefix)
		}
	})
}

// disableHostPrefix turns off endpoint host prefixing for every operation of
// the client (a stack value, so it is set at the start of each call).
func disableHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableEndpointHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}
