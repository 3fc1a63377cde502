package asl

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

// RouteLimits are a route's size limits, derived from its built workflow:
// what the forwarder and the local twin's ingress refuse as too large.
type RouteLimits struct {
	// DataLimit is the workflow's: the largest execution input and where it
	// binds.
	DataLimit
	// EnvelopeOverhead bounds the execution input less the body
	// (webhook.EnvelopeOverhead).
	EnvelopeOverhead int
	// DerivedMaxBody is the largest raw body whose execution input stays
	// within MaxInput whatever its bytes and headers: base64 (the longer of
	// the envelope's two body encodings) of it plus the overhead.
	DerivedMaxBody int
	// MaxBody is the body limit that applies: DerivedMaxBody, or
	// ingress.max_body_bytes when that is lower.
	MaxBody int
}

// TooLarge says why a webhook cannot run, or is nil when its body and
// execution input are within the limits. Both are checked: a body within
// MaxBody always makes an input within MaxInput, unless its envelope broke
// the bounds ingress keeps to.
func (l RouteLimits) TooLarge(bodyBytes, inputBytes int) error {
	switch {
	case bodyBytes > l.MaxBody && l.MaxBody < l.DerivedMaxBody:
		return fmt.Errorf("a body of %d bytes exceeds ingress.max_body_bytes (%d)", bodyBytes, l.MaxBody)
	case bodyBytes > l.MaxBody:
		return fmt.Errorf("a body of %d bytes exceeds the %d bytes the workflow can carry (Step Functions limits its data to %d bytes)", bodyBytes, l.MaxBody, config.StatePayloadMax)
	case inputBytes > l.MaxInput:
		return fmt.Errorf("an execution input of %d bytes exceeds the %d bytes the workflow can carry (Step Functions limits its data to %d bytes)", inputBytes, l.MaxInput, config.StatePayloadMax)
	}
	return nil
}

// Limits derives the size limits of route r's workflow from Build's
// definition: the largest input every path carries within Step Functions'
// payload limit (MaxInput, with the bounds below), and the largest body
// whose envelope fits it.
func Limits(cfg *config.Config, r config.Route) (RouteLimits, error) {
	dl, err := MaxInput(Build(cfg, r), dataBounds(cfg, r))
	if err != nil {
		return RouteLimits{}, fmt.Errorf("route %s: %w", r.Name, err)
	}
	l := RouteLimits{DataLimit: dl, EnvelopeOverhead: webhook.EnvelopeOverhead(r.Name, r.Headers)}
	l.DerivedMaxBody = max(0, (dl.MaxInput-l.EnvelopeOverhead)/4*3)
	l.MaxBody = l.DerivedMaxBody
	if m := cfg.Ingress.MaxBodyBytes; m > 0 && m < l.MaxBody {
		l.MaxBody = m
	}
	return l, nil
}

// AllLimits derives every route's limits, by route name.
func AllLimits(cfg *config.Config) (map[string]RouteLimits, error) {
	all := make(map[string]RouteLimits, len(cfg.Routes))
	for _, r := range cfg.Routes {
		l, err := Limits(cfg, r)
		if err != nil {
			return nil, err
		}
		all[r.Name] = l
	}
	return all, nil
}

// Bounds of what AWS writes into a workflow's data.
const (
	// accountIDLen: an AWS account id is 12 digits.
	accountIDLen = 12
	// longestPartition is the longest AWS partition name in an ARN
	// (aws, aws-cn, aws-us-gov, aws-iso-b…): ARNs are bounded with it.
	longestPartition = "aws-us-gov"
	// maxExecutionName is Step Functions' limit on an execution name
	// (80 characters, https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
	maxExecutionName = 80
	// expressExecutionUUID is the id an Express execution ARN ends in.
	expressExecutionUUID = "00000000-0000-0000-0000-000000000000"
	// maxErrorNameBytes is the longest error name Step Functions records
	// (a history event's error: 256 characters,
	// https://docs.aws.amazon.com/step-functions/latest/apireference/API_TaskFailedEventDetails.html).
	maxErrorNameBytes = 256
	// serviceCauseBytes is kept for a cause Lambda or Step Functions writes
	// itself (a task timeout, a throttled or failed invocation, a runtime
	// that exited): a few hundred bytes of ASCII; this is an allowance, not
	// a documented limit (docs/testing.md lists it as unproven).
	serviceCauseBytes = 2048
	// invokeMetadataBytes is kept for the lambda:invoke integration's
	// wrapping of the function's answer (ExecutedVersion, SdkHttpMetadata
	// with the response headers, SdkResponseMetadata, StatusCode), under a
	// kilobyte; an allowance like serviceCauseBytes.
	invokeMetadataBytes = 2048
)

// dataBounds are webhookq's bounds for route r's workflow.
func dataBounds(cfg *config.Config, r config.Route) DataBounds {
	sm := cfg.StateMachineName(r)
	arn := func(service, resource string) string {
		return "arn:" + longestPartition + ":" + service + ":" + cfg.Region + ":" + strings.Repeat("0", accountIDLen) + ":" + resource
	}
	executionID := arn("states", "express:"+sm+":"+strings.Repeat("x", maxExecutionName)+":"+expressExecutionUUID)
	caught := caughtErrorBytes()
	return DataBounds{
		Payload: config.StatePayloadMax,
		Context: map[string]int{
			"$$.Execution.Id":        len(quote(executionID)),
			"$$.Execution.Name":      len(quote(strings.Repeat("x", maxExecutionName))),
			"$$.Execution.StartTime": len(quote(contextTimestamp)),
			"$$.StateMachine.Id":     len(quote(arn("states", "stateMachine:"+sm))),
			"$$.StateMachine.Name":   len(quote(sm)),
		},
		Templates: map[string]int{
			DeliverFunctionARNVar: len(arn("lambda", "function:"+cfg.FunctionName("deliver"))),
			NotifyFunctionARNVar:  len(arn("lambda", "function:"+cfg.FunctionName("notify"))),
		},
		Functions: map[string]FunctionBounds{
			Placeholder(DeliverFunctionARNVar): {Result: webhook.MaxDeliverResultBytes(), Error: caught},
			Placeholder(NotifyFunctionARNVar):  {Result: webhook.MaxNotifyResultBytes, Error: caught},
		},
		InvokeMetadata: invokeMetadataBytes,
	}
}

// caughtErrorBytes bounds a Catch result of a webhookq task,
// {"Error":…,"Cause":…}: the larger of a function error — whose cause is
// the runtime's error document, JSON inside a JSON string, so each byte of
// a message of webhook.MaxCauseBytes can take seven (\u0001 → \\u0001) —
// and a cause AWS writes itself.
func caughtErrorBytes() int {
	name := strings.Repeat("E", maxErrorNameBytes)
	doc, err := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{strings.Repeat("\x01", webhook.MaxCauseBytes), name})
	if err != nil {
		panic("asl: marshal an error document: " + err.Error())
	}
	caught := func(cause string) int {
		b, err := json.Marshal(struct{ Error, Cause string }{name, cause})
		if err != nil {
			panic("asl: marshal a caught error: " + err.Error())
		}
		return len(b)
	}
	// An AWS cause is bounded as if every byte were a quote (two bytes).
	return max(caught(string(doc)), caught(strings.Repeat(`"`, serviceCauseBytes)))
}
