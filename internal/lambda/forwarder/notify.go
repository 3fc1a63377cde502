package forwarder

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/webhookq/webhookq/internal/webhook"
)

// FunctionInvoker invokes a Lambda function (the lambda client's method);
// the forwarder invokes the notify function with it.
type FunctionInvoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// announce sends the notification of a record the forwarder parked without
// the workflow having notified: the notify function, invoked asynchronously
// (InvocationType Event), with the NotifyRequest the workflow would have
// sent. It runs after the record is parked, so a record that could not be
// parked (it comes back) is not announced twice.
//
// Lambda queues an asynchronous invocation and retries a failed one up to
// twice by default; the Terraform module sets the notify function's
// MaximumRetryAttempts to 0, so a failing notifier does not announce the
// same park three times
// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
// A failed Invoke call is logged: the record is in the DLQ with its failure
// record either way.
func (f *Forwarder) announce(ctx context.Context, rec events.SQSMessage, req webhook.NotifyRequest) {
	attrs := recordAttrs(rec, slog.String("failure", req.Error.Error))
	if f.notifyFunction == "" {
		f.log.LogAttrs(ctx, slog.LevelError, "parked without a notification: no notify function ("+webhook.EnvNotifyFunction+")", attrs...)
		return
	}
	payload, err := json.Marshal(req)
	if err != nil {
		f.log.LogAttrs(ctx, slog.LevelError, "parked without a notification: cannot encode it", append(attrs, slog.String("error", err.Error()))...)
		return
	}
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sqsCallTimeout)
	defer cancel()
	_, err = f.notifier.Invoke(callCtx, &lambda.InvokeInput{
		FunctionName:   aws.String(f.notifyFunction),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        payload,
	})
	if err != nil {
		f.log.LogAttrs(ctx, slog.LevelError, "parked without a notification: invoking the notify function failed",
			append(attrs, slog.String("notify_function", f.notifyFunction), slog.String("error", err.Error()))...)
		return
	}
	f.log.LogAttrs(ctx, slog.LevelInfo, "notification sent", append(attrs, slog.String("notify_function", f.notifyFunction))...)
}
