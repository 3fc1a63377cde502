package twin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/webhookq/webhookq/internal/twin/console"

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
	onNotify  func(req webhook.NotifyRequest, delivered []string, err error)
	notifyARN string
}

func (f *functions) Invoke(ctx context.Context, name string, payload []byte) (out []byte, err error) {
	h, ok := f.byName[name]
	if !ok {
		return nil, &statemachine.Error{Name: "Lambda.ResourceNotFoundException", Cause: "Function not found: " + name}
	}
	defer func() {
		// A Lambda runtime reports a panic as a function error; so does the twin.
		if p := recover(); p != nil {
			out, err = nil, &statemachine.FunctionError{Type: "Runtime.Panic", Message: fmt.Sprint(p)}
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

// Notification is one notify invocation, as the twin's page lists it.
type Notification = console.Notification

// notifications keeps the newest notifications.
type notifications struct {
	mu   sync.Mutex
	keep int
	list []Notification
}

func (n *notifications) add(x Notification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.list = append(n.list, x)
	if len(n.list) > n.keep {
		n.list = n.list[len(n.list)-n.keep:]
	}
}

// newestFirst returns a copy, newest first.
func (n *notifications) newestFirst() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Notification, len(n.list))
	for i, x := range n.list {
		out[len(out)-1-i] = x
	}
	return out
}

// functionARN is a local Lambda's ARN, the value Terraform gives the
// workflow's placeholders.
func functionARN(region, account, name string) string {
	return strings.Join([]string{"arn:aws:lambda", region, account, "function", name}, ":")
}
