package console

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/notifier"
	"github.com/webhookq/webhookq/internal/redrive"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Mapping is the forward event source mapping as the page controls it.
type Mapping interface {
	UUID() string
	// State is Enabled, Disabling (paused, batches still running) or Disabled.
	State() string
	SetEnabled(enabled bool) error
}

// MaxRedrives is the limit the page's Redrive buttons keep to (the Mover
// it is given must refuse past it, as redrive.Tool.MaxRedrives does).
const MaxRedrives = redrive.DefaultMaxRedrives

// queuedView is a source-queue message as the page shows it.
type queuedView struct {
	fifo.Message
	WebhookID, Route, Body string
}

// parkedView is a DLQ message as the page shows it: what 'redrive list'
// shows (redrive.ParseMessage reads it), and the command that redrives it.
type parkedView struct {
	redrive.Message
	Body string
	// AtLimit: redriven MaxRedrives times; the page's button refuses it.
	AtLimit bool
	Command string
}

// displayBody is a message body for reading: a base64-carried body (not
// text at ingress) is shown decoded and quoted.
func displayBody(body string, attrs map[string]fifo.Attribute) string {
	if attrs[webhook.AttrBodyEncoding].StringValue == webhook.EncodingBase64 {
		if raw, err := base64.StdEncoding.DecodeString(body); err == nil {
			return fmt.Sprintf("(%d bytes, not text) %q", len(raw), raw)
		}
	}
	return body
}

// sqsMessage is m as SQS's ReceiveMessage would return it, so the page reads
// a DLQ message with the same code as cmd/redrive.
func sqsMessage(m fifo.Message) types.Message {
	attrs := map[string]types.MessageAttributeValue{}
	for name, a := range m.Attributes {
		v := types.MessageAttributeValue{DataType: aws.String(a.DataType), BinaryValue: a.BinaryValue}
		if a.BinaryValue == nil {
			v.StringValue = aws.String(a.StringValue)
		}
		attrs[name] = v
	}
	system := map[string]string{
		string(types.MessageSystemAttributeNameMessageGroupId):          m.GroupID,
		string(types.MessageSystemAttributeNameSentTimestamp):           strconv.FormatInt(m.SentTimestamp.UnixMilli(), 10),
		string(types.MessageSystemAttributeNameApproximateReceiveCount): strconv.Itoa(m.ReceiveCount),
	}
	if !m.FirstReceiveTimestamp.IsZero() {
		system[string(types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp)] = strconv.FormatInt(m.FirstReceiveTimestamp.UnixMilli(), 10)
	}
	return types.Message{MessageId: aws.String(m.MessageID), Body: aws.String(m.Body), Attributes: system, MessageAttributes: attrs}
}

// redriveCommand is the cmd/redrive line that does what the page's buttons
// do, against this twin: it works when pasted in the repository.
func (p *Page) redriveCommand(r *http.Request, selection ...string) string {
	args := []string{"--endpoint-url", "http://" + r.Host}
	if path := p.o.Config.Path; path != "" && path != config.DefaultPath {
		// cmd/redrive reads config.DefaultPath unless told otherwise.
		args = append(args, "--config", path)
	}
	return notifier.RedriveCommandLine(append(args, selection...)...)
}

func (p *Page) queues(w http.ResponseWriter, r *http.Request) {
	l := p.layout(r, "Queues")
	queued, err := p.o.Store.List(l.Queue)
	if err != nil {
		http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
		return
	}
	dlq, err := p.o.Store.List(l.DLQ)
	if err != nil {
		http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
		return
	}
	data := struct {
		layout
		Queued      []queuedView
		Parked      []parkedView
		MappingUUID string
		MaxRedrives int
		AllCommand  string
	}{layout: l, MaxRedrives: MaxRedrives, AllCommand: p.redriveCommand(r, "--all")}
	if p.o.Mapping != nil {
		data.MappingUUID = p.o.Mapping.UUID()
	}
	for _, m := range queued {
		data.Queued = append(data.Queued, queuedView{Message: m, WebhookID: m.Attributes[webhook.AttrWebhookID].StringValue,
			Route: m.Attributes[webhook.AttrRoute].StringValue, Body: displayBody(m.Body, m.Attributes)})
	}
	for _, m := range dlq {
		v := parkedView{Message: redrive.ParseMessage(sqsMessage(m)), Body: displayBody(m.Body, m.Attributes)}
		v.AtLimit = v.RedriveCount >= MaxRedrives
		selection := []string{"--message-id", v.MessageID}
		if v.WebhookID != "" {
			selection = []string{"--webhook-id", v.WebhookID}
		}
		if v.AtLimit {
			selection = append(selection, "--force")
		}
		v.Command = p.redriveCommand(r, selection...)
		data.Parked = append(data.Parked, v)
	}
	p.render(w, "queues.html", data)
}

// sameOrigin refuses a form posted from another site open in the same
// browser: the twin listens on loopback, which any page can post to.
func sameOrigin(w http.ResponseWriter, r *http.Request) bool {
	if o := r.Header.Get("Origin"); (o != "" && o != "http://"+r.Host) || r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		http.Error(w, "console: cross-site request refused", http.StatusForbidden)
		return false
	}
	return true
}

func (p *Page) redrive(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var f redrive.Filter
	if id := r.PostForm.Get("message-id"); id != "" {
		f.MessageIDs = []string{id}
	}
	scan, err := p.o.Redrive.Move(r.Context(), f)
	var flash string
	switch {
	case errors.Is(err, redrive.ErrEmptyDLQ):
		flash = "The dead-letter queue is empty: nothing to redrive."
	case err != nil:
		flash = "Redrive failed: " + err.Error()
	default:
		flash = fmt.Sprintf("Redrove %d message(s) to %s.", len(scan.Messages), p.o.Config.QueueName())
		for _, k := range redrive.Skips {
			if n := scan.SkippedFor(k.Skip); n > 0 {
				flash += fmt.Sprintf(" %d stayed (%s): %s.", n, k.Skip, k.Meaning)
			}
		}
	}
	http.Redirect(w, r, "/queues?flash="+url.QueryEscape(flash), http.StatusSeeOther)
}

// mapping pauses (enabled=false) or resumes (enabled=true) the forward
// event source mapping, as aws lambda update-event-source-mapping does.
func (p *Page) mapping(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(w, r) {
		return
	}
	if p.o.Mapping == nil {
		http.Error(w, "console: no event source mapping", http.StatusNotFound)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	enabled, err := strconv.ParseBool(r.PostForm.Get("enabled"))
	if err != nil {
		http.Error(w, "console: enabled must be true or false", http.StatusBadRequest)
		return
	}
	flash := "Resumed the event source mapping: the forwarder receives from the queue again."
	if !enabled {
		flash = "Paused the event source mapping: nothing is delivered until you resume it (batches already running finish)."
	}
	if err := p.o.Mapping.SetEnabled(enabled); err != nil {
		flash = "Event source mapping: " + err.Error()
	}
	http.Redirect(w, r, "/queues?flash="+url.QueryEscape(flash), http.StatusSeeOther)
}
