package statemachine

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
)

const testRoleARN = "arn:aws:iam::123456789012:role/sales-approvals-approval-progress-sfn"

// loggedExecution runs the generated workflow with a deliver function that
// answers by script.
func loggedExecution(t *testing.T, deliver []string, final bool) *Execution {
	t.Helper()
	clock := newVirtualClock()
	fns := newScriptedFunctions(clock, deliver, []string{outcomeOK})
	r := &Runner{Invoker: fns, Clock: clock, Rand: fixedRand(0.5), Region: "ap-northeast-1"}
	e, err := r.Execute(context.Background(), generatedMachine(t, config.NotifyFinal), "m-1-1", envelope(t, final))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type decodedRecord struct {
	ID, Type, Previous, Timestamp, Execution, Redrive string
	Details                                           map[string]any
}

func decodeRecords(t *testing.T, recs [][]byte) []decodedRecord {
	t.Helper()
	var out []decodedRecord
	for _, b := range recs {
		var r struct {
			ID        string         `json:"id"`
			Type      string         `json:"type"`
			Details   map[string]any `json:"details"`
			Previous  string         `json:"previous_event_id"`
			Timestamp string         `json:"event_timestamp"`
			Execution string         `json:"execution_arn"`
			Redrive   string         `json:"redrive_count"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("record %s: %v", b, err)
		}
		out = append(out, decodedRecord{r.ID, r.Type, r.Previous, r.Timestamp, r.Execution, r.Redrive, r.Details})
	}
	return out
}

func types(rs []decodedRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Type)
	}
	return out
}

// A successful delivery logs its nine history events at ALL (TaskStarted
// included, which the twin's history leaves out) and nothing at ERROR,
// FATAL or OFF; execution data appears only when asked for.
func TestLogRecordsOfASuccess(t *testing.T) {
	t.Parallel()
	e := loggedExecution(t, []string{outcomeOK}, false)
	all := decodeRecords(t, e.LogRecords(config.LogAll, false, testRoleARN))
	want := []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
		"TaskStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"}
	if got := types(all); !slices.Equal(got, want) {
		t.Fatalf("ALL logs %v, want %v", got, want)
	}
	for i, r := range all {
		if r.ID != itoa(i+1) || r.Previous != itoa(i) || r.Execution != e.ARN || r.Redrive != "0" || r.Timestamp == "" {
			t.Errorf("record %d: %+v", i, r)
		}
		for _, k := range []string{"input", "output", "parameters"} {
			if _, ok := r.Details[k]; ok {
				t.Errorf("%s carries %s without include_execution_data", r.Type, k)
			}
		}
	}
	if all[0].Details["roleArn"] != testRoleARN || all[2].Details["region"] != "ap-northeast-1" {
		t.Errorf("ExecutionStarted %v, TaskScheduled %v", all[0].Details, all[2].Details)
	}
	for _, level := range []config.LogLevel{config.LogError, config.LogFatal, config.LogOff} {
		if n := len(e.LogRecords(level, true, testRoleARN)); n != 0 {
			t.Errorf("%s logs %d records of a success, want none", level, n)
		}
	}

	data := decodeRecords(t, e.LogRecords(config.LogAll, true, testRoleARN))
	if data[0].Details["input"] != string(e.Input) {
		t.Errorf("ExecutionStarted input %v, want the execution input", data[0].Details["input"])
	}
	var invoke struct{ Payload, StatusCode any }
	if err := json.Unmarshal([]byte(data[4].Details["output"].(string)), &invoke); err != nil || invoke.Payload == nil || invoke.StatusCode == nil {
		t.Errorf("TaskSucceeded output %v, want Lambda's Invoke response", data[4].Details["output"])
	}
}

// A permanent failure on the final receive: ERROR logs the failure events
// (the task's, the Fail state's, the execution's), FATAL only the
// execution's, and the twin-only ErrorCaught takes no id.
func TestLogRecordsOfAFailure(t *testing.T) {
	t.Parallel()
	e := loggedExecution(t, []string{outcomePermanent}, true)
	all := decodeRecords(t, e.LogRecords(config.LogAll, false, testRoleARN))
	for i, r := range all {
		if r.ID != itoa(i+1) {
			t.Errorf("record %d (%s) has id %s: ids must run without gaps", i, r.Type, r.ID)
		}
		if r.Type == string(EventCaught) || r.Type == string(EventRetryScheduled) {
			t.Errorf("logged the twin-only event %s", r.Type)
		}
	}
	errs := types(decodeRecords(t, e.LogRecords(config.LogError, false, testRoleARN)))
	if want := []string{"TaskFailed", "FailStateEntered", "ExecutionFailed"}; !slices.Equal(errs, want) {
		t.Errorf("ERROR logs %v, want %v", errs, want)
	}
	if fatal := types(decodeRecords(t, e.LogRecords(config.LogFatal, false, testRoleARN))); !slices.Equal(fatal, []string{"ExecutionFailed"}) {
		t.Errorf("FATAL logs %v, want [ExecutionFailed]", fatal)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
