package twin

import (
	"context"
	"log/slog"
	"sync"

	"github.com/webhookq/webhookq/internal/twin/statemachine"
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
	// mu makes Close wait for Appends under way; closed turns later ones
	// (an execution still running when Shutdown gave up waiting for the
	// listener) into a logged drop instead of a send on a closed channel.
	mu     sync.RWMutex
	closed bool
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
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		h.log.Warn("local: execution history closed; execution not recorded", "execution", e.ARN)
		return nil
	}
	h.pending <- e // the writer drains without h.mu, so this cannot deadlock Close
	return nil
}

// Close writes the pending executions and stops; a later Append is dropped.
func (h *asyncHistory) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.pending)
	h.mu.Unlock()
	<-h.done
}
