package demotarget_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// The root answers with a page showing the state and the controls; its forms
// set the failure status and come back to it; a 4xx failure status is used.
func TestPageAndFailureStatus(t *testing.T) {
	t.Parallel()
	d := demotarget.New(0, nil)
	mux := http.NewServeMux()
	mux.Handle("/demo-target/", http.StripPrefix("/demo-target", d))
	mux.Handle("/demo-target", http.StripPrefix("/demo-target", d))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/demo-target") // redirected to the slash
	if err != nil {
		t.Fatal(err)
	}
	page := new(strings.Builder)
	_, _ = io.Copy(page, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page.String(), `<strong id="fail-mode">accepting every delivery</strong>`) || resp.Request.URL.Path != "/demo-target/" {
		t.Fatalf("GET /demo-target: %d %s at %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Request.URL.Path, page)
	}
	// The page's "Fail" form: fields in the body, a redirect back.
	form := url.Values{"count": {"2"}, "status": {"400"}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.PostForm(srv.URL+"/demo-target/fail?page=1", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "./" {
		t.Fatalf("form post: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for i, want := range []int{400, 400, 200} {
		if got := do(t, d, "POST", "/api/hook").Code; got != want {
			t.Errorf("delivery %d answered %d, want %d", i, got, want)
		}
	}
	if w := do(t, d, "POST", "/fail?status=302"); w.Code != http.StatusBadRequest {
		t.Errorf("status 302 accepted: %d", w.Code)
	}
	do(t, d, "POST", "/fail?status=503")
	do(t, d, "POST", "/recover")
	if got := d.Snapshot(); got.FailStatus != 500 || do(t, d, "POST", "/api/hook").Code != 200 {
		t.Errorf("after recover: %+v", got)
	}
}
