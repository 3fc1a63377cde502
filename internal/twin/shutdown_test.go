package twin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/webhook"
)

// TestShutdownReleasesAndResumes: a delivery still running when the grace
// period ends is cancelled, its message is visible again at once (not after
// a lease or visibility timeout), ingress refuses new webhooks during the
// stop, and the next run delivers the message with the same webhook id.
func TestShutdownReleasesAndResumes(t *testing.T) {
	t.Parallel()
	var hung, seen atomic.Int64
	var mu sync.Mutex
	var delivered []string // webhook ids answered 200
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		// Read the body: only then does the server notice the client hang up.
		_, _ = io.Copy(io.Discard, r.Body)
		if hung.Load() == 1 {
			select { // hang until the twin gives up
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		delivered = append(delivered, r.Header.Get(webhook.HeaderWebhookID))
		mu.Unlock()
	}))
	defer target.Close()
	hung.Store(1)

	data := filepath.Join(t.TempDir(), "twin.db")
	cfg, workflows := writeProject(t, fmt.Sprintf(pipelineConfig, target.URL, 1))
	tw, err := twin.Start(twin.Options{Config: cfg, WorkflowsDir: workflows, DataPath: data, Addr: "127.0.0.1:0", ShutdownGrace: 300 * time.Millisecond})
	must(t, err)
	client := &http.Client{Timeout: 5 * time.Second}
	id, status, err := post(client, tw.IngressURL+"/hooks/orders", map[string]string{"X-Group": "g", "X-Event-Type": "e"}, []byte(`{"n":1}`))
	if err != nil || status != http.StatusOK {
		t.Fatalf("post: %d %v", status, err)
	}
	waitFor(t, 10*time.Second, "the delivery to start", func() bool { return seen.Load() == 1 })

	stopped := make(chan error, 1)
	go func() { stopped <- tw.Shutdown(context.Background()) }()
	waitFor(t, 5*time.Second, "ingress to refuse", func() bool {
		_, status, err := post(client, tw.IngressURL+"/hooks/orders", map[string]string{"X-Group": "g2", "X-Event-Type": "e"}, []byte(`{"n":2}`))
		return err != nil || status == http.StatusServiceUnavailable
	})
	stopStart := time.Now()
	must(t, <-stopped)
	t.Logf("stopped %v after ingress refused", time.Since(stopStart))

	hung.Store(0)
	began := time.Now()
	tw = startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, DataPath: data})
	waitFor(t, 10*time.Second, "the released message delivered by the next run", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(delivered, id)
	})
	// Released, not waiting out a lease: the next run takes it at once.
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("the released message took %v to come back", d)
	}
}
