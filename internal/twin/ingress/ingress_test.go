package ingress_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/twin/ingress"
	"github.com/webhookq/webhookq/internal/webhook"
)

const routesYAML = `service: shop
region: us-east-1
ingress:
  base_path: /hooks
  max_body_bytes: 64
target:
  base_url: https://app.example.com
routes:
  - name: by-header
    path: /h
    group: header:X-Group
    dedup: header:X-Delivery-Id
    headers: [X-Event-Type]
    verify: {scheme: none, reason: the test sender signs nothing}
  - name: by-body
    path: /b
    group: body:account.id
    dedup: content
    verify: {scheme: none, reason: the test sender signs nothing}
  - name: static
    path: /s
    group: static:all
    dedup: request_id
    verify: {scheme: none, reason: the test sender signs nothing}
`

// setup returns an ingress handler over a real store with the queue created.
func setup(t testing.TB) (*ingress.Handler, *fifo.Store, *config.Config) {
	t.Helper()
	return setupWith(t, routesYAML)
}

func setupWith(t testing.TB, routes string) (*ingress.Handler, *fifo.Store, *config.Config) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(path, []byte(routes), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	store, err := fifo.Open(filepath.Join(dir, "q.db"), fifo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.CreateQueue(cfg.QueueName(), map[string]string{fifo.AttrFifoQueue: "true", fifo.AttrContentBasedDeduplication: "true"}); err != nil {
		t.Fatal(err)
	}
	h, err := ingress.New(cfg, cfg.QueueName(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h, store, cfg
}

func TestIngressAnswers(t *testing.T) {
	t.Parallel()
	h, store, _ := setup(t)
	for _, tc := range []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    string
		status  int
		message string
	}{
		{name: "unknown route", method: "POST", path: "/hooks/nope", body: "x", status: 404, message: "Not Found"},
		{name: "GET on a route", method: "GET", path: "/hooks/s", status: 405, message: "Method Not Allowed"},
		{name: "too large", method: "POST", path: "/hooks/s", body: strings.Repeat("a", 65), status: 413, message: "Request Entity Too Large"},
		{name: "missing group header", method: "POST", path: "/hooks/h", headers: map[string]string{"X-Delivery-Id": "d", "X-Event-Type": "e"}, body: "x", status: 400, message: "missing header X-Group (the route groups by it)"},
		{name: "missing dedup header", method: "POST", path: "/hooks/h", headers: map[string]string{"X-Group": "g", "X-Event-Type": "e"}, body: "x", status: 400, message: "missing header X-Delivery-Id (the route deduplicates on it)"},
		{name: "missing carried header", method: "POST", path: "/hooks/h", headers: map[string]string{"X-Group": "g", "X-Delivery-Id": "d"}, body: "x", status: 400, message: "missing header X-Event-Type (the route carries it)"},
		{name: "body without the group field", method: "POST", path: "/hooks/b", body: `{"account":{}}`, status: 400, message: "missing body field account.id (the route groups by it)"},
		{name: "group SQS refuses", method: "POST", path: "/hooks/h", headers: map[string]string{"X-Group": "a b", "X-Delivery-Id": "d", "X-Event-Type": "e"}, body: "x", status: 400,
			message: "Value for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length."},
		{name: "body not JSON", method: "POST", path: "/hooks/b", body: `nope`, status: 400, message: "missing body field account.id (the route groups by it)"},
		{name: "empty body", method: "POST", path: "/hooks/s", body: ``, status: 400, message: "empty body (an SQS message needs at least one character)"},
		{name: "exactly the limit", method: "POST", path: "/hooks/s", body: strings.Repeat("a", 64), status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.message != "" {
				var got struct{ Message string }
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Message != tc.message {
					t.Errorf("answer %s, want message %q", w.Body, tc.message)
				}
			}
		})
	}
	st, _ := store.Stats("shop.fifo")
	if st.Visible != 1 {
		t.Errorf("%d messages queued, want only the accepted one", st.Visible)
	}
}

// TestIngressMapping checks the SQS message a request becomes, against the
// API Gateway integration's mapping, and the SendMessage-shaped answer.
func TestIngressMapping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		body    []byte
		group   string
		dedup   string // "" : content; "=id": the request id
		attrs   map[string]string
		base64  bool
	}{
		{name: "header group and delivery-id dedup", path: "/hooks/h", headers: map[string]string{"X-Group": "req-7", "X-Delivery-Id": "dlv-1", "X-Event-Type": "step"},
			body: []byte(`{"a":1}`), group: "req-7", dedup: "dlv-1", attrs: map[string]string{webhook.AttrRoute: "by-header", "h-X-Event-Type": "step"}},
		{name: "string body field", path: "/hooks/b", body: []byte(`{"account":{"id":"acct-9"}}`), group: "acct-9", attrs: map[string]string{webhook.AttrRoute: "by-body"}},
		{name: "number body field", path: "/hooks/b", body: []byte(`{"account":{"id":42}}`), group: "42", attrs: map[string]string{webhook.AttrRoute: "by-body"}},
		{name: "static group and request-id dedup", path: "/hooks/s", body: []byte("plain text"), group: "all", dedup: "=id", attrs: map[string]string{webhook.AttrRoute: "static"}},
		{name: "non-UTF-8 body goes base64", path: "/hooks/s", body: []byte{0xff, 0x00, 0xfe, 'x'}, group: "all", dedup: "=id", base64: true,
			attrs: map[string]string{webhook.AttrBodyEncoding: webhook.EncodingBase64}},
		{name: "UTF-8 with a NUL goes base64", path: "/hooks/s", body: []byte("a\x00b"), group: "all", dedup: "=id", base64: true,
			attrs: map[string]string{webhook.AttrBodyEncoding: webhook.EncodingBase64}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, store, cfg := setup(t)
			req := httptest.NewRequest("POST", tc.path, strings.NewReader(string(tc.body)))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			requestID := w.Header().Get("Apigw-Requestid")
			var answer struct {
				SendMessageResponse struct {
					ResponseMetadata  struct{ RequestId string }
					SendMessageResult struct{ MessageId, MD5OfMessageBody, SequenceNumber string }
				}
			}
			if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
				t.Fatalf("answer %s: %v", w.Body, err)
			}
			msgs, err := store.List(cfg.QueueName())
			if err != nil || len(msgs) != 1 {
				t.Fatalf("queued %d messages (%v)", len(msgs), err)
			}
			m := msgs[0]
			res := answer.SendMessageResponse.SendMessageResult
			if res.MessageId != m.MessageID || res.SequenceNumber != m.SequenceNumber || res.MD5OfMessageBody != m.MD5OfBody {
				t.Errorf("answer %+v does not describe the queued message %+v", res, m)
			}
			if answer.SendMessageResponse.ResponseMetadata.RequestId != requestID || requestID == "" {
				t.Errorf("request id %q in the answer, %q in the header", answer.SendMessageResponse.ResponseMetadata.RequestId, requestID)
			}
			if m.GroupID != tc.group {
				t.Errorf("group %q, want %q", m.GroupID, tc.group)
			}
			wantDedup := tc.dedup
			if wantDedup == "=id" {
				wantDedup = requestID
			}
			if tc.dedup == "" {
				if len(m.DeduplicationID) != 64 {
					t.Errorf("content dedup id %q, want the body's SHA-256", m.DeduplicationID)
				}
			} else if m.DeduplicationID != wantDedup {
				t.Errorf("dedup id %q, want %q", m.DeduplicationID, wantDedup)
			}
			if got := m.Attributes[webhook.AttrWebhookID].StringValue; got != requestID {
				t.Errorf("webhook id %q, want the request id %q", got, requestID)
			}
			if a := m.Attributes[webhook.AttrReceivedAt]; a.DataType != "Number" || len(a.StringValue) < 13 {
				t.Errorf("received-at %+v, want epoch millis as a Number", a)
			}
			for k, v := range tc.attrs {
				if got := m.Attributes[k].StringValue; got != v {
					t.Errorf("attribute %s = %q, want %q", k, got, v)
				}
			}
			raw := []byte(m.Body)
			if tc.base64 {
				if raw, err = base64.StdEncoding.DecodeString(m.Body); err != nil {
					t.Fatal(err)
				}
			} else if _, ok := m.Attributes[webhook.AttrBodyEncoding]; ok {
				t.Error("a text body is marked as base64")
			}
			if string(raw) != string(tc.body) {
				t.Errorf("body %q, want %q", raw, tc.body)
			}
		})
	}
}

