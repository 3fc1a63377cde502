package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/redrive"
	"github.com/webhookq/webhookq/internal/twin/console"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
)

type noQueues struct{}

func (noQueues) List(string) ([]fifo.Message, error) { return nil, nil }
func (noQueues) Stats(string) (fifo.Stats, error)    { return fifo.Stats{}, nil }

// mover records the filters it was asked to move.
type mover struct{ filters []redrive.Filter }

func (m *mover) Move(_ context.Context, f redrive.Filter) (redrive.Scan, error) {
	m.filters = append(m.filters, f)
	return redrive.Scan{Messages: make([]redrive.Message, 2)}, nil
}

func TestRedriveForm(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Service: "shop"}
	m := &mover{}
	page, err := console.New(console.Options{Config: cfg, Local: cfg, Store: noQueues{}, History: &statemachine.MemoryHistory{}, Redrive: m})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		headers map[string]string
		status  int
		moved   []string // message ids of the filter; nil: all
	}{
		{name: "all", form: url.Values{}, headers: map[string]string{"Origin": "http://twin.local"}, status: http.StatusSeeOther},
		{name: "one message", form: url.Values{"message-id": {"m-1"}}, status: http.StatusSeeOther, moved: []string{"m-1"}},
		{name: "another origin", form: url.Values{}, headers: map[string]string{"Origin": "https://evil.example"}, status: http.StatusForbidden},
		{name: "cross-site fetch", form: url.Values{}, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: http.StatusForbidden},
	} {
		before := len(m.filters)
		req := httptest.NewRequest("POST", "http://twin.local/redrive", strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		page.ServeHTTP(w, req)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.status)
			continue
		}
		if tc.status != http.StatusSeeOther {
			if len(m.filters) != before {
				t.Errorf("%s: a refused request moved messages", tc.name)
			}
			continue
		}
		if loc := w.Header().Get("Location"); !strings.Contains(loc, "Redrove+2+message") {
			t.Errorf("%s: redirect %q", tc.name, loc)
		}
		got := m.filters[len(m.filters)-1].MessageIDs
		if strings.Join(got, ",") != strings.Join(tc.moved, ",") {
			t.Errorf("%s: moved %q, want %q", tc.name, got, tc.moved)
		}
	}
}
