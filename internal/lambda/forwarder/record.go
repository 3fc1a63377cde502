package forwarder

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

// SQS system attributes of a record (events.SQSMessage.Attributes).
const (
	attrMessageGroupID = "MessageGroupId"
	attrReceiveCount   = "ApproximateReceiveCount"
	attrSequenceNumber = "SequenceNumber"
	attrSentTimestamp  = "SentTimestamp"
)

// maxExecutionName is Step Functions' limit on an execution name.
const maxExecutionName = 80

// errMalformed marks a record that can never be forwarded as it is: it is a
// permanent failure and heads for the DLQ quickly.
var errMalformed = errors.New("malformed record")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// parsed is what the forwarder knows about one record before starting its execution.
type parsed struct {
	route    config.Route
	envelope webhook.Envelope
	// webhookIDFallback is set when the record had no webhook id attribute and
	// the message id stands in for it.
	webhookIDFallback bool
	// uncarried names the header attributes of headers the route does not
	// carry, which were left out of the envelope (carriedHeaders).
	uncarried []string
	// body is the raw body, as ingress received it (what a signature covers).
	body []byte
	// bodyBytes is the raw body's length.
	bodyBytes int
	// sent is SQS's SentTimestamp: the message's retry window opens then.
	sent time.Time
}

// stringAttribute is a message attribute's string value; ok is false when the
// attribute is absent.
func stringAttribute(rec events.SQSMessage, name string) (value string, ok bool, err error) {
	a, ok := rec.MessageAttributes[name]
	if !ok {
		return "", false, nil
	}
	if a.StringValue == nil {
		return "", true, malformed("message attribute %q has no string value (data type %q)", name, a.DataType)
	}
	return *a.StringValue, true, nil
}

// parseRecord builds the execution input of a record. Every error it returns
// wraps errMalformed, except an unknown route (which wraps it too: a route
// that is not configured cannot become valid by waiting).
func parseRecord(cfg *config.Config, rec events.SQSMessage) (parsed, error) {
	var p parsed
	if rec.MessageId == "" {
		return p, malformed("no messageId")
	}
	routeName, ok, err := stringAttribute(rec, webhook.AttrRoute)
	if err != nil {
		return p, err
	}
	if !ok || routeName == "" {
		return p, malformed("no %q message attribute", webhook.AttrRoute)
	}
	route, ok := cfg.Route(routeName)
	if !ok {
		return p, malformed("unknown route %q", routeName)
	}
	p.route = route

	group := rec.Attributes[attrMessageGroupID]
	if group == "" {
		return p, malformed("no %s attribute (the queue must be FIFO)", attrMessageGroupID)
	}
	receiveCount, err := strconv.Atoi(rec.Attributes[attrReceiveCount])
	if err != nil || receiveCount < 1 {
		return p, malformed("%s %q is not a positive number", attrReceiveCount, rec.Attributes[attrReceiveCount])
	}
	sentMillis, err := strconv.ParseInt(rec.Attributes[attrSentTimestamp], 10, 64)
	if err != nil || sentMillis <= 0 {
		return p, malformed("%s %q is not a time in epoch milliseconds; the retry window cannot start", attrSentTimestamp, rec.Attributes[attrSentTimestamp])
	}
	p.sent = time.UnixMilli(sentMillis)

	webhookID, ok, err := stringAttribute(rec, webhook.AttrWebhookID)
	if err != nil {
		return p, err
	}
	if !ok || webhookID == "" {
		webhookID, p.webhookIDFallback = rec.MessageId, true
	}
	receivedAt, _, err := stringAttribute(rec, webhook.AttrReceivedAt)
	if err != nil {
		return p, err
	}
	if receivedAt == "" {
		receivedAt = sentTime(rec.Attributes[attrSentTimestamp])
	}

	headers, uncarried, err := carriedHeaders(route, rec)
	p.uncarried = uncarried
	if err != nil {
		return p, err
	}

	raw, err := rawBody(rec)
	if err != nil {
		return p, err
	}

	p.envelope = webhook.Envelope{
		WebhookID:      webhookID,
		Route:          route.Name,
		Group:          group,
		MessageID:      rec.MessageId,
		SequenceNumber: rec.Attributes[attrSequenceNumber],
		ReceiveCount:   receiveCount,
		RetryUntil:     p.sent.Add(cfg.Queue.RetryWindow).UTC().Format(time.RFC3339Nano),
		ReceivedAt:     receivedAt,
		Headers:        headers,
	}
	p.envelope.EncodeBody(raw)
	p.body, p.bodyBytes = raw, len(raw)
	return p, nil
}