func TestIngressRefusesAfterClose(t *testing.T) {
	t.Parallel()
	h, _, _ := setup(t)
	h.Close()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/hooks/s", strings.NewReader("x")))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("after Close: %d %v, want 503 with Retry-After", w.Code, w.Header())
	}
}

// FuzzIngress: any request answers 200, 400, 404 or 413, never panics, and
// a 200 names a queued message that holds the request's exact bytes.
func FuzzIngress(f *testing.F) {
	f.Add("/hooks/b", "g", []byte(`{"account":{"id":"x"}}`))
	f.Add("/hooks/h", "g\x00", []byte{0xff})
	f.Add("/hooks/s", "", []byte("a"))
	h, store, cfg := setup(f)
	f.Fuzz(func(t *testing.T, path, group string, body []byte) {
		req := httptest.NewRequest("POST", "/hooks/s", strings.NewReader(string(body)))
		req.URL.Path = path
		req.Header["X-Group"] = []string{group}
		req.Header["X-Delivery-Id"] = []string{group}
		req.Header["X-Event-Type"] = []string{group}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			var answer struct {
				SendMessageResponse struct{ SendMessageResult struct{ MessageId string } }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
				t.Fatal(err)
			}
			msgs, err := store.List(cfg.QueueName())
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if m.MessageID != answer.SendMessageResponse.SendMessageResult.MessageId {
					continue
				}
				raw := []byte(m.Body)
				if m.Attributes[webhook.AttrBodyEncoding].StringValue == webhook.EncodingBase64 {
					raw, _ = base64.StdEncoding.DecodeString(m.Body)
				}
				// Only the static route (request-id dedup) never deduplicates;
				// the others may answer with an earlier message.
				if string(raw) == string(body) || m.Attributes[webhook.AttrRoute].StringValue != "static" {
					return
				}
				t.Fatalf("queued body %q, sent %q", raw, body)
			}
			t.Fatal("a 200 names no queued message")
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

// Without ingress.max_body_bytes the limit is the one derived from the
// route's workflow: its largest body is queued (base64 when it is not
// UTF-8), one byte more is answered 413 and not queued.
func TestBodyLimitDerivedFromTheWorkflow(t *testing.T) {
	t.Parallel()
	h, store, cfg := setupWith(t, strings.Replace(routesYAML, "  max_body_bytes: 64\n", "", 1))
	route, _ := cfg.Route("static")
	limits, err := asl.Limits(cfg, route)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size   int
		status int
	}{{limits.MaxBody, 200}, {limits.MaxBody + 1, 413}} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/hooks/s", strings.NewReader(strings.Repeat("\xff", tc.size))))
		if w.Code != tc.status {
			t.Errorf("a body of %d bytes (limit %d): status %d, want %d: %s", tc.size, limits.MaxBody, w.Code, tc.status, w.Body)
		}
	}
	if st, _ := store.Stats(cfg.QueueName()); st.Visible != 1 {
		t.Errorf("%d messages queued, want the largest body only", st.Visible)
	}
}

