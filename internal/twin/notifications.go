package twin

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/webhookq/webhookq/internal/lambda/notifier"
	"github.com/webhookq/webhookq/internal/twin/console"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Notification is one notify invocation, as the twin's page lists it.
type Notification = console.Notification

// notificationsKept bounds the notifications the twin keeps.
const notificationsKept = 200

// notificationCauseMax bounds the cause a notification keeps, as the
// notifier bounds the one it sends.
const notificationCauseMax = 2000

var notificationsBucket = []byte("notifications")

// notifications keeps the newest notifications in the history file, so they
// survive a restart (like a Slack channel's history), and in memory for the
// page.
type notifications struct {
	db   *bolt.DB
	keep int
	mu   sync.Mutex
	list []Notification // oldest first
}

// openNotifications loads the notifications kept in db.
func openNotifications(db *bolt.DB, keep int) (*notifications, error) {
	n := &notifications{db: db, keep: keep}
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(notificationsBucket)
		if err != nil {
			return err
		}
		return b.ForEach(func(_, v []byte) error {
			var x Notification
			if json.Unmarshal(v, &x) == nil {
				n.list = append(n.list, x)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load notifications: %w", err)
	}
	return n, nil
}

// add keeps x, dropping the oldest beyond keep.
func (n *notifications) add(x Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	raw, err := json.Marshal(x)
	if err != nil {
		return err
	}
	err = n.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(notificationsBucket)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), raw); err != nil {
			return err
		}
		count := 0
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			count++
		}
		var oldest [][]byte
		for k, _ := c.First(); k != nil && len(oldest) < count-n.keep; k, _ = c.Next() {
			oldest = append(oldest, k)
		}
		for _, k := range oldest {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	n.list = append(n.list, x)
	if len(n.list) > n.keep {
		n.list = n.list[len(n.list)-n.keep:]
	}
	return err
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
	d := notifier.Describe(req)
	n := Notification{
		At: time.Now().UTC(), Route: d.Route, Group: d.Group, WebhookID: d.WebhookID,
		Error: d.Error, Cause: webhook.Bound(d.Cause, notificationCauseMax), HeadedForDLQ: d.HeadedForDLQ,
		Execution: req.ExecutionID, Channels: delivered,
	}
	if err != nil {
		n.Problem = err.Error()
	}
	if err := t.notified.add(n); err != nil {
		t.log.Error("local: notification not kept", "webhook_id", n.WebhookID, "error", err.Error())
	}
	t.log.Warn("local: NOTIFICATION: delivery failed", "route", n.Route, "group", n.Group, "webhook_id", n.WebhookID,
		"error", n.Error, "cause", webhook.Bound(n.Cause, 300), "channels", n.Channels, "headed_for_dlq", n.HeadedForDLQ,
		"redrive", notifier.RedriveCommand(n.WebhookID))
}

// Notifications lists the notify invocations so far, newest first; they
// survive restarts (the newest 200 are kept).
func (t *Twin) Notifications() []Notification { return t.notified.newestFirst() }
