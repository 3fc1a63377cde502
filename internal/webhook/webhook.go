// Package webhook is the wire contract between the pipeline's parts: the SQS
// message attributes ingress writes, the execution input the forwarder builds,
// the error names the workflow matches, and the headers a target receives.
//
// Every part (API Gateway mapping, forward, deliver, notify, the ASL, the local
// twin, redrive) takes these names from here, so they cannot drift apart.
package webhook

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SQS message attribute names written by ingress.
const (
	// AttrWebhookID carries the webhook id assigned at ingress (the API Gateway
	// request id); it survives retries, DLQ moves and redrives.
	AttrWebhookID = "webhook-id"
	// AttrRoute names the route the webhook came in on.
	AttrRoute = "webhook-route"
	// AttrReceivedAt is the ingress time, RFC 3339 / epoch millis on AWS.
	AttrReceivedAt = "webhook-received-at"
	// AttrHeaderPrefix prefixes each carried request header: "h-X-Event-Type".
	AttrHeaderPrefix = "h-"
	// AttrRedriveCount counts redrives from the DLQ: raised by internal/redrive
	// on each copy it sends back, and by the forwarder when it parks again a
	// message an SQS message move task brought back (still carrying AttrFailure).
	AttrRedriveCount = "webhook-redrive-count"
	// AttrBodyEncoding is "base64" when the SQS body is the base64 of the raw
	// request body (SQS bodies must be text; a non-UTF-8 body travels this way).
	// Absent means the SQS body is the request body itself.
	AttrBodyEncoding = "webhook-body-encoding"
	// AttrFailure is a Failure as JSON: why and when a message was parked in
	// the DLQ (cmd/redrive lists it). One attribute, because SQS allows ten per
	// message and carried headers need the rest.
	AttrFailure = "webhook-failure"
)

// ReservedAttributes is how many of SQS's ten message attributes webhookq
// itself may use (id, route, received-at, body-encoding, redrive-count,
// failure); a route carries at most MaxMessageAttributes-ReservedAttributes headers.
const (
	MaxMessageAttributes = 10
	ReservedAttributes   = 6
)

// Failure records a parked message's last failure (the AttrFailure attribute).
type Failure struct {
	// Reason is why the message was parked, one of Reasons; empty on a
	// message parked before reasons were recorded.
	Reason         Reason `json:"reason,omitempty"`
	Error          string `json:"error"`
	Cause          string `json:"cause,omitempty"`
	FirstAttemptAt string `json:"firstAttemptAt,omitempty"` // RFC 3339
	FailedAt       string `json:"failedAt"`                 // RFC 3339
	ReceiveCount   int    `json:"receiveCount"`
	ExecutionARN   string `json:"executionArn,omitempty"`
}

// Reason says why a message was parked in the DLQ. The operator tools filter
// by it, the metrics count by it and the docs explain each; Reasons is the one
// list of them.
type Reason string

// The park reasons.
const (
	// ReasonExhausted: its executions failed with retryable errors until the
	// forwarder's retry policy gave up.
	ReasonExhausted Reason = "exhausted"
	// ReasonPermanent: the target refused it for good (Webhook.Permanent).
	ReasonPermanent Reason = "permanent"
	// ReasonMalformed: the record can never run (missing or invalid
	// attributes, an unknown route).
	ReasonMalformed Reason = "malformed"
	// ReasonTooLarge: its execution input exceeds what the workflow can carry.
	ReasonTooLarge Reason = "too_large"
	// ReasonSignature: it failed its route's inbound signature verification.
	ReasonSignature Reason = "signature"
	// ReasonReceiveLimit: it reached SQS's receive limit (the redrive
	// policy's backstop) before its retry window closed or without running,
	// which the retry policy never does in normal operation.
	ReasonReceiveLimit Reason = "receive_limit"
)

// Reasons lists every park reason with what it means, in the order the docs
// and tools show them.
var Reasons = []struct {
	Reason  Reason
	Meaning string
}{
	{ReasonExhausted, "retryable failures until the retry policy gave up"},
	{ReasonPermanent, "the target refused it for good (4xx other than 408/429)"},
	{ReasonMalformed, "the message can never run: missing or invalid attributes, unknown route"},
	{ReasonTooLarge, "the execution input exceeds the workflow's data limit"},
	{ReasonSignature, "the inbound signature did not verify"},
	{ReasonReceiveLimit, "received as often as SQS's redrive policy allows before the retry policy ended it (StartSyncExecution failing for long, forward invocations failing)"},
}

// ParseReason returns the Reason named s, or false when s names none.
func ParseReason(s string) (Reason, bool) {
	for _, r := range Reasons {
		if string(r.Reason) == s {
			return r.Reason, true
		}
	}
	return "", false
}

