// Package sfnapi serves the local twin's state machines over the AWS Step
// Functions JSON 1.0 protocol — StartSyncExecution, DescribeStateMachine and
// ListStateMachines — so the forward Lambda, the AWS SDK and the AWS CLI reach
// the twin by endpoint URL alone.
//
// Clients must not add the "sync-" host prefix AWS uses for
// StartSyncExecution (the Go SDK: smithyhttp.DisableEndpointHostPrefix).
package sfnapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
)

// targetPrefix is the X-Amz-Target prefix of every Step Functions operation.
const targetPrefix = "AWSStepFunctions."

// MaxInputBytes is StartSyncExecution's input limit (256 KiB).
const MaxInputBytes = config.StatePayloadMax

// maxRequestBytes bounds a request body: the largest input, JSON-escaped, and
// the other fields.
const maxRequestBytes = 8*MaxInputBytes + 64*1024

// Server answers Step Functions API calls for the state machines registered
// with it, running executions on Runner. Safe for concurrent use.
type Server struct {
	runner *statemachine.Runner

	mu       sync.RWMutex
	machines map[string]registered // by state machine ARN
}

type registered struct {
	m       *statemachine.Machine
	def     string // the definition as deployed, for DescribeStateMachine
	created time.Time
}

// New returns a server running executions on r.
func New(r *statemachine.Runner) *Server {
	return &Server{runner: r, machines: map[string]registered{}}
}

// Register makes m callable under its ARN and returns the ARN. Registering
// a name again replaces it.
func (s *Server) Register(m *statemachine.Machine) (string, error) {
	def := m.Source
	if def == nil {
		var err error
		if def, err = asl.Marshal(m.Definition); err != nil {
			return "", err
		}
	}
	arn := s.runner.StateMachineARN(m.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.machines[arn] = registered{m: m, def: string(def), created: time.Now()}
	return arn, nil
}

// apiError is an error answer: HTTP status, the error code the SDKs map to
// typed errors, and a message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func clientError(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, &apiError{status: http.StatusNotFound, code: "UnknownOperationException", message: "POST / with X-Amz-Target is the only route"})
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if !ok {
		writeError(w, clientError("UnknownOperationException", "missing or unknown X-Amz-Target %q", r.Header.Get("X-Amz-Target")))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		writeError(w, clientError("SerializationException", "reading the request: %v", err))
		return
	}
	if len(body) > maxRequestBytes {
		writeError(w, &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLargeException", message: "the request is too large"})
		return
	}
	var out any
	switch op {
	case "StartSyncExecution":
		out, err = s.startSyncExecution(r, body)
	case "DescribeStateMachine":
		out, err = s.describeStateMachine(body)
	case "ListStateMachines":
		out, err = s.listStateMachines(body)
	default:
		err = clientError("UnknownOperationException", "operation %s is not supported by the local twin", op)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{status: http.StatusInternalServerError, code: "InternalFailure", message: err.Error()}
		}
		writeError(w, ae)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.message})
}

func decode(body []byte, v any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return clientError("SerializationException", "the request body is not valid: %v", err)
	}
	return nil
}

