package notifier

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/webhookq/webhookq/internal/webhook"
)

// Bounds of what a notification carries.
const (
	// SubjectMax is below SNS's subject limit (ASCII, under 100 characters).
	SubjectMax = 99
	// causeMax bounds the cause quoted in a message.
	causeMax = 2000
)

// Message is one failure notification, composed once and sent to every channel.
type Message struct {
	Subject string
	Text    string
}

// Details are the facts of a failure, decoded from the notify request.
type Details struct {
	Route, Group, WebhookID string
	Error, Cause            string
	// Receives counts the SQS receives so far (each ran at most one
	// execution, with its own in-workflow retries).
	Receives int
	// RetryUntil is when the message's retry window closes (RFC 3339).
	RetryUntil     string
	HeadedForDLQ   bool
	ConsoleURL     string
	RedriveCommand string
}

// Describe extracts the details of a notify request.
func Describe(req webhook.NotifyRequest) Details {
	env := req.Webhook
	return Details{
		Route:          env.Route,
		Group:          env.Group,
		WebhookID:      env.WebhookID,
		Error:          req.Error.Error,
		Cause:          webhook.Bound(webhook.CauseMessage(req.Error.Cause), causeMax),
		Receives:       env.ReceiveCount,
		RetryUntil:     env.RetryUntil,
		HeadedForDLQ:   env.FinalAttempt || req.Error.Error == webhook.ErrPermanent,
		ConsoleURL:     ConsoleURL(req.ExecutionID, req.StartTime),
		RedriveCommand: RedriveCommand(env.WebhookID),
	}
}

// Compose writes the notification.
func Compose(d Details) Message {
	fate := "will be retried"
	if d.HeadedForDLQ {
		fate = "moved to the DLQ"
	}
	subject := fmt.Sprintf("webhookq %s: delivery failed, %s (%s)", d.Route, fate, d.Error)
	var b strings.Builder
	fmt.Fprintf(&b, "Webhook delivery failed on route %s.\n\n", d.Route)
	fmt.Fprintf(&b, "Route:      %s\n", d.Route)
	fmt.Fprintf(&b, "Group:      %s\n", d.Group)
	fmt.Fprintf(&b, "Webhook id: %s\n", d.WebhookID)
	fmt.Fprintf(&b, "Error:      %s\n", d.Error)
	fmt.Fprintf(&b, "Cause:      %s\n", d.Cause)
	fmt.Fprintf(&b, "Attempts:   receive %d (each execution runs the workflow's retries)", d.Receives)
	if d.RetryUntil != "" {
		fmt.Fprintf(&b, "; retried until %s", d.RetryUntil)
	}
	b.WriteString("\n")
	if d.HeadedForDLQ {
		b.WriteString("Fate:       headed for the dead-letter queue; it stays there until redriven\n")
	} else {
		b.WriteString("Fate:       back to the queue; SQS will hand it out again\n")
	}
	if d.ConsoleURL != "" {
		fmt.Fprintf(&b, "Execution:  %s\n", d.ConsoleURL)
	}
	if d.HeadedForDLQ {
		fmt.Fprintf(&b, "\nRedrive it once the target is fixed:\n  %s\n", d.RedriveCommand)
	}
	return Message{Subject: snsSubject(subject), Text: b.String()}
}

// RedriveCommand is the command that puts this webhook back on the queue.
func RedriveCommand(webhookID string) string {
	return RedriveCommandLine("--webhook-id", webhookID)
}

// RedriveCommandLine is `go run ./cmd/redrive redrive` with args, each quoted
// for a POSIX shell where it needs it, so the line works when pasted.
func RedriveCommandLine(args ...string) string {
	line := "go run ./cmd/redrive redrive"
	for _, a := range args {
		line += " " + shellQuote(a)
	}
	return line
}

// ConsoleURL links an execution in the Step Functions console: Express
// executions (ARN "arn:aws:states:REGION:ACCOUNT:express:…") open from their
// CloudWatch Logs record and need the start date; others open by ARN.
func ConsoleURL(executionARN, startTime string) string {
	parts := strings.SplitN(executionARN, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || parts[2] != "states" || parts[3] == "" {
		return ""
	}
	region := parts[3]
	base := fmt.Sprintf("https://%s.console.aws.amazon.com/states/home?region=%s", region, url.QueryEscape(region))
	if parts[5] != "" && strings.HasPrefix(parts[5], "express:") {
		u := base + "#/express-executions/details/" + executionARN
		if t, err := time.Parse(time.RFC3339Nano, startTime); err == nil {
			u += fmt.Sprintf("?startDate=%d", t.UnixMilli())
		}
		return u
	}
	return base + "#/v2/executions/details/" + executionARN
}

// snsSubject makes a subject SNS accepts: printable ASCII, no line breaks,
// under 100 characters.
func snsSubject(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	out := b.String()
	if len(out) > SubjectMax {
		out = out[:SubjectMax-3] + "..."
	}
	return out
}

// shellQuote quotes a value for a POSIX shell unless it is plainly safe.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/=+@", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
