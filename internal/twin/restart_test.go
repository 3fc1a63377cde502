package twin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/twin"
)

// What the operator set and saw survives a restart of the twin: a mapping
// paused on the page stays paused (as on Lambda, and the twin says so), and
// the notifications are still listed, with their cause.
func TestPauseAndNotificationsSurviveARestart(t *testing.T) {
	t.Parallel()
	cfg, workflows := writeProject(t, fmt.Sprintf(pipelineConfig, "https://app.example.com", 1))
	data := filepath.Join(t.TempDir(), "twin.db")
	start := func() *twin.Twin {
		tw, err := twin.Start(twin.Options{Config: cfg, WorkflowsDir: workflows, DataPath: data, DemoTarget: true,
			Addr: "127.0.0.1:0", ControlAddr: "127.0.0.1:0", Log: slog.New(slog.DiscardHandler)})
		must(t, err)
		return tw
	}
	stop := func(tw *twin.Twin) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		must(t, tw.Shutdown(ctx))
	}
	tw := start()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(tw.ControlURL+twin.DemoTargetPath+"/fail?count=1&status=400", "", nil)
	must(t, err)
	resp.Body.Close()
	id, _, err := post(client, tw.IngressURL+"/hooks/orders", map[string]string{"X-Group": "g", "X-Event-Type": "created"}, []byte(`{}`))
	must(t, err)
	waitFor(t, 30*time.Second, "the notification", func() bool { return len(tw.Notifications()) == 1 })
	resp, err = client.PostForm(tw.ControlURL+"/mapping", url.Values{"enabled": {"false"}})
	must(t, err)
	resp.Body.Close()
	stop(tw)

	tw = start()
	defer stop(tw)
	if got := tw.Notifications(); len(got) != 1 || got[0].WebhookID != id || !strings.Contains(got[0].Cause, "400") || !got[0].HeadedForDLQ {
		t.Errorf("notifications after the restart: %+v", got)
	}
	if !strings.Contains(strings.Join(tw.Warnings, "\n"), "the forward event source mapping is disabled") {
		t.Errorf("the twin does not say the mapping is paused: %q", tw.Warnings)
	}
	resp, err = client.Get(tw.ControlURL + "/2015-03-31/event-source-mappings/" + tw.MappingUUID)
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	if !strings.Contains(string(body), `"State":"Disabled"`) {
		t.Errorf("the mapping after the restart: %s", body)
	}
}
