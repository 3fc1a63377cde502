package twin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/webhookq/webhookq/internal/twin"
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
