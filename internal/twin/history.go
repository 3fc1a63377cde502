package twin

import (
	"context"
	"log/slog"
	"sync"

	"github.com/webhookq/webhookq/internal/statemachine"
)

// asyncHistory writes finished executions to the history store in the
// background, so an execution's answer does not wait for the history file
// (on AWS, CloudWatch logging does not hold StartSyncExecution up either).
// The page may lag the newest executions by a moment; Close writes what is
// pending.
type asyncHistory struct {
	statemachine.HistoryStore
	log     *slog.Logger
	pending chan *statemachine.Execution
	done    chan struct{}
	once    sync.Once
}

// historyBacklog bounds the executions waiting to be written; beyond it an
// execution's answer waits, so a slow disk slows the twin down instead of
// filling memory.
const historyBacklog = 4096

func newAsyncHistory(store statemachine.HistoryStore, log *slog.Logger) *asyncHistory {
	h := &asyncHistory{HistoryStore: store, log: log, pending: make(chan *statemachine.Execution, historyBacklog), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for e := range h.pending {
			if err := h.HistoryStore.Append(context.Background(), e); err != nil {
				h.log.Error("local: execution history not written", "execution", e.ARN, "error", err.Error())
			}
		}
	}()
	return h
}

func (h *asyncHistory) Append(_ context.Context, e *statemachine.Execution) error {
	h.pending <- e
	return nil
}

// Close writes the pending executions and stops; no Append may follow.
func (h *asyncHistory) Close() {
	h.once.Do(func() {
		close(h.pending)
		<-h.done
	})
}
