package twin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookq/webhookq/internal/twin/esm"
)

// lambdaPrefix starts the paths of Lambda's REST API the twin answers: the
// event source mapping operations cmd/redrive --pause-esm uses
// (GetEventSourceMapping, UpdateEventSourceMapping) and
// ListEventSourceMappings, for the forward function's one mapping.
const lambdaPrefix = "/2015-03-31/event-source-mappings"

// mappingAPI serves the forward function's event source mapping.
type mappingAPI struct {
	uuid        string
	queueARN    string
	functionARN string
	batchSize   int
	concurrency int
	// poller is set once the mapping runs.
	poller atomic.Pointer[esm.Poller]
	// saveEnabled keeps the mapping's Enabled across restarts, as Lambda
	// does; nil keeps nothing.
	saveEnabled func(enabled bool) error

	mu       sync.Mutex
	modified time.Time
}

// State is the mapping's state as GetEventSourceMapping reports it:
// Enabled, Disabling or Disabled; Creating before it runs.
func (a *mappingAPI) State() string {
	if p := a.poller.Load(); p != nil {
		return p.State()
	}
	return "Creating"
}

// UUID names the mapping (--esm-uuid).
func (a *mappingAPI) UUID() string { return a.uuid }

// SetEnabled pauses or resumes the mapping, as UpdateEventSourceMapping's
// Enabled does, and keeps the choice for the next start.
func (a *mappingAPI) SetEnabled(enabled bool) error {
	p := a.poller.Load()
	if p == nil {
		return errors.New("the event source mapping is starting")
	}
	p.SetEnabled(enabled)
	a.mu.Lock()
	a.modified = time.Now()
	a.mu.Unlock()
	if a.saveEnabled != nil {
		if err := a.saveEnabled(enabled); err != nil {
			return fmt.Errorf("the mapping is %s, but the twin could not keep that for its next start: %w", p.State(), err)
		}
	}
	return nil
}

// mappingUUID is a stable id for the mapping of a queue, so the same
// --esm-uuid works across restarts.
func mappingUUID(queueARN string) string {
	h := hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte(queueARN)); return s[:16] }())
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

type mappingConfig struct {
	UUID                           string   `json:"UUID"`
	EventSourceArn                 string   `json:"EventSourceArn"`
	FunctionArn                    string   `json:"FunctionArn"`
	BatchSize                      int      `json:"BatchSize"`
	MaximumBatchingWindowInSeconds int      `json:"MaximumBatchingWindowInSeconds"`
	FunctionResponseTypes          []string `json:"FunctionResponseTypes"`
	ScalingConfig                  struct {
		MaximumConcurrency int `json:"MaximumConcurrency"`
	} `json:"ScalingConfig"`
	State                 string  `json:"State"`
	StateTransitionReason string  `json:"StateTransitionReason"`
	LastModified          float64 `json:"LastModified"`
}

func (a *mappingAPI) config(p *esm.Poller) mappingConfig {
	a.mu.Lock()
	modified := a.modified
	a.mu.Unlock()
	c := mappingConfig{
		UUID: a.uuid, EventSourceArn: a.queueARN, FunctionArn: a.functionARN, BatchSize: a.batchSize,
		FunctionResponseTypes: []string{"ReportBatchItemFailures"}, State: p.State(),
		StateTransitionReason: "USER_INITIATED", LastModified: float64(modified.UnixMilli()) / 1000,
	}
	c.ScalingConfig.MaximumConcurrency = a.concurrency
	return c
}

func (a *mappingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := a.poller.Load()
	if p == nil {
		writeLambdaError(w, http.StatusServiceUnavailable, "ServiceException", "the event source mapping is starting")
		return
	}
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, lambdaPrefix), "/")
	switch {
	case rest == "" && r.Method == http.MethodGet:
		writeLambda(w, http.StatusOK, map[string]any{"EventSourceMappings": []mappingConfig{a.config(p)}})
	case rest != a.uuid:
		writeLambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist. (event source mapping "+rest+")")
	case r.Method == http.MethodGet:
		writeLambda(w, http.StatusOK, a.config(p))
	case r.Method == http.MethodPut:
		var in struct {
			Enabled *bool `json:"Enabled"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64*1024)).Decode(&in); err != nil {
			writeLambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "the request body is not JSON: "+err.Error())
			return
		}
		if in.Enabled != nil {
			if err := a.SetEnabled(*in.Enabled); err != nil {
				writeLambdaError(w, http.StatusInternalServerError, "ServiceException", err.Error())
				return
			}
		}
		writeLambda(w, http.StatusAccepted, a.config(p))
	default:
		writeLambdaError(w, http.StatusMethodNotAllowed, "InvalidRequestContentException", "the local twin answers GET and PUT on an event source mapping")
	}
}

func writeLambda(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeLambdaError answers as Lambda's REST API does: the error code in
// X-Amzn-Errortype, a JSON body with Type and Message.
func writeLambdaError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-Errortype", code)
	writeLambda(w, status, map[string]string{"Type": "User", "Message": msg})
}
