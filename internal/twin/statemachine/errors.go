package statemachine

import "fmt"

// Error names Step Functions defines (the States. prefix is reserved for them).
const (
	ErrAll                    = "States.ALL"
	ErrTaskFailed             = "States.TaskFailed"
	ErrTimeout                = "States.Timeout"
	ErrRuntime                = "States.Runtime"
	ErrResultPathMatchFailure = "States.ResultPathMatchFailure"
	ErrIntrinsicFailure       = "States.IntrinsicFailure"
	ErrNoChoiceMatched        = "States.NoChoiceMatched"
	// ErrDataLimitExceeded: a state's input or output, a task's parameters
	// or result passed the payload limit (Runner.DataLimit). Terminal: no
	// Retry or Catch matches it, States.ALL included.
	ErrDataLimitExceeded = "States.DataLimitExceeded"
	// ErrLambdaService is reported for an Invoker error that is not a
	// FunctionError: the invocation itself failed, as Lambda.ServiceException
	// does on AWS.
	ErrLambdaService = "Lambda.ServiceException"
)

// Error is an error as a state machine sees it: the name Retry and Catch
// match against, and a cause.
type Error struct {
	Name  string
	Cause string
}

func (e *Error) Error() string { return e.Name + ": " + e.Cause }

func runtimeErrorf(format string, args ...any) *Error {
	return &Error{Name: ErrRuntime, Cause: fmt.Sprintf(format, args...)}
}

// matches reports whether an ErrorEquals list matches the error name, with
// Step Functions' wildcard rules: States.ALL matches every error except the
// terminal States.Runtime and States.DataLimitExceeded; States.TaskFailed
// matches every error except States.Timeout (and the terminal ones).
func matches(errorEquals []string, name string) bool {
	if terminal(name) {
		return false
	}
	for _, e := range errorEquals {
		switch {
		case e == name, e == ErrAll:
			return true
		case e == ErrTaskFailed && name != ErrTimeout:
			return true
		}
	}
	return false
}

// terminal reports an error that ends the execution whatever its Retry and
// Catch say (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
func terminal(name string) bool { return name == ErrRuntime || name == ErrDataLimitExceeded }
