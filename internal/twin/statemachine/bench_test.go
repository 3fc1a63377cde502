package statemachine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
)

// noopDeliver answers every invocation at once, like a deliver core whose
// target answers 204 in no time.
var noopDeliver = InvokerFunc(func(context.Context, string, []byte) ([]byte, error) {
	return []byte(`{"status":204,"attempt":1,"latencyMs":0}`), nil
})

func benchmarkGenerated(b *testing.B, history HistoryStore) {
	m := generatedMachine(b, config.NotifyFinal)
	input := envelope(b, false)
	r := &Runner{Invoker: noopDeliver, History: history}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			exec, err := r.Execute(ctx, m, "", input)
			if err != nil || exec.Status != StatusSucceeded {
				b.Errorf("%v %+v", err, exec)
				return
			}
		}
	})
}

// BenchmarkExecuteGenerated: one successful execution of the generated
// workflow (Deliver → Delivered) with an in-process no-op deliver, executions
// running concurrently as the twin runs them (one per message group); -cpu 1
// gives the sequential cost. The bolt history commits (fsyncs) once per
// execution.
func BenchmarkExecuteGenerated(b *testing.B) {
	b.Run("no history", func(b *testing.B) { benchmarkGenerated(b, nil) })
	b.Run("memory history", func(b *testing.B) { benchmarkGenerated(b, &MemoryHistory{Keep: 1000}) })
	b.Run("bolt history", func(b *testing.B) {
		db := openBolt(b, filepath.Join(b.TempDir(), "twin.db"))
		defer db.Close()
		h, err := NewBoltHistory(db, 1000)
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		benchmarkGenerated(b, h)
		// Count the commits in: every execution is on disk when the clock stops.
		if err := h.Flush(); err != nil {
			b.Fatal(err)
		}
	})
}