// Error names the deliver function raises and the workflow matches. Lambda
// reports a returned Go error's type name as errorType, and a type name cannot
// hold a dot: the deliver handler returns a messages.InvokeResponse_Error
// (aws-lambda-go passes it through unchanged) whose Type is exactly one of
// these (delivery.LambdaError).
const (
	// ErrRetryable: 5xx, 408, 429, timeouts, connection errors.
	ErrRetryable = "Webhook.Retryable"
	// ErrPermanent: other 4xx, an invalid target, an invalid inbound signature.
	ErrPermanent = "Webhook.Permanent"
	// ErrDataLimitExceeded is how an execution fails when its data passes
	// Step Functions' payload limit; no Catch catches it.
	ErrDataLimitExceeded = "States.DataLimitExceeded"
)

// Errors Lambda itself raises when a workflow task invokes a function
// (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html):
// throttling, when the function has no concurrency left, and transient
// service faults. The workflow retries each kind apart
// (config.LambdaRetries).
var (
	LambdaThrottleErrors = []string{"Lambda.TooManyRequestsException"}
	LambdaServiceErrors  = []string{
		"Lambda.ClientExecutionTimeoutException",
		"Lambda.ServiceException",
		"Lambda.AWSLambdaException",
		"Lambda.SdkClientException",
	}
)

// Headers a target receives on every delivery.
const (
	// HeaderWebhookID is the stable id, the same on every retry and redrive, for
	// the target's deduplication (Standard Webhooks "webhook-id").
	HeaderWebhookID = "Webhook-Id"
	// HeaderIdempotencyKey carries the same id under the IETF draft name.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderTimestamp and HeaderSignature are set when outbound signing is on
	// (Standard Webhooks: "v1,<base64 hmac-sha256(id.timestamp.body)>").
	HeaderTimestamp = "Webhook-Timestamp"
	HeaderSignature = "Webhook-Signature"
)

// Body encodings of the envelope.
const (
	EncodingUTF8   = "utf8"
	EncodingBase64 = "base64"
)

// Envelope is the execution input of a route's workflow: one SQS message and
// what the forwarder knows about its delivery.
type Envelope struct {
	WebhookID      string `json:"webhookId"`
	Route          string `json:"route"`
	Group          string `json:"group"`
	MessageID      string `json:"messageId"`
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	ReceiveCount   int    `json:"receiveCount"`
	// RetryUntil is when the message's retry window closes (RFC 3339): its
	// SentTimestamp plus queue.retry_window.
	RetryUntil string `json:"retryUntil,omitempty"`
	// FinalAttempt is true on the message's last execution — one that could
	// end past RetryUntil, or on the last receive SQS's redrive policy
	// allows: if it fails, the forwarder parks the message, and the workflow
	// notifies on this one.
	FinalAttempt bool              `json:"finalAttempt"`
	ReceivedAt   string            `json:"receivedAt,omitempty"`
	Headers      map[string]string `json:"headers"`
	Body         string            `json:"body"`
	BodyEncoding string            `json:"bodyEncoding"`
}

// EncodeBody stores raw bytes in the envelope: as text when they are valid
// UTF-8 and JSON escaping does not make them longer than base64 would (a body
// of quotes or control characters can grow up to sixfold), base64 otherwise —
// so a body of n bytes takes at most 4⌈n/3⌉+2 bytes of the execution input
// (EncodeInput), the bound the derived body limit relies on.
func (e *Envelope) EncodeBody(raw []byte) {
	b64 := base64.StdEncoding.EncodedLen(len(raw))
	if utf8.Valid(raw) && jsonStringLen(raw) <= b64+2 {
		e.Body, e.BodyEncoding = string(raw), EncodingUTF8
		return
	}
	e.Body, e.BodyEncoding = base64.StdEncoding.EncodeToString(raw), EncodingBase64
}

// jsonStringLen is the length of raw (valid UTF-8) as a string in
// EncodeInput's JSON, quotes included, without building it.
func jsonStringLen(raw []byte) int {
	n := 2
	for _, c := range string(raw) {
		switch {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n += 2
		case c < 0x20 || c == '\u2028' || c == '\u2029':
			n += 6 // \u00XX; encoding/json escapes U+2028 and U+2029 even without HTML escaping
		default:
			n += utf8.RuneLen(c)
		}
	}
	return n
}

