package twin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/webhookq/webhookq/internal/config"
)

// functionsPrefix starts the path of Lambda's Invoke operation,
// POST /2015-03-31/functions/{FunctionName}/invocations, with which the
// forward function invokes the notify function for a message it parked
// without the workflow having notified.
const functionsPrefix = "/2015-03-31/functions/"

// maxEventPayload is Lambda's limit on an asynchronous invocation's payload
// (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: 1 MB).
const maxEventPayload = 1 << 20

// invokeAPI serves Invoke for the functions the forward function may invoke
// (on AWS its role allows exactly the notify function), asynchronously only
// (InvocationType Event): it accepts the event with 202 and runs the
// function in the background, once — as on AWS, where the Terraform module
// sets the notify function's MaximumRetryAttempts to 0.
type invokeAPI struct {
	fns *functions
	// arns maps each invocable function's name and ARN to its ARN.
	arns map[string]string
	log  *slog.Logger
	// running counts the invocations in the background; Wait waits for them.
	running sync.WaitGroup
}

func newInvokeAPI(fns *functions, log *slog.Logger, names map[string]string) *invokeAPI {
	a := &invokeAPI{fns: fns, arns: map[string]string{}, log: log}
	for name, arn := range names {
		a.arns[name], a.arns[arn] = arn, arn
	}
	return a
}

func (a *invokeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, functionsPrefix), "/invocations")
	switch {
	case !ok:
		writeLambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "the local twin answers Invoke only: POST "+functionsPrefix+"{FunctionName}/invocations")
		return
	case r.Method != http.MethodPost:
		writeLambdaError(w, http.StatusMethodNotAllowed, "InvalidRequestContentException", "Invoke is a POST")
		return
	}
	arn, ok := a.arns[name]
	if !ok {
		writeLambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name+" (the local twin lets the forward function invoke only the notify function)")
		return
	}
	if t := r.Header.Get("X-Amz-Invocation-Type"); t != "Event" {
		writeLambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "the local twin invokes functions asynchronously only (InvocationType Event), not "+t)
		return
	}
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventPayload))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeLambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 1048576 bytes for the InvokeFunction operation")
		return
	case err != nil:
		writeLambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "cannot read the payload: "+err.Error())
		return
	case !json.Valid(payload):
		writeLambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}
	a.running.Add(1)
	go func() {
		defer a.running.Done()
		ctx, cancel := context.WithTimeout(context.Background(), config.NotifyTimeout)
		defer cancel()
		if _, err := a.fns.Invoke(ctx, arn, payload); err != nil {
			a.log.Error("local: asynchronous invocation failed; not retried", "function", arn, "error", err.Error())
		}
	}()
	w.WriteHeader(http.StatusAccepted)
}

// Wait waits for the invocations running in the background. Call it once
// the listener is shut down, so none starts after.
func (a *invokeAPI) Wait() { a.running.Wait() }
