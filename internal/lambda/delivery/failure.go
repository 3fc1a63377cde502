package delivery

import (
	"errors"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Failure is a failed attempt: retryable (the workflow retries it) or
// permanent (the workflow gives up at once). Its message becomes the Cause
// the workflow records; it names the attempt, the target and what went
// wrong, never the body or a secret.
type Failure struct {
	Retryable bool
	// Outcome is the retry-policy class of a failed HTTP exchange; empty for
	// failures outside the exchange (invalid target, inbound signature).
	Outcome config.Outcome
	// Class is the failure class the FailedAttempts metric counts it under;
	// empty means the request was not sent (metrics.ClassNotSent).
	Class   metrics.Class
	Message string
}

func (f *Failure) Error() string { return f.Message }

// MetricsClass is the failure class the FailedAttempts metric counts.
func (f *Failure) MetricsClass() metrics.Class {
	if f.Class == "" {
		return metrics.ClassNotSent
	}
	return f.Class
}

// Name is the error name the workflow matches: webhook.ErrRetryable or webhook.ErrPermanent.
func (f *Failure) Name() string {
	if f.Retryable {
		return webhook.ErrRetryable
	}
	return webhook.ErrPermanent
}

// LambdaError turns an error into the Lambda function error the workflow
// sees. aws-lambda-go names a returned error by its Go type, which cannot
// contain a dot; a messages.InvokeResponse_Error value is passed through
// as is, so its Type becomes the errorType (the ASL's Error) exactly.
// Anything that is not a Failure is reported as permanent: an unknown fault
// is not made better by retrying in a tight loop. The message is bounded
// (webhook.BoundCause): the workflow keeps it in its state data, which Step
// Functions limits in size.
func LambdaError(err error) error {
	if err == nil {
		return nil
	}
	var f *Failure
	if !errors.As(err, &f) {
		f = &Failure{Message: err.Error()}
	}
	return messages.InvokeResponse_Error{Type: f.Name(), Message: webhook.BoundCause(f.Message)}
}
