package redrive

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/webhook"
)

// Message is a DLQ message as an operator sees it. Parsing is lenient: a
// message with missing or malformed attributes is still listed and movable,
// its unknown fields left empty.
type Message struct {
	MessageID     string
	ReceiptHandle string
	Group         string
	WebhookID     string
	Route         string
	// ReceivedAt is the ingress time (webhook-received-at, else SentTimestamp).
	ReceivedAt time.Time
	// SentAt is SQS's SentTimestamp of the DLQ message: when the forwarder
	// parked it (a new message), or when it was first sent for a message
	// SQS's redrive policy moved. Zero when SQS did not say.
	SentAt time.Time
	// FirstFailureAt and LastFailureAt come from the failure the forwarder
	// recorded; for a message SQS moved on its own, from the DLQ's timestamps.
	FirstFailureAt time.Time
	LastFailureAt  time.Time
	ReceiveCount   int
	// Reason is why the forwarder parked it (empty for a message SQS's
	// redrive policy moved, which carries no failure record).
	Reason webhook.Reason
	Error  string
	// Cause is the recorded cause as a person reads it: the target's status
	// and answer, not the Lambda error payload around them.
	Cause        string
	RedriveCount int
	Body         string
	Attributes   map[string]types.MessageAttributeValue
	// Problems lists what could not be parsed, for the listing.
	Problems []string
}

// ParseMessage reads what webhookq and SQS recorded on a received DLQ message
// (cmd/redrive list and the twin's page show the same).
func ParseMessage(m types.Message) Message {
	msg := Message{
		MessageID:     deref(m.MessageId),
		ReceiptHandle: deref(m.ReceiptHandle),
		Body:          deref(m.Body),
		Attributes:    m.MessageAttributes,
		Group:         m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)],
	}
	str := func(name string) string {
		if v, ok := m.MessageAttributes[name]; ok && v.StringValue != nil {
			return *v.StringValue
		}
		return ""
	}
	msg.WebhookID = str(webhook.AttrWebhookID)
	msg.Route = str(webhook.AttrRoute)
	if msg.WebhookID == "" {
		msg.Problems = append(msg.Problems, "no "+webhook.AttrWebhookID+" attribute")
	}
	if v := str(webhook.AttrRedriveCount); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			msg.Problems = append(msg.Problems, "bad "+webhook.AttrRedriveCount+" "+strconv.Quote(v))
		} else {
			msg.RedriveCount = n
		}
	}
	if v := str(webhook.AttrReceivedAt); v != "" {
		t, ok := parseTime(v)
		if !ok {
			msg.Problems = append(msg.Problems, "bad "+webhook.AttrReceivedAt+" "+strconv.Quote(v))
		}
		msg.ReceivedAt = t
	}
	msg.SentAt, _ = parseTime(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)])
	if msg.ReceivedAt.IsZero() {
		msg.ReceivedAt = msg.SentAt
	}
	if v := str(webhook.AttrFailure); v != "" {
		var f webhook.Failure
		if err := json.Unmarshal([]byte(v), &f); err != nil {
			msg.Problems = append(msg.Problems, "bad "+webhook.AttrFailure+" attribute")
		} else {
			msg.Reason, msg.Error, msg.Cause, msg.ReceiveCount = f.Reason, f.Error, webhook.CauseMessage(f.Cause), f.ReceiveCount
			if _, known := webhook.ParseReason(string(f.Reason)); f.Reason != "" && !known {
				msg.Problems = append(msg.Problems, "unknown reason "+strconv.Quote(string(f.Reason)))
			}
			msg.FirstFailureAt, _ = parseTime(f.FirstAttemptAt)
			msg.LastFailureAt, _ = parseTime(f.FailedAt)
		}
	}
	if msg.ReceiveCount == 0 {
		// SQS moved it without the forwarder's record: the DLQ's counters are
		// the best we have (the source queue's count is gone with the move).
		msg.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	}
	if msg.FirstFailureAt.IsZero() {
		msg.FirstFailureAt, _ = parseTime(m.Attributes[string(types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp)])
	}
	if msg.LastFailureAt.IsZero() {
		msg.LastFailureAt = msg.FirstFailureAt
	}
	return msg
}

// parseTime accepts RFC 3339 and epoch milliseconds (SQS's timestamps and
// API Gateway's $context.requestTimeEpoch).
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Filter selects DLQ messages. Empty fields select everything; within a
// field the values are alternatives, across fields all must hold.
type Filter struct {
	Routes     []string
	Groups     []string
	WebhookIDs []string
	MessageIDs []string
	// Reasons selects by why the forwarder parked a message (webhook.Reasons);
	// a message without a recorded reason matches none.
	Reasons []webhook.Reason
	// Since and Until bound the ingress time (inclusive, exclusive).
	Since, Until time.Time
}

// IsZero reports whether the filter selects every message.
func (f Filter) IsZero() bool {
	return len(f.Routes) == 0 && len(f.Groups) == 0 && len(f.WebhookIDs) == 0 &&
		len(f.MessageIDs) == 0 && len(f.Reasons) == 0 && f.Since.IsZero() && f.Until.IsZero()
}

// Match reports whether m is selected.
func (f Filter) Match(m Message) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	if !in(f.Routes, m.Route) || !in(f.Groups, m.Group) || !in(f.WebhookIDs, m.WebhookID) || !in(f.MessageIDs, m.MessageID) {
		return false
	}
	if len(f.Reasons) > 0 && !slices.Contains(f.Reasons, m.Reason) {
		return false
	}
	if !f.Since.IsZero() && (m.ReceivedAt.IsZero() || m.ReceivedAt.Before(f.Since)) {
		return false
	}
	if !f.Until.IsZero() && (m.ReceivedAt.IsZero() || !m.ReceivedAt.Before(f.Until)) {
		return false
	}
	return true
}
