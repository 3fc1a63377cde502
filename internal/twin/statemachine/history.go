package statemachine

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"
)

// Status is an execution's status, as StartSyncExecution reports it.
type Status string

const (
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusTimedOut  Status = "TIMED_OUT"
)

// Execution is one execution and its history: what StartSyncExecution
// answers and what the twin's web page shows.
type Execution struct {
	ARN             string `json:"executionArn"`
	Name            string `json:"name"`
	StateMachine    string `json:"stateMachine"`
	StateMachineARN string `json:"stateMachineArn"`
	// Route and Group are the "route" and "group" fields of the input (a
	// webhook.Envelope), when present: the history is filtered by them.
	Route  string          `json:"route,omitempty"`
	Group  string          `json:"group,omitempty"`
	Status Status          `json:"status"`
	Start  time.Time       `json:"startDate"`
	Stop   time.Time       `json:"stopDate"`
	Input  json.RawMessage `json:"input"`
	Output json.RawMessage `json:"output,omitempty"`
	Error  string          `json:"error,omitempty"`
	Cause  string          `json:"cause,omitempty"`
	Events []Event         `json:"events,omitempty"`
}

// EventType names a history event, after the Step Functions console's.
type EventType string

const (
	EventExecutionStarted   EventType = "ExecutionStarted"
	EventExecutionSucceeded EventType = "ExecutionSucceeded"
	EventExecutionFailed    EventType = "ExecutionFailed"
	EventExecutionTimedOut  EventType = "ExecutionTimedOut"
	EventTaskScheduled      EventType = "TaskScheduled"
	EventTaskSucceeded      EventType = "TaskSucceeded"
	EventTaskFailed         EventType = "TaskFailed"
	EventTaskTimedOut       EventType = "TaskTimedOut"
	// EventRetryScheduled records a retry decision and its wait (the console
	// shows retries as repeated TaskScheduled events; this makes the wait
	// visible).
	EventRetryScheduled EventType = "RetryScheduled"
	// EventCaught records a Catch that moved the execution on.
	EventCaught EventType = "ErrorCaught"
)

// StateEntered is "<Type>StateEntered", e.g. TaskStateEntered.
func StateEntered(stateType string) EventType { return EventType(stateType + "StateEntered") }

// StateExited is "<Type>StateExited", e.g. ChoiceStateExited.
func StateExited(stateType string) EventType { return EventType(stateType + "StateExited") }

// Event is one entry of an execution's history.
type Event struct {
	ID        int             `json:"id"`
	Timestamp time.Time       `json:"timestamp"`
	Type      EventType       `json:"type"`
	State     string          `json:"state,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	Output    json.RawMessage `json:"output,omitempty"`
	// Resource is the function a TaskScheduled event invokes.
	Resource string `json:"resource,omitempty"`
	// RetryCount is $$.State.RetryCount of a TaskScheduled or RetryScheduled event.
	RetryCount int    `json:"retryCount,omitempty"`
	Error      string `json:"error,omitempty"`
	Cause      string `json:"cause,omitempty"`
	// Wait is the backoff of a RetryScheduled event.
	Wait time.Duration `json:"waitNanos,omitempty"`
}

// ErrNotFound is returned by HistoryStore.Get for an unknown execution.
var ErrNotFound = errors.New("execution not found")

// Filter selects executions; empty fields match everything.
type Filter struct {
	StateMachine string
	Route        string
	Group        string
	Status       Status
	// Limit bounds the result (0: no bound).
	Limit int
}

func (f Filter) match(e *Execution) bool {
	return (f.StateMachine == "" || f.StateMachine == e.StateMachine) &&
		(f.Route == "" || f.Route == e.Route) &&
		(f.Group == "" || f.Group == e.Group) &&
		(f.Status == "" || f.Status == e.Status)
}

// HistoryStore keeps finished executions. Implementations bound what they
// keep (the newest executions win) and are safe for concurrent use.
type HistoryStore interface {
	// Append stores a finished execution.
	Append(ctx context.Context, e *Execution) error
	// Get returns an execution with its events, or ErrNotFound.
	Get(ctx context.Context, executionARN string) (*Execution, error)
	// List returns the matching executions, newest first, without their events.
	List(ctx context.Context, f Filter) ([]*Execution, error)
}

// MemoryHistory is a HistoryStore in memory, keeping the newest Keep
// executions (all of them when Keep is 0).
type MemoryHistory struct {
	Keep int

	mu   sync.Mutex
	list []*Execution // oldest first
}

func (h *MemoryHistory) Append(_ context.Context, e *Execution) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.list = append(h.list, e)
	if h.Keep > 0 && len(h.list) > h.Keep {
		h.list = slices.Delete(h.list, 0, len(h.list)-h.Keep)
	}
	return nil
}

func (h *MemoryHistory) Get(_ context.Context, arn string) (*Execution, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.list {
		if e.ARN == arn {
			return e, nil
		}
	}
	return nil, ErrNotFound
}

func (h *MemoryHistory) List(_ context.Context, f Filter) ([]*Execution, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*Execution
	for i := len(h.list) - 1; i >= 0; i-- {
		if e := h.list[i]; f.match(e) {
			summary := *e
			summary.Events = nil
			out = append(out, &summary)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
	}
	return out, nil
}
