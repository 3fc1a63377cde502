package twin

import (
	"sync"
	"time"

	"github.com/webhookq/webhookq/internal/lambda/notifier"
	"github.com/webhookq/webhookq/internal/twin/console"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Notification is one notify invocation, as the twin's page lists it.
type Notification = console.Notification

// notifications keeps the newest notifications.
type notifications struct {
	mu   sync.Mutex
	keep int
	list []Notification
}

func (n *notifications) add(x Notification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.list = append(n.list, x)
	if len(n.list) > n.keep {
		n.list = n.list[len(n.list)-n.keep:]
	}
}

// newestFirst returns a copy, newest first.
func (n *notifications) newestFirst() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Notification, len(n.list))
	for i, x := range n.list {
		out[len(out)-1-i] = x
	}
	return out
}

func (t *Twin) recordNotification(req webhook.NotifyRequest, delivered []string, err error) {
	n := Notification{
		At: time.Now().UTC(), Route: req.Webhook.Route, Group: req.Webhook.Group, WebhookID: req.Webhook.WebhookID,
		Error: req.Error.Error, Execution: req.ExecutionID, Channels: delivered,
	}
	if err != nil {
		n.Problem = err.Error()
	}
	t.notified.add(n)
	t.log.Warn("local: NOTIFICATION: delivery failed", "route", n.Route, "group", n.Group, "webhookId", n.WebhookID,
		"error", n.Error, "channels", n.Channels, "headedForDLQ", req.Webhook.FinalAttempt,
		"redrive", notifier.RedriveCommand(n.WebhookID))
}

// Notifications lists the notify invocations so far, newest first.
func (t *Twin) Notifications() []Notification { return t.notified.newestFirst() }