func (s *Server) lookup(arn string) (registered, error) {
	if !strings.HasPrefix(arn, "arn:") || strings.Count(arn, ":") != 6 || !strings.Contains(arn, ":stateMachine:") {
		return registered{}, clientError("InvalidArn", "Invalid Arn: '%s'", arn)
	}
	s.mu.RLock()
	reg, ok := s.machines[arn]
	s.mu.RUnlock()
	if !ok {
		return registered{}, clientError("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	return reg, nil
}

type startSyncExecutionInput struct {
	StateMachineArn string  `json:"stateMachineArn"`
	Name            string  `json:"name"`
	Input           *string `json:"input"`
	TraceHeader     string  `json:"traceHeader"`
	IncludedData    string  `json:"includedData"`
}

// metadataOnly is the includedData value that leaves input and output out
// of the answer (the default, ALL_DATA, keeps them).
const metadataOnly = "METADATA_ONLY"

type details struct {
	Included bool `json:"included"`
}

type billingDetails struct {
	BilledMemoryUsedInMB         int64 `json:"billedMemoryUsedInMB"`
	BilledDurationInMilliseconds int64 `json:"billedDurationInMilliseconds"`
}

type startSyncExecutionOutput struct {
	ExecutionArn    string         `json:"executionArn"`
	StateMachineArn string         `json:"stateMachineArn"`
	Name            string         `json:"name"`
	StartDate       epochSeconds   `json:"startDate"`
	StopDate        epochSeconds   `json:"stopDate"`
	Status          string         `json:"status"`
	Error           string         `json:"error,omitempty"`
	Cause           string         `json:"cause,omitempty"`
	Input           *string        `json:"input,omitempty"`
	InputDetails    details        `json:"inputDetails"`
	Output          *string        `json:"output,omitempty"`
	OutputDetails   details        `json:"outputDetails"`
	TraceHeader     string         `json:"traceHeader,omitempty"`
	BillingDetails  billingDetails `json:"billingDetails"`
}

// epochSeconds is a timestamp as the JSON protocols carry it.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(fmt.Sprintf("%d.%03d", ms/1000, ms%1000)), nil
}

// billedMemoryMB is what Express bills a local execution at (the minimum).
const billedMemoryMB = 64

func (s *Server) startSyncExecution(r *http.Request, body []byte) (any, error) {
	var in startSyncExecutionInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.StateMachineArn == "" {
		return nil, clientError("ValidationException", "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null")
	}
	reg, err := s.lookup(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	input := "{}"
	if in.Input != nil {
		input = *in.Input
	}
	if len(input) > MaxInputBytes {
		return nil, clientError("ValidationException", "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to %d", MaxInputBytes)
	}
	exec, err := s.runner.Execute(r.Context(), reg.m, in.Name, []byte(input))
	var ie *statemachine.InputError
	switch {
	case errors.As(err, &ie) && ie.Field == "name":
		return nil, clientError("InvalidName", "Invalid Name: '%s'", in.Name)
	case errors.As(err, &ie):
		return nil, clientError("InvalidExecutionInput", "Invalid State Machine Execution Input: '%s'", ie.Reason)
	case err != nil && exec == nil:
		return nil, err
	case err != nil:
		// The history store failed; the execution's result stands.
		slog.Warn("execution history not recorded", "execution", exec.ARN, "error", err)
	}
	out := startSyncExecutionOutput{
		ExecutionArn:    exec.ARN,
		StateMachineArn: exec.StateMachineARN,
		Name:            exec.Name,
		StartDate:       epochSeconds(exec.Start),
		StopDate:        epochSeconds(exec.Stop),
		Status:          string(exec.Status),
		Error:           exec.Error,
		Cause:           exec.Cause,
		TraceHeader:     in.TraceHeader,
		BillingDetails: billingDetails{
			BilledMemoryUsedInMB:         billedMemoryMB,
			BilledDurationInMilliseconds: int64(math.Ceil(float64(exec.Stop.Sub(exec.Start).Milliseconds())/100) * 100),
		},
	}
	if out.BillingDetails.BilledDurationInMilliseconds < 100 {
		out.BillingDetails.BilledDurationInMilliseconds = 100
	}
	if in.IncludedData != metadataOnly {
		out.Input, out.InputDetails.Included = &input, true
		if exec.Status == statemachine.StatusSucceeded {
			o := string(exec.Output)
			out.Output, out.OutputDetails.Included = &o, true
		}
	}
	return out, nil
}

type describeStateMachineOutput struct {
	StateMachineArn      string         `json:"stateMachineArn"`
	Name                 string         `json:"name"`
	Status               string         `json:"status"`
	Definition           string         `json:"definition"`
	RoleArn              string         `json:"roleArn"`
	Type                 string         `json:"type"`
	CreationDate         epochSeconds   `json:"creationDate"`
	LoggingConfiguration map[string]any `json:"loggingConfiguration"`
	TracingConfiguration map[string]any `json:"tracingConfiguration"`
}

func (s *Server) describeStateMachine(body []byte) (any, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	reg, err := s.lookup(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	return describeStateMachineOutput{
		StateMachineArn:      in.StateMachineArn,
		Name:                 reg.m.Name,
		Status:               "ACTIVE",
		Definition:           reg.def,
		RoleArn:              strings.Replace(strings.SplitN(in.StateMachineArn, ":stateMachine:", 2)[0], ":states:", ":iam:", 1) + ":role/" + reg.m.Name + "-local",
		Type:                 "EXPRESS",
		CreationDate:         epochSeconds(reg.created),
		LoggingConfiguration: map[string]any{"level": "OFF", "includeExecutionData": false},
		TracingConfiguration: map[string]any{"enabled": false},
	}, nil
}

type stateMachineListItem struct {
	StateMachineArn string       `json:"stateMachineArn"`
	Name            string       `json:"name"`
	Type            string       `json:"type"`
	CreationDate    epochSeconds `json:"creationDate"`
}

func (s *Server) listStateMachines(body []byte) (any, error) {
	var in struct {
		MaxResults int    `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	arns := make([]string, 0, len(s.machines))
	for arn := range s.machines {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	items := make([]stateMachineListItem, 0, len(arns))
	for _, arn := range arns {
		if in.NextToken != "" && arn <= in.NextToken {
			continue
		}
		reg := s.machines[arn]
		items = append(items, stateMachineListItem{StateMachineArn: arn, Name: reg.m.Name, Type: "EXPRESS", CreationDate: epochSeconds(reg.created)})
	}
	s.mu.RUnlock()
	out := map[string]any{"stateMachines": items}
	if in.MaxResults > 0 && len(items) > in.MaxResults {
		out["stateMachines"] = items[:in.MaxResults]
		out["nextToken"] = items[in.MaxResults-1].StateMachineArn
	}
	return out, nil
}