// RawBody returns the exact bytes that came in at ingress.
func (e *Envelope) RawBody() ([]byte, error) {
	switch e.BodyEncoding {
	case EncodingUTF8, "":
		return []byte(e.Body), nil
	case EncodingBase64:
		b, err := base64.StdEncoding.DecodeString(e.Body)
		if err != nil {
			return nil, fmt.Errorf("envelope body: %w", err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("envelope body: unknown encoding %q", e.BodyEncoding)
	}
}

// ParseReceivedAt reads an envelope's ReceivedAt: epoch milliseconds (what
// ingress writes) or RFC 3339 (SQS's SentTimestamp as the forwarder formats
// it); ok is false for anything else.
func ParseReceivedAt(v string) (t time.Time, ok bool) {
	v = strings.TrimSpace(v)
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms), true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// DeliverRequest is the deliver function's input, built by the workflow's
// Deliver state: the execution input plus the state's retry count
// ($$.State.RetryCount), so the attempt number is known.
type DeliverRequest struct {
	Webhook    Envelope `json:"webhook"`
	RetryCount int      `json:"retryCount"`
}

// Attempt is the 1-based number of this delivery attempt within the execution.
func (r DeliverRequest) Attempt() int { return r.RetryCount + 1 }

// DeliverResult is what a successful attempt returns, for the execution history.
type DeliverResult struct {
	Status    int    `json:"status"`
	Attempt   int    `json:"attempt"`
	LatencyMS int64  `json:"latencyMs"`
	Excerpt   string `json:"bodyExcerpt,omitempty"`
	// Probe is set when deliver answered a post-deploy probe instead of
	// delivering (its verdict, internal/lambda/probe): nothing reached the
	// target but a connection.
	Probe string `json:"probe,omitempty"`
}

// CaughtError is a Catch result: the error name and cause Step Functions recorded.
type CaughtError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// NotifyRequest is the notify function's input, built by the workflow's Notify
// state from the execution input, the caught error and the context object.
type NotifyRequest struct {
	Webhook      Envelope    `json:"webhook"`
	Error        CaughtError `json:"error"`
	ExecutionID  string      `json:"executionId"`
	StateMachine string      `json:"stateMachine"`
	StartTime    string      `json:"startTime,omitempty"`
}

// Environment variables the Lambdas read (set by the Terraform module). The
// route configuration itself is routes.yaml, bundled in each zip.
const (
	// EnvConfig overrides the path of routes.yaml (default: $LAMBDA_TASK_ROOT/routes.yaml).
	EnvConfig = "WEBHOOKQ_CONFIG"
	// EnvStateMachineARNPrefix is "arn:aws:states:<region>:<account>:stateMachine:<service>-";
	// the forwarder appends the route name.
	EnvStateMachineARNPrefix = "WEBHOOKQ_STATE_MACHINE_ARN_PREFIX"
	// EnvQueueURL is the source queue's URL (for ChangeMessageVisibility).
	EnvQueueURL = "WEBHOOKQ_QUEUE_URL"
	// EnvDLQURL is the dead-letter queue's URL. When set, the forwarder parks
	// a message there itself on its final failure (and a malformed one at
	// once), with AttrFailure saying why; it needs sqs:SendMessage on the DLQ.
	// Unset, SQS's redrive policy moves messages, without AttrFailure.
	EnvDLQURL = "WEBHOOKQ_DLQ_URL"
	// EnvNotifyFunction names the notify function. The forwarder invokes it
	// asynchronously for a message it parks without the workflow having
	// notified (one that can never run, or whose final execution never
	// reached Notify); it needs lambda:InvokeFunction on exactly that function.
	EnvNotifyFunction = "WEBHOOKQ_NOTIFY_FUNCTION"
	// EnvProbeKey is the ARN of the KMS HMAC key post-deploy probes are
	// MACed with (internal/lambda/probe); deliver checks a probe's MAC with
	// it and needs kms:VerifyMac on it. Unset, deliver refuses every probe.
	EnvProbeKey = "WEBHOOKQ_PROBE_KEY"
)

// Bound shortens text that travels in causes, failure records and log fields
// to at most n bytes on a rune boundary, then marks the cut with "…" (three
// more bytes): a shortened result is at most n+3 bytes long.
func Bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// CauseMessage is what a recorded cause says: the errorMessage of a Lambda
// error payload (the cause Step Functions records for a failed Lambda task,
// e.g. {"errorMessage":"attempt 1/3: … target answered 400: …","errorType":
// "Webhook.Permanent"}, which the workflow's Fail state passes on), or the
// cause as it is when it is not one.
func CauseMessage(cause string) string {
	var le struct {
		ErrorMessage *string `json:"errorMessage"`
	}
	if err := json.Unmarshal([]byte(cause), &le); err == nil && le.ErrorMessage != nil {
		return *le.ErrorMessage
	}
	return cause
}
