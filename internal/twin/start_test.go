package twin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/twin/fifo"
)

// TestStaleWorkflows: a workflow file that differs from what generate writes
// for the config stops the twin with the command that fixes it.
func TestStaleWorkflows(t *testing.T) {
	t.Parallel()
	cfg, workflows := writeProject(t, fmt.Sprintf(pipelineConfig, "https://app.example.com", 1))
	file := filepath.Join(workflows, "orders.asl.json")
	b, err := os.ReadFile(file)
	must(t, err)
	must(t, os.WriteFile(file, append(b, ' '), 0o644))
	_, err = twin.Start(twin.Options{Config: cfg, WorkflowsDir: workflows, DataPath: filepath.Join(t.TempDir(), "d.db"), Addr: "127.0.0.1:0"})
	if err == nil || err.Error() != "workflows/orders.asl.json is stale: run go run ./cmd/generate" {
		t.Fatalf("Start with an edited workflow: %v", err)
	}
}

// TestRestartWithChangedConfig: the queues of an earlier run are updated to
// the config's new attributes, and what they held is still there.
func TestRestartWithChangedConfig(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "twin.db")
	cfg, workflows := writeProject(t, fmt.Sprintf(pipelineConfig, "https://app.example.com", 1))
	tw, err := twin.Start(twin.Options{Config: cfg, WorkflowsDir: workflows, DataPath: data, Addr: "127.0.0.1:0"})
	must(t, err)
	_, err = tw.Store().Send(cfg.DLQName(), fifo.SendInput{Body: "parked", GroupID: "g", DeduplicationID: "d"})
	must(t, err)
	must(t, tw.Shutdown(context.Background()))

	changed := strings.Replace(fmt.Sprintf(pipelineConfig, "https://app.example.com", 1), "retry_window: 100m", "retry_window: 20m", 1)
	cfg2, workflows2 := writeProject(t, changed)
	before, after := config.ComputeFinality(cfg).MaxReceiveCount, config.ComputeFinality(cfg2).MaxReceiveCount
	if before == after {
		t.Fatalf("the changed retry window keeps the backstop at %d; the test needs another", before)
	}
	tw = startTwin(t, twin.Options{Config: cfg2, WorkflowsDir: workflows2, DataPath: data})
	attrs, err := tw.Store().QueueAttributes(cfg2.QueueName())
	must(t, err)
	if !strings.Contains(attrs[fifo.AttrRedrivePolicy], fmt.Sprintf(`"maxReceiveCount":%d}`, after)) {
		t.Errorf("redrive policy after the config change: %s, want maxReceiveCount %d", attrs[fifo.AttrRedrivePolicy], after)
	}
	msgs, err := tw.Store().List(cfg2.DLQName())
	must(t, err)
	if len(msgs) != 1 || msgs[0].Body != "parked" {
		t.Errorf("DLQ after restart: %+v", msgs)
	}
}
