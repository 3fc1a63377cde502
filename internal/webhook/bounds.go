package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Step Functions fails an execution, uncatchably, when a state's data passes
// its payload limit (States.DataLimitExceeded), so everything of variable
// size that the pipeline puts into a workflow's data is bounded here; the
// generator derives the largest execution input and body from these bounds
// and the built workflow (asl.RouteLimits).
const (
	// MaxCauseBytes bounds the error message the deliver and notify
	// functions return (BoundCause). It becomes the Cause a Catch records,
	// which the Notify state then carries twice.
	MaxCauseBytes = 1024
	// MaxExcerptBytes bounds the target's answer kept in a DeliverResult.
	MaxExcerptBytes = 512
	// MaxNotifyResultBytes bounds the notify function's answer as JSON
	// ({"delivered":["sns","slack"]}).
	MaxNotifyResultBytes = 64
	// MaxFailureBytes bounds the AttrFailure value (EncodeFailure), so a
	// parked message always fits the dead-letter queue.
	MaxFailureBytes = 4096
)

// Bounds of the envelope's fields besides the body and the route, as they
// arrive from ingress.
const (
	// MaxIDBytes bounds the webhook id (API Gateway's request id) and the
	// SQS message id.
	MaxIDBytes = 128
	// MaxGroupBytes is SQS's limit on a MessageGroupId: 128 characters of
	// ASCII letters, digits and punctuation
	// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
	MaxGroupBytes = 128
	// MaxSequenceNumberBytes: a FIFO sequence number is a 128-bit number,
	// at most 39 decimal digits.
	MaxSequenceNumberBytes = 40
	// MaxHeaderBytes is API Gateway's limit on the request line and header
	// values of an HTTP API request together (10240 bytes,
	// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html),
	// so the carried headers' values never exceed it.
	MaxHeaderBytes = 10240
)

// BoundCause shortens a function's error message to at most MaxCauseBytes
// (on a rune boundary, the cut marked with "…").
func BoundCause(s string) string { return Bound(s, MaxCauseBytes-len("…")) }

// EncodeInput is the execution input of an envelope: compact JSON without
// HTML escaping, as Step Functions writes state data (escaping <, > and &
// would make a body up to six times longer than it is).
func EncodeInput(env Envelope) ([]byte, error) {
	return CompactJSON(env)
}

// EncodeFailure is the AttrFailure value of f: compact JSON of at most
// MaxFailureBytes, the cause shortened to fit (then, should that not be
// enough, the execution ARN and the error name).
func EncodeFailure(f Failure) (string, error) {
	fields := []*string{&f.Cause, &f.ExecutionARN, &f.Error}
	for {
		b, err := CompactJSON(f)
		if err != nil {
			return "", err
		}
		excess := len(b) - MaxFailureBytes
		if excess <= 0 {
			return string(b), nil
		}
		i := slices.IndexFunc(fields, func(s *string) bool { return len(*s) > len("…") })
		if i < 0 {
			return "", fmt.Errorf("failure record of %d bytes exceeds %d", len(b), MaxFailureBytes)
		}
		// Each byte of a string takes at least one byte of JSON, so cutting
		// the excess (and room for the mark) shortens the record enough, or
		// the next round cuts again.
		s := fields[i]
		*s = Bound(*s, max(0, len(*s)-excess-len("…")))
	}
}

// MaxDeliverResultBytes bounds a DeliverResult as JSON: the longest numbers
// and an excerpt of MaxExcerptBytes control characters, each escaped to six
// bytes.
func MaxDeliverResultBytes() int {
	worst := DeliverResult{
		Status:    math.MaxInt32,
		Attempt:   math.MaxInt32,
		LatencyMS: math.MinInt64,
		Excerpt:   strings.Repeat("\x01", MaxExcerptBytes),
	}
	b, err := json.Marshal(worst)
	if err != nil {
		panic("webhook: marshal a DeliverResult: " + err.Error())
	}
	return len(b)
}

// EnvelopeOverhead bounds the execution input of a route's webhook less its
// body: every field at its bound, every string made of characters that
// escape to two bytes (state data is UTF-8 that SQS accepted, so no control
// character but tab, newline and carriage return occurs), the carried headers
// holding MaxHeaderBytes between them, the body base64-encoded and empty.
// A body of n bytes then adds at most base64's 4⌈n/3⌉ bytes (EncodeBody
// never picks a longer text form).
func EnvelopeOverhead(route string, headers []string) int {
	escapes := func(n int) string { return strings.Repeat(`"`, n) }
	env := Envelope{
		WebhookID:      escapes(MaxIDBytes),
		Route:          route,
		Group:          escapes(MaxGroupBytes),
		MessageID:      escapes(MaxIDBytes),
		SequenceNumber: strings.Repeat("9", MaxSequenceNumberBytes),
		ReceiveCount:   math.MaxInt32,
		// The forwarder writes RetryUntil in UTC, RFC 3339 with nanoseconds:
		// at most 30 bytes, none escaped.
		RetryUntil:   strings.Repeat("9", len("2006-01-02T15:04:05.999999999Z")),
		ReceivedAt:   escapes(len(time.RFC3339Nano)),
		Headers:      map[string]string{},
		BodyEncoding: EncodingBase64,
	}
	for i, h := range headers {
		env.Headers[h] = ""
		if i == 0 {
			env.Headers[h] = escapes(MaxHeaderBytes)
		}
	}
	b, err := EncodeInput(env)
	if err != nil {
		panic("webhook: encode an envelope: " + err.Error())
	}
	return len(b)
}

// CompactJSON is v as Step Functions holds and measures state data: compact,
// without HTML escaping. The bounds here and the twin's data limit
// (internal/twin/statemachine) measure with it.
func CompactJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
