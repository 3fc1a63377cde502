package forwarder_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/webhookq/webhookq/internal/webhook"
)

// FuzzHandle feeds arbitrary bytes to the handler as the runtime would: it
// never panics, and every record of a decodable event is accounted for —
// started (the fake state machine always succeeds) or reported as failed.
func FuzzHandle(f *testing.F) {
	mixed, err := os.ReadFile(filepath.Join("testdata", "batch_mixed.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mixed)
	f.Add([]byte(`{"Records":[]}`))
	f.Add([]byte(`{"Records":[{"messageId":"m","attributes":{"MessageGroupId":"g","ApproximateReceiveCount":"1"},"messageAttributes":{"webhook-route":{"stringValue":"approval-progress","dataType":"String"}}}]}`))
	f.Add([]byte(`{"Records":[{"messageId":"m","messageAttributes":{"webhook-route":{"dataType":"Binary","binaryValue":"AQI="}}}]}`))
	f.Add([]byte(`{"Records":[null,{}]}`))
	f.Add([]byte(`{"Records":`))
	f.Add([]byte(`{}00`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHarness(t, nil, nil)
		out, err := lambda.NewHandler(h.fwd.Handle).Invoke(context.Background(), data)
		if err != nil {
			return // not an SQS event: the runtime reports it, nothing ran
		}
		// The runtime decodes with a json.Decoder (trailing data is ignored).
		var ev events.SQSEvent
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&ev); err != nil {
			t.Fatalf("handler accepted an event that does not decode: %v", err)
		}
		var resp events.SQSEventResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("response %s is not JSON: %v", out, err)
		}
		if started, failed := len(h.starter.started()), len(resp.BatchItemFailures); started+failed != len(ev.Records) {
			t.Fatalf("%d records, %d started + %d failed", len(ev.Records), started, failed)
		}
		ids := map[string]bool{}
		for _, r := range ev.Records {
			ids[r.MessageId] = true
		}
		for _, f := range resp.BatchItemFailures {
			if !ids[f.ItemIdentifier] {
				t.Fatalf("failure %q is no record's message id", f.ItemIdentifier)
			}
		}
	})
}

// FuzzRecord fuzzes the fields of one record: it is either started with an
// envelope that carries the exact body bytes and the carried header, or
// rejected without starting anything.
func FuzzRecord(f *testing.F) {
	f.Add("m-1", "g", "approval-progress", "1", `{"a":1}`, "", "X-Event-Type", "created")
	f.Add("m-2", "g", "approval-completed", "5", base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0xfe}), "base64", "X-Delivery-Id", "d")
	f.Add("m-3", "", "approval-progress", "x", "!!", "base64", "", "")
	f.Add("", "g", "nope", "-1", "", "gzip", "h-", "\xff")
	f.Add("0", "0", "approval-progress", "1", "0", "", "\xff", "0")
	f.Add("m-4", "g", "approval-progress", "1", `{"a":1}`, "", "x-approval-request-id", "r-1")
	f.Add("m-5", "g", "approval-completed", "1", `{"a":1}`, "", "Authorization", "Bearer forged")
	f.Fuzz(func(t *testing.T, messageID, group, route, receive, body, encoding, header, value string) {
		rec := record("x", group, route, 1, body)
		rec.MessageId = messageID
		rec.Attributes["ApproximateReceiveCount"] = receive
		if encoding != "" {
			rec.MessageAttributes[webhook.AttrBodyEncoding] = strAttr(encoding)
		}
		if header != "" {
			rec.MessageAttributes[webhook.AttrHeaderPrefix+header] = strAttr(value)
		}
		h := newHarness(t, nil, nil)
		resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec}})
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		c, started := h.starter.call("wh-x")
		if started == (len(resp.BatchItemFailures) == 1) {
			t.Fatalf("started=%v with %d failures", started, len(resp.BatchItemFailures))
		}
		if !started {
			if !strings.Contains(h.logs.String(), "record rejected") {
				t.Fatalf("rejected without a log line:\n%s", h.logs.String())
			}
			// With a DLQ the rejected record is parked, or, when it cannot
			// be (no id or group), still reported: never both, never neither.
			hd := newHarness(t, nil, withDLQ)
			resp, _ := hd.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec}})
			if parked := len(hd.dlq.calls) == 1; parked == (len(resp.BatchItemFailures) == 1) {
				t.Fatalf("with a DLQ: parked=%v with %d failures", parked, len(resp.BatchItemFailures))
			}
			return
		}
		want := []byte(body)
		if encoding == webhook.EncodingBase64 {
			if want, err = base64.StdEncoding.DecodeString(body); err != nil {
				t.Fatalf("started with an undecodable base64 body")
			}
		}
		got, err := c.envelope.RawBody()
		if err != nil || string(got) != string(want) {
			t.Fatalf("body %q (%v), want %q", got, err, want)
		}
		if header != "" {
			// JSON carries text: invalid UTF-8 (never in an SQS attribute)
			// arrives replaced, as encoding/json does it. Only a header the
			// route carries reaches the envelope.
			wantName, wantValue := jsonText(header), jsonText(value)
			r, _ := testConfig().Route(route)
			carried := r.Carries(header)
			if got, ok := c.envelope.Headers[wantName]; ok != carried || (carried && got != wantValue) {
				t.Fatalf("header %q = %q (present %v), want %q only if the route carries it (%v)", wantName, got, ok, wantValue, carried)
			}
		}
	})
}

// jsonText is s after a trip through encoding/json.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}
