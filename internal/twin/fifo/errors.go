package fifo

import "fmt"

// Error is a queue error named like the SQS error it stands for, so the SQS
// endpoint can answer with the same error type AWS would.
type Error struct {
	// Code is the SQS error name without namespace, e.g. "QueueDoesNotExist".
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is matches errors by Code, so errors.Is(err, fifo.ErrQueueDoesNotExist) works
// for every error of that kind whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func newError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinels for errors.Is.
var (
	ErrQueueDoesNotExist      = &Error{Code: "QueueDoesNotExist"}
	ErrQueueNameExists        = &Error{Code: "QueueNameExists"}
	ErrInvalidParameterValue  = &Error{Code: "InvalidParameterValue"}
	ErrMissingParameter       = &Error{Code: "MissingParameter"}
	ErrInvalidAttributeName   = &Error{Code: "InvalidAttributeName"}
	ErrInvalidAttributeValue  = &Error{Code: "InvalidAttributeValue"}
	ErrReceiptHandleIsInvalid = &Error{Code: "ReceiptHandleIsInvalid"}
	ErrMessageNotInflight     = &Error{Code: "MessageNotInflight"}
	ErrResourceNotFound       = &Error{Code: "ResourceNotFoundException"}
	ErrUnsupportedOperation   = &Error{Code: "UnsupportedOperation"}
	ErrClosed                 = &Error{Code: "ServiceUnavailable", Message: "the queue store is closed"}
)
