package twin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
)

// openStores opens the queue store (the data file, fsync'd before ingress
// answers) and the execution history beside it, which also keeps the
// notifications.
func (t *Twin) openStores(dataPath string) (err error) {
	if err := os.MkdirAll(filepath.Dir(dataPath), 0o700); err != nil {
		return err
	}
	if t.store, err = fifo.Open(dataPath, fifo.Options{Region: t.cfg.Region, AccountID: Account}); err != nil {
		return err
	}
	// The history is a log for people, not a promise: it is not fsync'd per
	// execution (that would cap the twin at one execution per disk flush).
	// A crash may lose the newest histories, never a message.
	if t.history, err = bolt.Open(historyPath(dataPath), 0o600, &bolt.Options{Timeout: 5 * time.Second, NoSync: true}); err != nil {
		return fmt.Errorf("open execution history: %w", err)
	}
	if t.boltHistory, err = statemachine.NewBoltHistory(t.history, 0); err != nil {
		return err
	}
	t.asyncHistory = newAsyncHistory(t.boltHistory, t.log)
	if t.notified, err = openNotifications(t.history, notificationsKept); err != nil {
		return err
	}
	return nil
}

func (t *Twin) closeStores() error {
	var errs []error
	if t.store != nil {
		errs = append(errs, t.store.Close())
	}
	if t.asyncHistory != nil {
		t.asyncHistory.Close()
	}
	if t.boltHistory != nil {
		// Commits what the asynchronous writer handed it; closing the file
		// first would drop those executions. A history is a log for people:
		// its failure is logged, not a failed shutdown.
		if err := t.boltHistory.Close(); err != nil {
			t.log.Error("local: execution history not written", "error", err.Error())
		}
	}
	if t.history != nil {
		errs = append(errs, t.history.Close())
	}
	return errors.Join(errs...)
}

// historyPath is the execution history file beside the data file.
func historyPath(data string) string {
	return strings.TrimSuffix(data, filepath.Ext(data)) + "-history.db"
}
