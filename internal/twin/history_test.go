package twin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/webhookq/webhookq/internal/twin/statemachine"
)

// TestAsyncHistoryAppendAfterClose: Close writes what is pending; an
// execution that finishes after Close (Shutdown stopped waiting for the
// listener) is dropped, not a panic on a closed channel.
func TestAsyncHistoryAppendAfterClose(t *testing.T) {
	mem := &statemachine.MemoryHistory{}
	h := newAsyncHistory(mem, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if err := h.Append(ctx, &statemachine.Execution{ARN: "before"}); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, err := mem.Get(ctx, "before"); err != nil {
		t.Fatalf("pending execution not written by Close: %v", err)
	}
	if err := h.Append(ctx, &statemachine.Execution{ARN: "after"}); err != nil {
		t.Fatal(err)
	}
	h.Close() // twice is fine
	if _, err := mem.Get(ctx, "after"); err == nil {
		t.Fatal("an execution appended after Close was written")
	}
}

// TestCloseStoresWritesPendingHistory: closing the twin's stores commits the
// executions still queued in the history writers before the file closes.
func TestCloseStoresWritesPendingHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twin-history.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	bh, err := statemachine.NewBoltHistory(db, 0)
	if err != nil {
		t.Fatal(err)
	}
	tw := &Twin{log: slog.New(slog.DiscardHandler), history: db, boltHistory: bh}
	tw.asyncHistory = newAsyncHistory(bh, tw.log)
	const n = 2000
	for i := range n {
		if err := tw.asyncHistory.Append(context.Background(), &statemachine.Execution{ARN: fmt.Sprint("exec-", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.closeStores(); err != nil {
		t.Fatal(err)
	}
	// The count below catches a lost tail only when the close races the last
	// commit; that the history writer was closed (so committed everything
	// before the file closed) is checked every time.
	if err := bh.Append(context.Background(), &statemachine.Execution{ARN: "late"}); !errors.Is(err, statemachine.ErrHistoryClosed) {
		t.Fatalf("the history writer is still open after closeStores: Append = %v", err)
	}

	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reopened, err := statemachine.NewBoltHistory(db, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	list, err := reopened.List(context.Background(), statemachine.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Fatalf("%d of %d executions in the history after closing the stores", len(list), n)
	}
}
