package forwarder

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/webhookq/webhookq/internal/awssdk"
)

// NewStatesClient is the Step Functions client the forwarder starts
// executions with, on AWS (functions/forward) and on the twin alike.
//
// timeout is the HTTP client's: StartSyncExecution holds the connection for
// the whole execution, so it must outlast the longest one
// (config.Budget.SDKTimeout). concurrency is how many calls may be in flight
// at once; the connection pool keeps at least that many idle connections.
// The API: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartSyncExecution.html
func NewStatesClient(awsCfg aws.Config, timeout time.Duration, concurrency int) *sfn.Client {
	httpClient := awshttp.NewBuildableClient().WithTimeout(timeout).WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = max(tr.MaxIdleConns, concurrency)
		tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, concurrency)
	})
	return sfn.NewFromConfig(awsCfg, func(o *sfn.Options) {
		o.HTTPClient = awssdk.GuardBodies(httpClient)
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