// A route takes its burst at once and answers 429 beyond it, as API Gateway
// does, without queueing anything; another route has its own bucket.
func TestThrottledRouteAnswers429(t *testing.T) {
	t.Parallel()
	// A rate so low no token refills while the test runs.
	h, store, cfg := setupWith(t, strings.Replace(routesYAML, "  max_body_bytes: 64\n", "  max_body_bytes: 64\n  throttle: {rate: 0.001, burst: 2}\n", 1))
	if r, _ := cfg.Route("static"); r.Throttle != (config.Throttle{Rate: 0.001, Burst: 2}) {
		t.Fatalf("throttle %+v", r.Throttle)
	}
	send := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"a":1}`)))
		return rec.Code, rec.Body.String()
	}
	for i := range 2 {
		if code, body := send("/hooks/s"); code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i+1, code, body)
		}
	}
	code, body := send("/hooks/s")
	if code != http.StatusTooManyRequests || !strings.Contains(body, `"message":"Too Many Requests"`) {
		t.Errorf("beyond the burst: %d %s, want 429 with API Gateway's message", code, body)
	}
	if st, _ := store.Stats(cfg.QueueName()); st.Visible != 2 {
		t.Errorf("%d messages queued, want the 2 within the burst", st.Visible)
	}
	if code, _ := send("/hooks/b"); code == http.StatusTooManyRequests {
		t.Error("another route was throttled by this one's bucket")
	}
}
