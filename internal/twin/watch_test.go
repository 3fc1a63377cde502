package twin_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/twin"
)

// Editing routes.yaml or a workflow while the twin runs is noticed: the twin
// says on every page (and in its log) what changed and to restart it.
func TestTwinSaysWhenItsFilesChange(t *testing.T) {
	t.Parallel()
	cfg, workflows := writeProject(t, fmt.Sprintf(pipelineConfig, "https://app.example.com", 1))
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, DemoTarget: true})
	page := func() string {
		resp, err := http.Get(tw.ControlURL + "/queues")
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if len(tw.Stale()) != 0 || strings.Contains(page(), "changed since the twin started") {
		t.Fatalf("stale before any change: %q", tw.Stale())
	}
	f, err := os.OpenFile(cfg.Path, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString("# an edit\n")
	must(t, err)
	must(t, f.Close())
	waitFor(t, 10*time.Second, "routes.yaml noticed", func() bool { return len(tw.Stale()) == 1 })
	if got := tw.Stale()[0]; !strings.Contains(got, cfg.Path+" changed since the twin started") || !strings.Contains(got, "go run ./cmd/generate, then restart the twin") {
		t.Errorf("note %q", got)
	}
	files, err := filepath.Glob(filepath.Join(workflows, "*.asl.json"))
	must(t, err)
	must(t, os.WriteFile(files[0], []byte("{}"), 0o644))
	waitFor(t, 10*time.Second, "the workflows noticed", func() bool { return len(tw.Stale()) == 2 })
	if body := page(); !strings.Contains(body, workflows+" changed since the twin started") || !strings.Contains(body, cfg.Path+" changed since") {
		t.Errorf("the page does not say what changed:\n%s", body)
	}
}
