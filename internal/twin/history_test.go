package twin

import (
	"context"
	"log/slog"
	"testing"

	"github.com/webhookq/webhookq/internal/statemachine"
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
