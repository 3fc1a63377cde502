package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/emfcheck"
	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
	"github.com/webhookq/webhookq/internal/webhook"
)

// routesYAML is a routes.yaml whose one route delivers to target; the
// signing secret comes from the function's environment.
const routesYAML = `service: rie-test
region: us-east-1
target:
  base_url: %s
  timeout: 1s
  headers:
    X-Forwarded-By: webhookq
  signing_secret:
    env: WEBHOOKQ_TEST_SIGNING_SECRET
retry:
  max_attempts: 3
  interval: 1s
  on: [server_error, throttled, timeout, connection]
routes:
  - name: orders
    path: /orders
    group: static:orders
    target_path: /deliver/orders
    dedup: content
    headers: [X-Event-Type]
    verify: {scheme: none, reason: the test sender signs nothing}
`

const signingKey = "0123456789abcdef0123456789abcdef"

// received is one request the target saw.
type received struct {
	header http.Header
	body   []byte
}

// target behaves by the carried X-Event-Type header, so one route covers
// every outcome.
func target(t *testing.T) (*httptest.Server, chan received) {
	t.Helper()
	got := make(chan received, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Header.Clone(), b}
		switch r.Header.Get("X-Event-Type") {
		case "ok":
			_, _ = io.WriteString(w, `{"accepted":true}`)
		case "fail":
			http.Error(w, "database down", http.StatusInternalServerError)
		case "throttle":
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case "bad":
			http.Error(w, "unknown event", http.StatusBadRequest)
		case "slow":
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func event(t testing.TB, eventType string, body []byte, retryCount int) []byte {
	t.Helper()
	env := webhook.Envelope{
		WebhookID: "wh-" + eventType, Route: "orders", Group: "orders", MessageID: "m-1",
		ReceiveCount: 1, Headers: map[string]string{"X-Event-Type": eventType},
	}
	env.EncodeBody(body)
	b, err := json.Marshal(webhook.DeliverRequest{Webhook: env, RetryCount: retryCount})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBootstrapUnderEmulator runs the real deliver bootstrap under
// aws-lambda-rie against a local target and checks what Lambda would report
// to Step Functions for each outcome.
func TestBootstrapUnderEmulator(t *testing.T) {
	srv, got := target(t)
	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(routes, []byte(fmt.Sprintf(routesYAML, srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(routes); err != nil {
		t.Fatalf("test routes.yaml is invalid: %v", err)
	}
	fn := lambdarie.Start(t, "./functions/deliver", map[string]string{
		webhook.EnvConfig:              routes,
		"WEBHOOKQ_TEST_SIGNING_SECRET": "whsec_" + base64.StdEncoding.EncodeToString([]byte(signingKey)),
	})

	tests := []struct {
		name      string
		eventType string
		body      []byte
		wantType  string // errorType; "" for success
		wantMsg   string
	}{
		{"2xx", "ok", []byte(`{"order":1}`), "", ""},
		{"non-UTF-8 body arrives byte-exact", "ok", []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x80, 0xc3}, "", ""},
		{"500", "fail", []byte(`{}`), webhook.ErrRetryable, "attempt 2/3: POST " + srv.URL + "/deliver/orders: target answered 500 Internal Server Error"},
		{"429 with Retry-After", "throttle", []byte(`{}`), webhook.ErrRetryable, "attempt 2/3: POST " + srv.URL + "/deliver/orders: target answered 429 Too Many Requests; waited Retry-After 1s"},
		{"400", "bad", []byte(`{}`), webhook.ErrPermanent, "attempt 2/3: POST " + srv.URL + "/deliver/orders: target answered 400 Bad Request"},
		{"slow target times out", "slow", []byte(`{}`), webhook.ErrRetryable, "attempt 2/3: POST " + srv.URL + "/deliver/orders: no answer within 1s"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			answer := fn.Invoke(t, event(t, tt.eventType, tt.body, 1))
			if i == 0 {
				t.Logf("cold start to first answer: %s", time.Since(fn.Started).Round(time.Millisecond))
			}
			var reply struct {
				webhook.DeliverResult
				ErrorType    string `json:"errorType"`
				ErrorMessage string `json:"errorMessage"`
			}
			if err := json.Unmarshal(answer, &reply); err != nil {
				t.Fatalf("answer %s: %v", answer, err)
			}
			if reply.ErrorType != tt.wantType || reply.ErrorMessage != tt.wantMsg {
				t.Fatalf("answer %s; want errorType %q, errorMessage %q", answer, tt.wantType, tt.wantMsg)
			}
			r := <-got
			if string(r.body) != string(tt.body) {
				t.Errorf("target got body %x, want %x", r.body, tt.body)
			}
			if id := r.header.Get(webhook.HeaderWebhookID); id != "wh-"+tt.eventType || r.header.Get(webhook.HeaderIdempotencyKey) != id {
				t.Errorf("webhook id headers %q / %q", id, r.header.Get(webhook.HeaderIdempotencyKey))
			}
			if r.header.Get("X-Forwarded-By") != "webhookq" {
				t.Errorf("static header missing: %v", r.header)
			}
			m := hmac.New(sha256.New, []byte(signingKey))
			m.Write([]byte("wh-" + tt.eventType + "." + r.header.Get(webhook.HeaderTimestamp) + "."))
			m.Write(tt.body)
			if sig := r.header.Get(webhook.HeaderSignature); sig != "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)) {
				t.Errorf("signature %q does not verify", sig)
			}
			switch tt.eventType {
			case "ok":
				if reply.Status != 200 || reply.Attempt != 2 || reply.Excerpt != `{"accepted":true}` {
					t.Errorf("result %s", answer)
				}
			case "throttle":
				if d := time.Since(start); d < time.Second {
					t.Errorf("answered after %s; Retry-After 1s was not waited", d)
				}
			}
		})
	}
	// One structured line per attempt, as CloudWatch Logs would hold it; the
	// last invocation's lines are the last to arrive.
	fn.AwaitLogLines(1, `"webhook_id":"wh-slow"`)
	lines := fn.LogLines(`"webhook_id":"wh-fail"`)
	if len(lines) != 1 || !strings.Contains(lines[0], `"level":"WARN"`) || !strings.Contains(lines[0], `"error":"Webhook.Retryable"`) {
		t.Errorf("log lines for wh-fail: %q", lines)
	}
	// And the attempts' metrics, as EMF lines CloudWatch Logs extracts: the
	// real binary writes them where Lambda collects its output.
	var failed []string
	responses := 0
	// One EMF line per attempt: six invocations, six lines.
	for _, line := range fn.AwaitLogLines(len(tests), `"_aws"`) {
		data, err := emfcheck.Parse([]byte(line))
		if err != nil {
			t.Fatalf("not EMF: %v: %s", err, line)
		}
		for _, d := range data {
			switch d.Name {
			case "FailedAttempts":
				failed = append(failed, d.Dimensions["Class"])
			case "TargetResponseTime":
				responses++
			}
		}
	}
	slices.Sort(failed)
	if strings.Join(failed, " ") != "429 4xx 5xx timeout" || responses != 5 {
		t.Errorf("EMF failed attempts %v and %d response times; want 429 4xx 5xx timeout and 5 (every answer)", failed, responses)
	}
	if strings.Contains(fn.Logs(), signingKey) || strings.Contains(fn.Logs(), base64.StdEncoding.EncodeToString([]byte(signingKey))) {
		t.Error("the function logged the signing secret")
	}
}
