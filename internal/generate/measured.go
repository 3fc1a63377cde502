package generate

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// The cost model's measured inputs: what the functions add to the time they
// wait for, and what each logs. None is guessed; docs/generate.md ("Lambda
// memory", "Log bytes") has the commands that measure them and the runs the
// numbers come from.

// functionOverhead is what a warm function adds, at each measured memory
// size, to the time it waits for, from the real bootstraps under the Lambda
// emulator held to the memory's CPU share (lambdarie.StartAtMemory):
//   - forward: a batch of 10 records of 10 message groups whose executions
//     each take 400 ms, beyond those 400 ms (BenchmarkBatchAtMemory in
//     functions/forward);
//   - deliver: one delivery of a signed 4 KiB body to an HTTPS target that
//     answers at once, over a fresh TLS connection (BenchmarkDeliverAtMemory
//     in functions/deliver, fresh-tls; a kept-alive connection is faster).
var functionOverhead = map[string]map[int]time.Duration{
	"forward": {128: 82 * time.Millisecond, 256: 28 * time.Millisecond, 512: 16 * time.Millisecond},
	"deliver": {128: 58 * time.Millisecond, 256: 30 * time.Millisecond, 512: 13 * time.Millisecond},
}

// overhead is functionOverhead at memoryMB: the value measured at the largest
// measured size not above it (less CPU is never faster), the smallest
// measured size's below that.
func overhead(function string, memoryMB int) (d time.Duration, measuredAtMB int) {
	sizes := make([]int, 0, len(functionOverhead[function]))
	for mb := range functionOverhead[function] {
		sizes = append(sizes, mb)
	}
	slices.Sort(sizes)
	measuredAtMB = sizes[0]
	for _, mb := range sizes {
		if mb <= memoryMB {
			measuredAtMB = mb
		}
	}
	return functionOverhead[function][measuredAtMB], measuredAtMB
}

// logVolume is what one unit of work writes to CloudWatch Logs: events and
// their message bytes (CloudWatch counts 26 bytes more per event, see
// logEventOverhead).
type logVolume struct {
	Events int
	Bytes  int
}

// lambdaLog is what each function writes per warm invocation and per record
// it handles: the platform's START, END and REPORT lines, its own log lines
// and its EMF metric lines (forward: a "delivered" line and one EMF line per
// record; deliver: a "delivered" line and one EMF line per delivery), as the
// real bootstraps print them under the Lambda emulator
// (TestLambdaLogBytes in this package checks these against a fresh
// measurement).
var lambdaLog = map[string]struct{ PerInvocation, PerRecord logVolume }{
	"forward": {PerInvocation: logVolume{Events: 3, Bytes: 260}, PerRecord: logVolume{Events: 2, Bytes: 783}},
	"deliver": {PerInvocation: logVolume{Events: 5, Bytes: 652}},
}

// executionLog is what Step Functions writes to CloudWatch Logs for one
// execution that delivers at the first attempt, measured from the twin's
// history of a real execution of the minimal golden config's workflow
// (service minimal, route orders, us-east-1) rendered as AWS's log records
// (statemachine.Execution.LogRecords): TestExecutionLogBytes in this package
// runs it again and fails when these are stale.
type executionLog struct {
	Log logVolume
	// BytesPerBodyByte is how the bytes grow with the webhook body, when
	// execution data is logged (the body is escaped twice in each copy).
	BytesPerBodyByte float64
}

// executionLogKey picks a row of executionLogs.
type executionLogKey struct {
	Level    config.LogLevel
	WithData bool
}

// The reference execution executionLogs was measured from.
const (
	executionLogBodyBytes = 4 << 10
	// executionLogARNBytes is the length of its execution ARN, which every
	// record repeats.
	executionLogARNBytes = 136
)

var executionLogs = map[executionLogKey]executionLog{
	{config.LogAll, false}: {Log: logVolume{Events: 9, Bytes: 2812}},
	{config.LogAll, true}:  {Log: logVolume{Events: 9, Bytes: 40317}, BytesPerBodyByte: 8.37},
}

// logEventOverhead is what CloudWatch Logs counts per event beyond its
// message: "the sum of all event messages in UTF-8, plus 26 bytes for each
// log event" (PutLogEvents,
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html).
// The model bills it as ingested data, the conservative reading.
const logEventOverhead = 26

// bytes is the volume's ingested size.
func (v logVolume) bytes() int { return v.Bytes + v.Events*logEventOverhead }

// accessLogRecord is the line API Gateway writes to the access log of an API
// webhookq creates, per webhook (terraform/ingress.tf, access_log_format:
// TestAccessLogFieldsMatchTheModule keeps the fields equal), each $context
// variable at the width AWS writes it for an accepted webhook: a 16-character
// request id, the CLF request time, the route key, and "-" for the empty
// error messages
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html).
// jsonencode writes the keys sorted, as encoding/json does.
func accessLogRecord(routeKey string) []byte {
	b, err := json.Marshal(map[string]string{
		"requestId":         "JbkWSgqBoAMEVmA=",
		"requestTime":       "06/Dec/2026:09:00:00 +0000",
		"routeKey":          routeKey,
		"status":            "200",
		"error":             "-",
		"integrationError":  "-",
		"integrationStatus": "200",
	})
	if err != nil {
		panic("generate: access log record: " + err.Error())
	}
	return b
}

// accessLogFields are the $context variables accessLogRecord stands for, by
// key.
var accessLogFields = map[string]string{
	"requestId":         "$context.requestId",
	"requestTime":       "$context.requestTime",
	"routeKey":          "$context.routeKey",
	"status":            "$context.status",
	"error":             "$context.error.message",
	"integrationError":  "$context.integrationErrorMessage",
	"integrationStatus": "$context.integrationStatus",
}
