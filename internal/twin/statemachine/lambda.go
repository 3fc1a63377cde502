package statemachine

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/webhookq/webhookq/internal/webhook"
)

// Invoker runs a Lambda function by name in process (the local twin hands
// the deliver and notify cores to the runner through it). A nil error means
// the function returned payload; a *FunctionError is the function's own
// error (Lambda's X-Amz-Function-Error); a *Error names any other failure
// (e.g. "Lambda.TooManyRequestsException"); any other error is reported as
// Lambda.ServiceException.
type Invoker interface {
	Invoke(ctx context.Context, functionName string, payload []byte) ([]byte, error)
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, functionName string, payload []byte) ([]byte, error)

func (f InvokerFunc) Invoke(ctx context.Context, functionName string, payload []byte) ([]byte, error) {
	return f(ctx, functionName, payload)
}

// FunctionError is a Lambda function error, the JSON a runtime returns for a
// failed invocation. Step Functions names the error after Type and puts the
// whole error document in the Cause.
type FunctionError struct {
	Message    string   `json:"errorMessage"`
	Type       string   `json:"errorType"`
	StackTrace []string `json:"stackTrace,omitempty"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// taskError turns an Invoker error into the state's error.
func taskError(err error) *Error {
	var fe *FunctionError
	if errors.As(err, &fe) {
		cause, mErr := webhook.CompactJSON(fe)
		if mErr != nil {
			cause = []byte(fe.Message)
		}
		return &Error{Name: fe.Type, Cause: string(cause)}
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Name: ErrLambdaService, Cause: err.Error()}
}

// lambdaInvokeResult is the result of an arn:aws:states:::lambda:invoke task:
// Lambda's Invoke response as Step Functions hands it to ResultSelector, the
// function's answer under Payload (decoded when it is JSON).
func lambdaInvokeResult(payload []byte, requestID string) map[string]any {
	var p any = string(payload)
	if v, err := decodeJSON(payload); err == nil {
		p = v
	}
	headers := map[string]any{
		"Connection":                     "keep-alive",
		"Content-Type":                   "application/json",
		"X-Amz-Executed-Version":         "$LATEST",
		"x-amzn-Remapped-Content-Length": "0",
		"x-amzn-RequestId":               requestID,
	}
	all := make(map[string]any, len(headers))
	for k, v := range headers {
		all[k] = []any{v}
	}
	return map[string]any{
		"ExecutedVersion": "$LATEST",
		"Payload":         p,
		"SdkHttpMetadata": map[string]any{
			"AllHttpHeaders": all,
			"HttpHeaders":    headers,
			"HttpStatusCode": json.Number("200"),
		},
		"SdkResponseMetadata": map[string]any{"RequestId": requestID},
		"StatusCode":          json.Number("200"),
	}
}
