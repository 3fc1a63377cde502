package twin_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate"
	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/webhook"
)

// pipelineConfig is the routes.yaml of the end-to-end tests: two routes, one
// grouped by a header and one by a body field, short retry policies, and
// Slack notifications to an env-referenced URL. Its retry window is long
// enough for any test; withRetriesFor sets one a test can wait out.
const pipelineConfig = `service: e2e
region: eu-west-1
ingress:
  base_path: /hooks
target:
  base_url: %s
  timeout: 2s
  headers:
    X-Forwarded-By: webhookq-e2e
queue:
  retry_window: 100m
  batch_size: %d
  max_concurrency: 4
  redelivery_delay: 30s
  max_redelivery_delay: 2m
retry:
  max_attempts: 3
  interval: 1s
  backoff_rate: 2
  max_delay: 4s
  jitter: full
notify:
  when: final
  slack_webhook_url:
    env: E2E_SLACK_URL
routes:
  - name: orders
    path: /orders
    group: header:X-Group
    target_path: /orders
    dedup: request_id
    headers: [X-Event-Type, X-Group]
    verify: {scheme: none, reason: the test sender signs nothing}
  - name: accounts
    path: /accounts
    group: body:account.id
    target_path: /accounts
    dedup: content
    headers: [X-Event-Type]
    verify: {scheme: none, reason: the test sender signs nothing}
`

// withRetriesFor sets the retry window of a config the twin runs with
// TimeScale scale so that a failing webhook's executions in its first d come
// back and the next one is final: an execution is final once the routes'
// worst case (unscaled) could end past the shortened window, so the window is
// scale × (worst case + d), whatever the worst case currently derives to.
func withRetriesFor(t testing.TB, yaml string, scale float64, d time.Duration) string {
	t.Helper()
	cfg, err := config.Parse("routes.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	const placeholder = "  retry_window: 100m\n"
	if !strings.Contains(yaml, placeholder) {
		t.Fatalf("withRetriesFor: the config has no %q to replace", placeholder)
	}
	window := time.Duration(scale * float64(config.ComputeBudget(cfg).WorstExecution+d)).Round(time.Second)
	return strings.Replace(yaml, placeholder, "  retry_window: "+window.String()+"\n", 1)
}

// writeProject writes routes.yaml and the generated workflows into a fresh
// folder, as `go run ./cmd/generate` would, and loads the config.
func writeProject(t testing.TB, yaml string) (cfg *config.Config, workflowsDir string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	files, err := generate.Files(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return cfg, filepath.Join(dir, generate.WorkflowsDir)
}

// startTwin starts a twin on a free port and shuts it down when the test ends.
func startTwin(t testing.TB, o twin.Options) *twin.Twin {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.DataPath == "" {
		o.DataPath = filepath.Join(t.TempDir(), "twin.db")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	tw, err := twin.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := tw.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return tw
}

// attempt is one request the recording target received.
type attempt struct {
	webhookID  string
	deliveryID string
	path       string
	group      string
	eventType  string
	forwarded  string // the target's static X-Forwarded-By header
	body       []byte
	status     int
}

// recorder is a target that records every attempt and answers with what
// decide says.
type recorder struct {
	mu       sync.Mutex
	attempts []attempt
	decide   func(webhookID string, body []byte) int
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get(webhook.HeaderWebhookID)
	status := r.decide(id, body)
	r.mu.Lock()
	r.attempts = append(r.attempts, attempt{webhookID: id, deliveryID: req.Header.Get("X-Delivery-Id"), path: req.URL.Path, group: req.Header.Get("X-Group"), eventType: req.Header.Get("X-Event-Type"), forwarded: req.Header.Get("X-Forwarded-By"), body: body, status: status})
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *recorder) snapshot() []attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]attempt(nil), r.attempts...)
}

// slackSink records Slack-compatible notification posts.
type slackSink struct {
	mu    sync.Mutex
	posts [][]byte
}

func (s *slackSink) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	s.mu.Lock()
	s.posts = append(s.posts, b)
	s.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

// mentioning counts the posts that name id.
func (s *slackSink) mentioning(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.posts {
		if bytes.Contains(p, []byte(id)) {
			n++
		}
	}
	return n
}

// sent is one acknowledged webhook.
type sent struct {
	webhookID string
	route     string
	group     string
	seq       int // ingress order within the group
	body      []byte
	eventType string
	poison    bool
}

// post sends one webhook and returns its id (API Gateway's request id, the
// Apigw-Requestid header) if ingress acknowledged it.
func post(client *http.Client, url string, headers map[string]string, body []byte) (string, int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", 0, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("Apigw-Requestid"), resp.StatusCode, nil
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// startPipeline starts the twin on pipelineConfig (one attempt) with its
// target at targetURL and its Slack notifications caught by a sink.
func startPipeline(t *testing.T, targetURL string) (*twin.Twin, *config.Config, *slackSink) {
	t.Helper()
	slack := &slackSink{}
	slackSrv := httptest.NewServer(slack)
	t.Cleanup(slackSrv.Close)
	cfg, workflows := writeProject(t, fmt.Sprintf(pipelineConfig, targetURL, 1))
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, TimeScale: 50,
		LookupEnv: func(k string) (string, bool) { return slackSrv.URL, k == "E2E_SLACK_URL" }})
	return tw, cfg, slack
}
