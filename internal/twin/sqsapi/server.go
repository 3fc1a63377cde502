// Package sqsapi serves a fifo.Store over the SQS JSON protocol (AWS JSON 1.0,
// X-Amz-Target "AmazonSQS.<Operation>"), so the AWS SDKs, the AWS CLI and
// cmd/redrive work against the local twin by endpoint URL alone.
//
// Queue URLs are http://<host the client used>/<account>/<name>; only the last
// path segment of a QueueUrl is read, so any host spelling works. Requests are
// not authenticated: the twin listens on loopback. Errors carry the JSON
// "__type" SQS sends and the x-amzn-query-error header of SQS's
// query-compatible protocol, so SDK error codes match AWS's.
package sqsapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/webhookq/webhookq/internal/twin/fifo"
)

// maxRequestBytes bounds a request body: ten 1 MiB messages plus JSON overhead.
const maxRequestBytes = 12 << 20

// Server is an http.Handler for the SQS JSON protocol.
type Server struct {
	store     *fifo.Store
	accountID string
}

// New serves store; accountID is the queue URLs' account path segment
// (default "000000000000").
func New(store *fifo.Store, accountID string) *Server {
	if accountID == "" {
		accountID = "000000000000"
	}
	return &Server{store: store, accountID: accountID}
}

type handler func(ctx context.Context, s *Server, r *http.Request, body []byte) (any, error)

var operations = map[string]handler{
	"CreateQueue":                  withInput(createQueue),
	"GetQueueUrl":                  withInput(getQueueURL),
	"GetQueueAttributes":           withInput(getQueueAttributes),
	"SetQueueAttributes":           withInput(setQueueAttributes),
	"ListQueues":                   withInput(listQueues),
	"DeleteQueue":                  withInput(deleteQueue),
	"PurgeQueue":                   withInput(purgeQueue),
	"ListDeadLetterSourceQueues":   withInput(listDeadLetterSourceQueues),
	"SendMessage":                  withInput(sendMessage),
	"SendMessageBatch":             withInput(sendMessageBatch),
	"ReceiveMessage":               withInput(receiveMessage),
	"DeleteMessage":                withInput(deleteMessage),
	"DeleteMessageBatch":           withInput(deleteMessageBatch),
	"ChangeMessageVisibility":      withInput(changeMessageVisibility),
	"ChangeMessageVisibilityBatch": withInput(changeMessageVisibilityBatch),
	"StartMessageMoveTask":         withInput(startMessageMoveTask),
	"ListMessageMoveTasks":         withInput(listMessageMoveTasks),
	"CancelMessageMoveTask":        withInput(cancelMessageMoveTask),
}

// withInput decodes the JSON body into the operation's input type.
func withInput[In any](f func(ctx context.Context, s *Server, r *http.Request, in *In) (any, error)) handler {
	return func(ctx context.Context, s *Server, r *http.Request, body []byte) (any, error) {
		in := new(In)
		if len(body) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, apiError{code: "SerializationException", status: 400, message: "the request body is not valid JSON for this operation: " + err.Error()}
			}
		}
		return f(ctx, s, r, in)
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, apiError{code: "InvalidAction", status: 400, message: "the SQS JSON protocol takes POST requests"})
		return
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, "AmazonSQS.")
	op := operations[name]
	if !ok || op == nil {
		writeError(w, apiError{code: "InvalidAction", status: 400,
			message: fmt.Sprintf("The action %q is not valid for this endpoint (X-Amz-Target AmazonSQS.<Operation>, Content-Type application/x-amz-json-1.0).", target)})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		writeError(w, apiError{code: "BatchRequestTooLong", query: "AWS.SimpleQueueService.BatchRequestTooLong", status: 400, message: "request body too large or unreadable"})
		return
	}
	out, err := op(r.Context(), s, r, body)
	if err != nil {
		writeError(w, toAPIError(err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", requestID())
	data, err := json.Marshal(out)
	if err != nil {
		writeError(w, apiError{code: "InternalFailure", status: 500, message: err.Error()})
		return
	}
	w.Write(data)
}

// apiError is an SQS error as the JSON protocol sends it.
type apiError struct {
	code    string // the shape name, "__type" after the namespace
	query   string // the query-protocol code; defaults to code
	status  int
	message string
	server  bool
}

func (e apiError) Error() string { return e.code + ": " + e.message }

// errorShapes holds the query-protocol codes and HTTP statuses of SQS's
// modelled errors (from the service model's awsQueryError traits).
var errorShapes = map[string]struct {
	query  string
	status int
}{
	"QueueDoesNotExist":            {"AWS.SimpleQueueService.NonExistentQueue", 400},
	"QueueNameExists":              {"QueueAlreadyExists", 400},
	"ReceiptHandleIsInvalid":       {"ReceiptHandleIsInvalid", 404},
	"MessageNotInflight":           {"AWS.SimpleQueueService.MessageNotInflight", 400},
	"ResourceNotFoundException":    {"ResourceNotFoundException", 404},
	"UnsupportedOperation":         {"AWS.SimpleQueueService.UnsupportedOperation", 400},
	"EmptyBatchRequest":            {"AWS.SimpleQueueService.EmptyBatchRequest", 400},
	"TooManyEntriesInBatchRequest": {"AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400},
	"BatchEntryIdsNotDistinct":     {"AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400},
	"InvalidBatchEntryId":          {"AWS.SimpleQueueService.InvalidBatchEntryId", 400},
	"InvalidAddress":               {"InvalidAddress", 404},
}

func newAPIError(code, format string, args ...any) apiError {
	e := apiError{code: code, status: 400, message: fmt.Sprintf(format, args...)}
	if shape, ok := errorShapes[code]; ok {
		e.query, e.status = shape.query, shape.status
	}
	return e
}

func toAPIError(err error) apiError {
	var api apiError
	if errors.As(err, &api) {
		return api
	}
	var fe *fifo.Error
	if errors.As(err, &fe) {
		if fe.Code == fifo.ErrClosed.Code {
			return apiError{code: fe.Code, status: 503, message: fe.Message, server: true}
		}
		return newAPIError(fe.Code, "%s", fe.Message)
	}
	if errors.Is(err, context.Canceled) {
		return apiError{code: "RequestCanceled", status: 400, message: err.Error()}
	}
	return apiError{code: "InternalFailure", status: 500, message: err.Error(), server: true}
}

func writeError(w http.ResponseWriter, e apiError) {
	query := e.query
	if query == "" {
		query = e.code
	}
	fault := "Sender"
	if e.server {
		fault = "Receiver"
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-query-error", query+";"+fault)
	w.Header().Set("x-amzn-RequestId", requestID())
	w.WriteHeader(e.status)
	data, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.sqs#" + e.code, "message": e.message})
	w.Write(data)
}

func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// queueURL is the URL of a queue as seen by the client that asked.
func (s *Server) queueURL(r *http.Request, name string) string {
	return fmt.Sprintf("http://%s/%s/%s", r.Host, s.accountID, name)
}

// queueName reads the queue name from a QueueUrl: its last path segment.
func queueName(url string) (string, error) {
	if url == "" {
		return "", newAPIError("MissingParameter", "The request must contain the parameter QueueUrl.")
	}
	url = strings.TrimRight(url, "/")
	name := url[strings.LastIndex(url, "/")+1:]
	if name == "" {
		return "", newAPIError("InvalidAddress", "The address %s is not valid for this endpoint.", url)
	}
	return name, nil
}
