package webhook

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncodeFailureStaysWithinMaxFailureBytes(t *testing.T) {
	t.Parallel()
	short := Failure{Reason: ReasonExhausted, Error: ErrRetryable, Cause: "attempt 5/5: 503", FailedAt: "2026-01-02T03:04:05Z", ReceiveCount: 5}
	for _, tc := range []struct {
		name string
		f    Failure
	}{
		{"short", short},
		{"long plain cause", Failure{Reason: ReasonTooLarge, Error: ErrPermanent, Cause: strings.Repeat("x", 100_000)}},
		{"cause of characters JSON escapes sixfold", Failure{Error: ErrRetryable, Cause: strings.Repeat("\x01", 5000)}},
		{"multi-byte cause", Failure{Error: ErrRetryable, Cause: strings.Repeat("日本", 3000)}},
		{"long ARN and error too", Failure{Error: strings.Repeat("E", 3000), ExecutionARN: strings.Repeat("a", 3000), Cause: strings.Repeat("c", 3000)}},
	} {
		got, err := EncodeFailure(tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) > MaxFailureBytes {
			t.Errorf("%s: %d bytes, more than %d", tc.name, len(got), MaxFailureBytes)
		}
		var back Failure
		if err := json.Unmarshal([]byte(got), &back); err != nil || !utf8.ValidString(back.Cause) {
			t.Errorf("%s: does not decode to a failure with a valid cause: %v", tc.name, err)
		}
		if back.Reason != tc.f.Reason || back.ReceiveCount != tc.f.ReceiveCount {
			t.Errorf("%s: reason or receive count changed: %+v", tc.name, back)
		}
	}
	if got, _ := EncodeFailure(short); !strings.Contains(got, short.Cause) {
		t.Errorf("a failure that fits is shortened: %s", got)
	}
}

func TestBoundCause(t *testing.T) {
	t.Parallel()
	if got := BoundCause(strings.Repeat("é", MaxCauseBytes)); len(got) > MaxCauseBytes || !utf8.ValidString(got) {
		t.Errorf("BoundCause gave %d bytes (valid UTF-8: %v), want at most %d", len(got), utf8.ValidString(got), MaxCauseBytes)
	}
	if got := BoundCause("short"); got != "short" {
		t.Errorf("BoundCause(short) = %q", got)
	}
}

func TestMaxDeliverResultBytesBoundsEveryResult(t *testing.T) {
	t.Parallel()
	for _, excerpt := range []string{"", strings.Repeat("\x01", MaxExcerptBytes), strings.Repeat(`"`, MaxExcerptBytes), strings.Repeat("\u2028", MaxExcerptBytes/3)} {
		b, err := json.Marshal(DeliverResult{Status: 503, Attempt: 100_000_000, LatencyMS: 900_000, Excerpt: excerpt})
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > MaxDeliverResultBytes() {
			t.Errorf("a result of %d bytes passes the bound %d", len(b), MaxDeliverResultBytes())
		}
	}
}

// TestEnvelopeOverheadBoundsEncodedInputs: an envelope whose fields keep to
// their bounds (as ingress makes them) never encodes longer than the overhead
// plus base64 of its body, and the bound is reached.
func TestEnvelopeOverheadBoundsEncodedInputs(t *testing.T) {
	t.Parallel()
	headers := []string{"X-Event-Type", "X-Delivery-Id"}
	overhead := EnvelopeOverhead("approval-progress", headers)
	body := []byte(strings.Repeat(`"`, 3000))
	base := Envelope{
		WebhookID: "Ab1CdEfGhIJKlMn=", Route: "approval-progress", Group: "req-42", MessageID: "4f1b4ba6-7d3e-4c2f-9d8e-0a1b2c3d4e5f",
		SequenceNumber: "18849496460467696128", ReceiveCount: 5, RetryUntil: "2026-11-28T10:00:00.123456789Z", FinalAttempt: true,
		ReceivedAt: "1767322245123", Headers: map[string]string{"X-Event-Type": "approved", "X-Delivery-Id": "d-1"},
	}
	worst := base
	worst.WebhookID = strings.Repeat(`\`, MaxIDBytes)
	worst.MessageID = strings.Repeat("\t", MaxIDBytes)
	worst.Group = strings.Repeat(`"`, MaxGroupBytes)
	worst.SequenceNumber = strings.Repeat("1", MaxSequenceNumberBytes)
	worst.ReceivedAt = "2026-01-02T03:04:05.123456789+09:00"
	worst.Headers = map[string]string{"X-Event-Type": strings.Repeat(`"`, MaxHeaderBytes/2), "X-Delivery-Id": strings.Repeat("\n", MaxHeaderBytes/2)}
	for name, env := range map[string]Envelope{"typical": base, "worst": worst} {
		env.EncodeBody(body)
		in, err := EncodeInput(env)
		if err != nil {
			t.Fatal(err)
		}
		if limit := overhead + base64.StdEncoding.EncodedLen(len(body)); len(in) > limit {
			t.Errorf("%s: input of %d bytes, over the bound %d", name, len(in), limit)
		}
		if name == "worst" && len(in) < overhead+base64.StdEncoding.EncodedLen(len(body))-64 {
			t.Errorf("worst: input of %d bytes, far below the bound %d: the bound is loose", len(in), overhead+base64.StdEncoding.EncodedLen(len(body)))
		}
	}
}
