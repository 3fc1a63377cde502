package twin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/delivery"
	"github.com/webhookq/webhookq/internal/lambda/notifier"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
	"github.com/webhookq/webhookq/internal/webhook"
)

// functions runs the deliver and notify cores in process for the state
// machine runner, through the Lambda JSON path: the payload the workflow
// built is decoded by aws-lambda-go's handler, and a returned error becomes
// the function error a Lambda runtime would report — its errorType is what
// the workflow's Retry and Catch match (Webhook.Retryable, Webhook.Permanent).
type functions struct {
	byName map[string]lambda.Handler // by function ARN
	// onNotify sees every notify invocation and its outcome.
	onNotify              func(req webhook.NotifyRequest, delivered []string, err error)
	deliverARN, notifyARN string
}

// buildFunctions builds the deliver and notify cores as functions/deliver
// and functions/notify do, on the local config and the environment's
// secrets, under their local ARNs.
func (t *Twin) buildFunctions(local *config.Config, secrets *envSecrets) (*functions, error) {
	deliverer, err := delivery.New(&delivery.Config{Routes: local, Secrets: secrets, HTTPClient: DeliveryClient(), Logger: t.functionLog("deliver"), Metrics: t.metrics,
		Probes: delivery.Probes{Key: t.probeKey.ARN, MACs: t.probeKey}})
	if err != nil {
		return nil, err
	}
	notify, err := notifier.New(&notifier.Config{Routes: local, Secrets: secrets, HTTPClient: &http.Client{}, Logger: t.functionLog("notify")})
	if err != nil {
		return nil, err
	}
	cfg := t.cfg
	deliverARN := functionARN(cfg.Region, Account, cfg.FunctionName("deliver"))
	notifyARN := functionARN(cfg.Region, Account, cfg.FunctionName("notify"))
	fns := &functions{
		byName: map[string]lambda.Handler{
			deliverARN: lambda.NewHandler(deliverer.Handle),
			notifyARN:  lambda.NewHandler(notify.Notify),
		},
		deliverARN: deliverARN,
		notifyARN:  notifyARN,
		onNotify:   t.recordNotification,
	}
	t.invocations = newInvokeAPI(fns, t.log, map[string]string{cfg.FunctionName("notify"): notifyARN})
	return fns, nil
}

// DeliveryClient is the deliver core's HTTP client (delivery.NewHTTPClient)
// with room for the twin's concurrency: one Lambda container delivers one
// webhook at a time, the twin runs many deliveries to the same target at once
// and keeps their connections open.
func DeliveryClient() *http.Client {
	c := delivery.NewHTTPClient()
	if tr, ok := c.Transport.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost = 256
	}
	return c
}

func (f *functions) Invoke(ctx context.Context, name string, payload []byte) (out []byte, err error) {
	h, ok := f.byName[name]
	if !ok {
		return nil, &statemachine.Error{Name: "Lambda.ResourceNotFoundException", Cause: "Function not found: " + name}
	}
	defer func() {
		// A Lambda runtime reports a panic as a function error; so does the twin.
		if p := recover(); p != nil {
			out, err = nil, &statemachine.FunctionError{Type: "Runtime.Panic", Message: webhook.BoundCause(fmt.Sprint(p))}
		}
	}()
	out, err = h.Invoke(ctx, payload)
	if name == f.notifyARN && f.onNotify != nil {
		var req webhook.NotifyRequest
		if json.Unmarshal(payload, &req) == nil {
			var res struct {
				Delivered []string `json:"delivered"`
			}
			_ = json.Unmarshal(out, &res)
			f.onNotify(req, res.Delivered, err)
		}
	}
	if err != nil {
		return nil, functionError(err)
	}
	return out, nil
}

// functionError is the error document a Lambda runtime (aws-lambda-go)
// reports for a handler's error: an InvokeResponse_Error passes as is, any
// other error is named after its Go type.
func functionError(err error) error {
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		return &statemachine.FunctionError{Type: ive.Type, Message: ive.Message}
	}
	var ivp *messages.InvokeResponse_Error
	if errors.As(err, &ivp) {
		return &statemachine.FunctionError{Type: ivp.Type, Message: ivp.Message}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &statemachine.Error{Name: "Lambda.ClientExecutionTimeoutException", Cause: err.Error()}
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return &statemachine.FunctionError{Type: t.Name(), Message: err.Error()}
}

// functionARN is a local Lambda's ARN, the value Terraform gives the
// workflow's placeholders.
func functionARN(region, account, name string) string {
	return strings.Join([]string{"arn:aws:lambda", region, account, "function", name}, ":")
}
