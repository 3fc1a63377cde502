package statemachine

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/webhookq/webhookq/internal/config"
)

// logLevels is the one table of which history events Step Functions writes
// to CloudWatch Logs at each level, for the event types the generated
// workflows produce (Task, Choice, Succeed, Fail states and their lambda:invoke
// tasks); ALL logs every one. From "Log levels"
// (https://docs.aws.amazon.com/step-functions/latest/dg/cloudwatch-log-level.html).
// An event type not in the table (the twin's RetryScheduled and ErrorCaught,
// FailStateExited) is never logged: AWS has no such event.
var logLevels = map[EventType][]config.LogLevel{
	EventExecutionStarted:   {config.LogAll},
	EventExecutionSucceeded: {config.LogAll},
	EventExecutionFailed:    {config.LogAll, config.LogError, config.LogFatal},
	EventExecutionTimedOut:  {config.LogAll, config.LogError, config.LogFatal},
	StateEntered("Task"):    {config.LogAll},
	StateExited("Task"):     {config.LogAll},
	EventTaskScheduled:      {config.LogAll},
	eventTaskStarted:        {config.LogAll},
	EventTaskSucceeded:      {config.LogAll},
	EventTaskFailed:         {config.LogAll, config.LogError},
	EventTaskTimedOut:       {config.LogAll, config.LogError},
	StateEntered("Choice"):  {config.LogAll},
	StateExited("Choice"):   {config.LogAll},
	StateEntered("Pass"):    {config.LogAll},
	StateExited("Pass"):     {config.LogAll},
	StateEntered("Wait"):    {config.LogAll},
	StateExited("Wait"):     {config.LogAll},
	StateEntered("Succeed"): {config.LogAll},
	StateExited("Succeed"):  {config.LogAll},
	StateEntered("Fail"):    {config.LogAll, config.LogError},
}

// eventTaskStarted follows every TaskScheduled on AWS; the twin's history
// leaves it out (it would say nothing the next event does not).
const eventTaskStarted EventType = "TaskStarted"

// LogRecords renders the execution as the CloudWatch Logs events Step
// Functions writes for it at level, with or without execution data (inputs,
// outputs, task parameters): one JSON object per history event with the
// fields AWS documents for Express logs (id, type, details,
// previous_event_id, event_timestamp, execution_arn, redrive_count), details
// after the API's HistoryEvent details of that type. roleARN is the
// execution role ExecutionStarted names. The cost model counts these bytes
// (see internal/generate's logbytes).
func (e *Execution) LogRecords(level config.LogLevel, includeData bool, roleARN string) [][]byte {
	var out [][]byte
	id := 0
	add := func(typ EventType, ev Event, details map[string]any) {
		levels, isAWSEvent := logLevels[typ]
		if !isAWSEvent {
			return
		}
		id++
		if !slices.Contains(levels, level) {
			return
		}
		rec := logRecord{
			ID:        strconv.Itoa(id),
			Type:      typ,
			Details:   details,
			Previous:  strconv.Itoa(id - 1),
			Timestamp: strconv.FormatInt(ev.Timestamp.UnixMilli(), 10),
			Execution: e.ARN,
			Redrive:   "0",
		}
		b, err := json.Marshal(rec)
		if err != nil {
			// details hold only strings, numbers and raw JSON the runner
			// produced; a failure here is a bug in this file.
			panic("statemachine: log record: " + err.Error())
		}
		out = append(out, b)
	}
	data := func(d map[string]any, key string, raw json.RawMessage) map[string]any {
		if includeData && raw != nil {
			d[key] = string(raw)
			d[key+"Details"] = map[string]bool{"truncated": false}
		}
		return d
	}
	for _, ev := range e.Events {
		switch ev.Type {
		case EventExecutionStarted:
			add(ev.Type, ev, data(map[string]any{"roleArn": roleARN}, "input", ev.Input))
		case EventExecutionSucceeded:
			add(ev.Type, ev, data(map[string]any{}, "output", ev.Output))
		case EventExecutionFailed, EventExecutionTimedOut, EventTaskFailed, EventTaskTimedOut:
			d := map[string]any{"error": ev.Error, "cause": ev.Cause}
			if ev.Type == EventTaskFailed || ev.Type == EventTaskTimedOut {
				d["resourceType"], d["resource"] = "lambda", "invoke"
			}
			add(ev.Type, ev, d)
		case EventTaskScheduled:
			d := map[string]any{"resourceType": "lambda", "resource": "invoke", "region": regionOf(e.ARN)}
			if includeData {
				params, _ := json.Marshal(map[string]any{"FunctionName": ev.Resource, "Payload": ev.Input})
				d["parameters"] = string(params)
			}
			add(ev.Type, ev, d)
			add(eventTaskStarted, ev, map[string]any{"resourceType": "lambda", "resource": "invoke"})
		case EventTaskSucceeded:
			// On AWS the task's output is Lambda's whole Invoke response,
			// the function's answer under Payload.
			result, _ := json.Marshal(lambdaInvokeResult(ev.Output, "00000000-0000-0000-0000-000000000000"))
			add(ev.Type, ev, data(map[string]any{"resourceType": "lambda", "resource": "invoke"}, "output", result))
		default:
			if ev.Input != nil {
				add(ev.Type, ev, data(map[string]any{"name": ev.State}, "input", ev.Input))
			} else {
				add(ev.Type, ev, data(map[string]any{"name": ev.State}, "output", ev.Output))
			}
		}
	}
	return out
}

// logRecord is one Express log event; field order is AWS's.
type logRecord struct {
	ID        string         `json:"id"`
	Type      EventType      `json:"type"`
	Details   map[string]any `json:"details"`
	Previous  string         `json:"previous_event_id"`
	Timestamp string         `json:"event_timestamp"`
	Execution string         `json:"execution_arn"`
	Redrive   string         `json:"redrive_count"`
}

// regionOf is the region field of an ARN.
func regionOf(arn string) string {
	if parts := strings.SplitN(arn, ":", 5); len(parts) == 5 {
		return parts[3]
	}
	return ""
}
