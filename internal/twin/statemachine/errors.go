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
// terminal States.Runtime; States.TaskFailed matches every error except
// States.Timeout (and States.Runtime).
func matches(errorEquals []string, name string) bool {
	if name == ErrRuntime {
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
