package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/webhookq/webhookq/internal/redrive"
	"github.com/webhookq/webhookq/internal/webhook"
)

// reportMoves prints one line per message a run acted on (verb: moved,
// purged, would move) and per message it skipped, and why, on w.
func reportMoves(w io.Writer, verb string, scan redrive.Scan) {
	for _, m := range scan.Messages {
		fmt.Fprintf(w, "%s %s\tgroup=%s\twebhook=%s\troute=%s\treason=%s\tredrives=%d\n",
			verb, m.MessageID, dash(m.Group), dash(m.WebhookID), dash(m.Route), dash(string(m.Reason)), m.RedriveCount)
	}
	for _, s := range scan.Skipped {
		fmt.Fprintf(w, "skipped %s\tgroup=%s\twebhook=%s\tredrives=%d\t%s: %s\n",
			s.MessageID, dash(s.Group), dash(s.WebhookID), s.RedriveCount, s.Why, s.Why.Meaning())
	}
}

// summarize is the closing line of a run: how many moved (or purged), how
// many were skipped and why, what stayed out of reach.
func summarize(w io.Writer, verb string, scan redrive.Scan) {
	line := fmt.Sprintf("%s %d message(s)", verb, len(scan.Messages))
	var parts []string
	for _, k := range redrive.Skips {
		if n := scan.SkippedFor(k.Skip); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k.Skip))
		}
	}
	if len(parts) > 0 {
		line += fmt.Sprintf(", skipped %d (%s)", len(scan.Skipped), strings.Join(parts, ", "))
	}
	fmt.Fprintln(w, line)
	if n := scan.Unreached(); n > 0 {
		fmt.Fprintf(w, "note: about %d message(s) were not reached: FIFO shows a group's next messages only once the ones ahead leave the DLQ\n", n)
	}
}

func printTable(w io.Writer, msgs []redrive.Message) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE ID\tROUTE\tGROUP\tWEBHOOK ID\tFIRST FAILURE\tLAST FAILURE\tRECEIVES\tREDRIVES\tREASON\tERROR")
	for _, m := range msgs {
		errText := m.Error
		if m.Cause != "" {
			errText += ": " + oneLine(m.Cause, 80)
		}
		if len(m.Problems) > 0 {
			errText += " [" + strings.Join(m.Problems, "; ") + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", m.MessageID, dash(m.Route), dash(m.Group), dash(m.WebhookID),
			stamp(m.FirstFailureAt), stamp(m.LastFailureAt), m.ReceiveCount, m.RedriveCount, dash(string(m.Reason)), dash(errText))
	}
	return tw.Flush()
}

// listedMessage is the --json shape of one message, one per line.
type listedMessage struct {
	MessageID      string   `json:"messageId"`
	Route          string   `json:"route"`
	Group          string   `json:"group"`
	WebhookID      string   `json:"webhookId"`
	ReceivedAt     string   `json:"receivedAt,omitempty"`
	FirstFailureAt string   `json:"firstFailureAt,omitempty"`
	LastFailureAt  string   `json:"lastFailureAt,omitempty"`
	ReceiveCount   int      `json:"receiveCount"`
	RedriveCount   int      `json:"redriveCount"`
	Reason         string   `json:"reason,omitempty"`
	Error          string   `json:"error,omitempty"`
	Cause          string   `json:"cause,omitempty"`
	Problems       []string `json:"problems,omitempty"`
}

func printJSON(w io.Writer, msgs []redrive.Message) error {
	enc := json.NewEncoder(w)
	for _, m := range msgs {
		err := enc.Encode(listedMessage{
			MessageID: m.MessageID, Route: m.Route, Group: m.Group, WebhookID: m.WebhookID,
			ReceivedAt: rfc(m.ReceivedAt), FirstFailureAt: rfc(m.FirstFailureAt), LastFailureAt: rfc(m.LastFailureAt),
			ReceiveCount: m.ReceiveCount, RedriveCount: m.RedriveCount, Reason: string(m.Reason), Error: m.Error, Cause: m.Cause, Problems: m.Problems,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func stamp(t time.Time) string { return dash(rfc(t)) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine collapses s to one line of at most n bytes (plus "…" when cut),
// never cutting inside a rune.
func oneLine(s string, n int) string {
	return webhook.Bound(strings.Join(strings.Fields(s), " "), n)
}