// carriedHeaders are the record's header attributes of the headers its route
// carries (routes.yaml headers, compared as HTTP compares names). Any other
// header attribute is left out and named in uncarried: ingress writes only the
// carried ones, and API Gateway pastes a carried header's value verbatim into
// the MessageAttributes JSON (terraform/ingress.tf), so a value crafted to
// close its string could add attributes of its own — headers the target would
// otherwise receive from webhookq, behind its signature.
func carriedHeaders(route config.Route, rec events.SQSMessage) (headers map[string]string, uncarried []string, err error) {
	headers = map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(rec.MessageAttributes)) {
		header, ok := strings.CutPrefix(name, webhook.AttrHeaderPrefix)
		if !ok {
			continue
		}
		if !route.Carries(header) {
			uncarried = append(uncarried, name)
			continue
		}
		a := rec.MessageAttributes[name]
		if a.StringValue == nil {
			return nil, nil, malformed("carried header attribute %q has no string value", name)
		}
		headers[header] = *a.StringValue
	}
	return headers, uncarried, nil
}

// rawEnvelope is what a record that could not be parsed says about itself,
// for its notification: the attributes as they came (bounded: they are as
// long as the sender made them), the message id standing in for a missing
// webhook id.
func rawEnvelope(rec events.SQSMessage) webhook.Envelope {
	env := webhook.Envelope{
		WebhookID:  rec.MessageId,
		Group:      webhook.Bound(rec.Attributes[attrMessageGroupID], maxLoggedCause),
		MessageID:  rec.MessageId,
		ReceivedAt: sentTime(rec.Attributes[attrSentTimestamp]),
	}
	env.ReceiveCount, _ = strconv.Atoi(rec.Attributes[attrReceiveCount])
	if a, ok := rec.MessageAttributes[webhook.AttrWebhookID]; ok && a.StringValue != nil && *a.StringValue != "" {
		env.WebhookID = webhook.Bound(*a.StringValue, maxLoggedCause)
	}
	if a, ok := rec.MessageAttributes[webhook.AttrRoute]; ok && a.StringValue != nil {
		env.Route = webhook.Bound(*a.StringValue, maxLoggedCause)
	}
	return env
}

// rawBody is the request body as it came in at ingress.
func rawBody(rec events.SQSMessage) ([]byte, error) {
	encoding, _, err := stringAttribute(rec, webhook.AttrBodyEncoding)
	if err != nil {
		return nil, err
	}
	switch encoding {
	case "":
		return []byte(rec.Body), nil
	case webhook.EncodingBase64:
		raw, err := base64.StdEncoding.DecodeString(rec.Body)
		if err != nil {
			return nil, malformed("body is not valid base64: %v", err)
		}
		return raw, nil
	default:
		return nil, malformed("unknown body encoding %q", encoding)
	}
}

// sentTime turns SQS's SentTimestamp (epoch milliseconds) into RFC 3339; an
// unparsable value gives "" (the field is informational).
func sentTime(millis string) string {
	ms, err := strconv.ParseInt(millis, 10, 64)
	if err != nil || ms <= 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

// ExecutionName is the deterministic name of the execution that forwards one
// receive of a message: the message id and the receive count, so each
// redelivery is its own execution in the console and a retry of the same
// receive is recognisable. Synchronous Express executions do not require
// unique names; the name is for people and logs. Characters outside
// [A-Za-z0-9_-] (which CloudWatch logging needs) become '_'.
func ExecutionName(messageID string, receiveCount int) string {
	suffix := "-" + strconv.Itoa(receiveCount)
	var b strings.Builder
	for _, r := range messageID {
		if b.Len()+len(suffix) >= maxExecutionName {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		b.WriteByte('_')
	}
	return b.String() + suffix
}

// queueURL derives a queue's URL from its ARN
// (arn:PARTITION:sqs:REGION:ACCOUNT:NAME), for when WEBHOOKQ_QUEUE_URL is not set.
func queueURL(arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[3] == "" || parts[4] == "" || parts[5] == "" {
		return "", fmt.Errorf("not an SQS queue ARN: %q", arn)
	}
	domain := "amazonaws.com"
	if parts[1] == "aws-cn" {
		domain = "amazonaws.com.cn"
	}
	return fmt.Sprintf("https://sqs.%s.%s/%s/%s", parts[3], domain, parts[4], parts[5]), nil
}
