package twin

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/webhookq/webhookq/internal/awssdk"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/twin/esm"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
)

// buildForwarder is the forward core as functions/forward builds it, with
// its SDK clients pointed at the twin's control plane and its redelivery
// delays and retry window divided by scale: the receives that fit in the
// window, and SQS's backstop derived from them, stay the same. The SQS client
// is returned for the page's redrive too.
func (t *Twin) buildForwarder(local *config.Config, secrets *envSecrets, runner *statemachine.Runner, budget config.Budget, scale float64) (*forwarder.Forwarder, *sqs.Client, error) {
	cfg := t.cfg
	sfnClient, sqsClient, lambdaClient := t.clients(cfg.Region, budget.SDKTimeout, cfg.Queue.MaxConcurrency*forwarder.DefaultConcurrency)
	fwdCfg := *local
	fwdCfg.Queue.RetryWindow = scaleDuration(cfg.Queue.RetryWindow, scale)
	fwdCfg.Queue.RedeliveryDelay = scaleDuration(cfg.Queue.RedeliveryDelay, scale)
	fwdCfg.Queue.MaxRedeliveryDelay = scaleDuration(cfg.Queue.MaxRedeliveryDelay, scale)
	fwd, err := forwarder.New(&forwarder.Config{
		Routes:                &fwdCfg,
		StateMachineARNPrefix: runner.StateMachineARN(cfg.Service + "-"),
		QueueURL:              t.QueueURL,
		// As on AWS (terraform/functions.tf), the forwarder parks what failed
		// for good in the DLQ itself, with the failure recorded on it.
		DLQURL:      t.DLQURL,
		DeadLetters: sqsClient,
		Starter:     sfnClient,
		Queue:       claimingQueue{client: sqsClient, claim: func(h string) { t.poller.Claim(h) }},
		// The notify function, invoked asynchronously through the
		// listener's Lambda Invoke, for what it parks unannounced.
		NotifyFunction: cfg.FunctionName("notify"),
		Notifier:       lambdaClient,
		Logger:         t.functionLog("forward"),
		Jitter:         rand.Float64,
		Metrics:        t.metrics,
		// As on AWS, the forwarder verifies inbound signatures before any
		// execution starts.
		Secrets: secrets,
	})
	if err != nil {
		return nil, nil, err
	}
	return fwd, sqsClient, nil
}

// startMapping starts the forward function's event source mapping: it polls
// the queue and invokes fwd through the Lambda JSON path, with the forward
// timeout (timeout, or the derived one when 0). lease is how long a received
// batch stays invisible unextended; 0 is 10 s.
func (t *Twin) startMapping(fwd *forwarder.Forwarder, budget config.Budget, timeout, lease time.Duration) (err error) {
	cfg := t.cfg
	if lease <= 0 {
		lease = 10 * time.Second
	}
	if timeout <= 0 {
		timeout = budget.ForwardTimeout
	}
	enabled, err := mappingEnabled(t.history, t.MappingUUID)
	if err != nil {
		return fmt.Errorf("read the event source mapping's state: %w", err)
	}
	if !enabled {
		t.Warnings = append(t.Warnings, fmt.Sprintf("the forward event source mapping is disabled (paused before the last stop): nothing is delivered "+
			"until it is resumed — on the page's Queues, or aws lambda update-event-source-mapping --uuid %s --enabled", t.MappingUUID))
	}
	t.poller, err = esm.Start(esm.Options{
		Queue:          t.store,
		QueueName:      cfg.QueueName(),
		Region:         cfg.Region,
		Function:       lambda.NewHandler(fwd.Handle),
		BatchSize:      cfg.Queue.BatchSize,
		MaxConcurrency: cfg.Queue.MaxConcurrency,
		Timeout:        timeout,
		Lease:          lease,
		Disabled:       !enabled,
		Log:            t.log,
	})
	if err != nil {
		return err
	}
	t.mappings.poller.Store(t.poller)
	return nil
}

// clients are the forward function's AWS SDK clients, pointed at the twin;
// conns is how many calls of each may be in flight at once.
func (t *Twin) clients(region string, sdkTimeout time.Duration, conns int) (*sfn.Client, *sqs.Client, *lambdaapi.Client) {
	httpClient := awshttp.NewBuildableClient().WithTimeout(sdkTimeout).WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = conns + 10
		tr.MaxIdleConnsPerHost = conns + 10
	})
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(t.ControlURL),
		HTTPClient:   awssdk.GuardBodies(httpClient),
	}
	return forwarder.NewStatesClient(cfg, sdkTimeout, conns), sqs.NewFromConfig(cfg), lambdaapi.NewFromConfig(cfg)
}

// claimingQueue is the forward function's SQS client: before the function
// sets a record's visibility (its redelivery backoff), the event source
// mapping stops extending that record's lease.
type claimingQueue struct {
	client *sqs.Client
	claim  func(handle string)
}

func (c claimingQueue) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	c.claim(aws.ToString(in.ReceiptHandle))
	return c.client.ChangeMessageVisibility(ctx, in, opts...)
}
