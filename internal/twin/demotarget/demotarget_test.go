package demotarget_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/twin/demotarget"
	"github.com/webhookq/webhookq/internal/webhook"
)

func do(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(`{"x":1}`))
	req.Header.Set(webhook.HeaderWebhookID, "wh-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestFailureModes: deliveries succeed, /fail?count=N fails exactly N, /fail
// fails until /recover, rate 1 fails all, and /status counts everything.
func TestFailureModes(t *testing.T) {
	t.Parallel()
	d := demotarget.New(0, nil)
	statuses := func(n int) []int {
		var out []int
		for range n {
			out = append(out, do(t, d, "POST", "/api/hook").Code)
		}
		return out
	}
	check := func(what string, got []int, want ...int) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", what, got, want)
				return
			}
		}
	}
	check("healthy", statuses(2), 200, 200)
	do(t, d, "POST", "/fail?count=2")
	check("count=2", statuses(3), 500, 500, 200)
	do(t, d, "POST", "/fail")
	check("until recover", statuses(3), 500, 500, 500)
	do(t, d, "POST", "/recover")
	check("recovered", statuses(1), 200)
	do(t, d, "POST", "/fail?rate=1")
	check("rate 1", statuses(2), 500, 500)
	if w := do(t, d, "POST", "/fail?rate=2"); w.Code != http.StatusBadRequest {
		t.Errorf("rate 2 accepted: %d", w.Code)
	}
	do(t, d, "POST", "/fail")
	do(t, d, "POST", "/fail?rate=0")
	check("rate 0 after /fail", statuses(1), 200)
	do(t, d, "POST", "/recover")

	var s demotarget.Status
	if err := json.Unmarshal(do(t, d, "GET", "/status").Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Received != 12 || s.Failed != 7 || len(s.Recent) != 12 || s.Recent[0].WebhookID != "wh-1" || s.Recent[0].Path != "/api/hook" {
		t.Errorf("status %+v", s)
	}
	if w := do(t, d, "GET", "/api/hook"); w.Code != http.StatusNotFound {
		t.Errorf("GET of a delivery path: %d", w.Code)
	}
}
