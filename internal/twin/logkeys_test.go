package twin_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/twin"
)

// lockedBuffer is a bytes.Buffer the twin's goroutines may log into.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogKeys: every part of the pipeline — ingress, the forwarder, deliver,
// notify, the twin and its demo target — logs with snake_case keys, and
// names a webhook's id webhook_id, so one query finds a webhook everywhere.
func TestLogKeys(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	cfg, workflows := writeProject(t, fmt.Sprintf(pipelineConfig, "https://app.example.com", 1))
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, DemoTarget: true, TimeScale: 50,
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	client := &http.Client{Timeout: 10 * time.Second}
	okID, _, err := post(client, tw.IngressURL+"/hooks/orders", map[string]string{"X-Group": "g-ok", "X-Event-Type": "created"}, []byte(`{"ok":true}`))
	must(t, err)
	waitFor(t, 20*time.Second, "the first webhook delivered", func() bool { return tw.Demo().Snapshot().Received == 1 })
	resp, err := client.Post(tw.ControlURL+twin.DemoTargetPath+"/fail?count=1&status=400", "", nil)
	must(t, err)
	resp.Body.Close()
	badID, _, err := post(client, tw.IngressURL+"/hooks/orders", map[string]string{"X-Group": "g-bad", "X-Event-Type": "created"}, []byte(`{"ok":false}`))
	must(t, err)
	waitFor(t, 30*time.Second, "the refused webhook parked", func() bool { return parkedIDs(t, tw, cfg.DLQName())[badID] })

	key := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	sawID := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON log line: %s", sc.Text())
		}
		for k, v := range line {
			if !key.MatchString(k) {
				t.Errorf("log key %q is not snake_case: %s", k, sc.Text())
			}
			if (v == okID || v == badID) && k != "webhook_id" {
				t.Errorf("a webhook id logged under %q, not webhook_id: %s", k, sc.Text())
			}
		}
		if id, ok := line["webhook_id"].(string); ok {
			sawID[fmt.Sprint(line["msg"])] = sawID[fmt.Sprint(line["msg"])] || id == okID || id == badID
		}
	}
	// The lines of each part that name the webhook.
	for _, msg := range []string{"demo target: delivery", "delivered", "execution failed for good", "parked in the DLQ", "no notify channel configured", "local: NOTIFICATION: delivery failed"} {
		if !sawID[msg] {
			t.Errorf("no %q line with webhook_id; lines with it: %v", msg, sawID)
		}
	}
}
