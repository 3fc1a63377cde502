// Package demotarget is the local twin's built-in target application for
// demos: it accepts every delivery, logs it, and can be told to fail, so a
// newcomer sees delivery, retries, the failure notification, the dead-letter
// queue and a redrive without writing a receiver.
//
// Routes (below the prefix the twin mounts it at, e.g. /demo-target):
//
//	GET  /                    a page: what it is, its state, the last deliveries, its controls
//	POST /<anything>          a delivery: 200, or the failure status while failing
//	POST /fail?count=N        fail the next N deliveries (count=-1: until /recover)
//	POST /fail?rate=0.3       fail each delivery with this probability
//	POST /fail?status=400     fail with this status (400-599; default 500): a 4xx
//	                          other than 408/429 is a permanent failure, parked at once
//	POST /recover             stop failing
//	GET  /status              JSON: counts, failure mode, the last deliveries
//
// The controls answer with the JSON status, or, posted from the page's forms
// (page=1), with a redirect back to the page.
package demotarget

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/webhookq/webhookq/internal/webhook"
)

// keepLast bounds the deliveries the status page lists.
const keepLast = 50

// Delivery is one request the target received.
type Delivery struct {
	At        time.Time `json:"at"`
	Path      string    `json:"path"`
	WebhookID string    `json:"webhookId"`
	Bytes     int       `json:"bytes"`
	Status    int       `json:"status"`
}

// Status is what GET /status answers.
type Status struct {
	Received int     `json:"received"`
	Failed   int     `json:"failed"`
	FailNext int     `json:"failNext"`
	FailRate float64 `json:"failRate"`
	// FailStatus is the status a failing delivery is answered with.
	FailStatus int        `json:"failStatus"`
	Recent     []Delivery `json:"recent"`
	FailMode   string     `json:"failMode"`
}

// Target is the demo target. The zero value is not usable; use New.
type Target struct {
	log *slog.Logger

	mu         sync.Mutex
	failNext   int // > 0: fail that many; < 0: fail until recovered
	failRate   float64
	failStatus int
	received   int
	failed     int
	recent     []Delivery
}

// New returns a target that fails each delivery with probability failRate.
func New(failRate float64, log *slog.Logger) *Target {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Target{log: log, failRate: failRate, failStatus: http.StatusInternalServerError}
}

func (t *Target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "" && r.Method == http.MethodGet:
		// Mounted at /demo-target: the page's relative links need the slash.
		// (http.Redirect would resolve it against the stripped path.)
		seeOther(w, path.Base(r.RequestURI)+"/")
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		t.page(w)
	case r.URL.Path == "/status" && r.Method == http.MethodGet:
		t.status(w, r)
	case r.URL.Path == "/fail" && r.Method == http.MethodPost:
		t.setFailing(w, r)
	case r.URL.Path == "/recover" && r.Method == http.MethodPost:
		t.mu.Lock()
		t.failNext, t.failRate, t.failStatus = 0, 0, http.StatusInternalServerError
		t.mu.Unlock()
		t.log.Info("demo target: recovered; accepting deliveries")
		t.status(w, r)
	case r.Method == http.MethodPost:
		t.deliver(w, r)
	default:
		http.Error(w, "demo target: GET / for its page; POST a delivery, POST /fail?count=N|rate=R|status=S, POST /recover, GET /status", http.StatusNotFound)
	}
}

func (t *Target) deliver(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)
	t.mu.Lock()
	fail := false
	switch {
	case t.failNext != 0:
		fail = true
		if t.failNext > 0 {
			t.failNext--
		}
	case t.failRate > 0:
		fail = rand.Float64() < t.failRate
	}
	status := http.StatusOK
	if fail {
		status = t.failStatus
		t.failed++
	}
	t.received++
	d := Delivery{At: time.Now().UTC(), Path: r.URL.Path, WebhookID: r.Header.Get(webhook.HeaderWebhookID), Bytes: int(n), Status: status}
	t.recent = append(t.recent, d)
	if len(t.recent) > keepLast {
		t.recent = t.recent[len(t.recent)-keepLast:]
	}
	t.mu.Unlock()
	t.log.Info("demo target: delivery", "path", d.Path, "webhook_id", d.WebhookID, "bytes", d.Bytes, "status", status,
		"event_type", r.Header.Get("X-Event-Type"))
	if fail {
		http.Error(w, fmt.Sprintf("demo target: failing on purpose with %d (POST /demo-target/recover to stop)", status), status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"ok\":true,\"webhookId\":%q}\n", d.WebhookID)
}

func (t *Target) setFailing(w http.ResponseWriter, r *http.Request) {
	// The query (curl) or the page's form fields.
	_ = r.ParseForm()
	q := r.Form
	t.mu.Lock()
	if c := q.Get("count"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < -1 {
			t.mu.Unlock()
			http.Error(w, "count must be a number ≥ -1", http.StatusBadRequest)
			return
		}
		t.failNext = n
	}
	if rs := q.Get("rate"); rs != "" {
		f, err := strconv.ParseFloat(rs, 64)
		if err != nil || f < 0 || f > 1 {
			t.mu.Unlock()
			http.Error(w, "rate must be between 0 and 1", http.StatusBadRequest)
			return
		}
		t.failRate = f
		if q.Get("count") == "" {
			t.failNext = 0 // a rate alone replaces an earlier count or "until /recover"
		}
	}
	if st := q.Get("status"); st != "" {
		n, err := strconv.Atoi(st)
		if err != nil || n < 400 || n > 599 {
			t.mu.Unlock()
			http.Error(w, "status must be a 4xx or 5xx status", http.StatusBadRequest)
			return
		}
		t.failStatus = n
	}
	if q.Get("count") == "" && q.Get("rate") == "" {
		t.failNext = -1
	}
	next, rate, status := t.failNext, t.failRate, t.failStatus
	t.mu.Unlock()
	t.log.Info("demo target: failing deliveries", "next", next, "rate", rate, "status", status)
	t.status(w, r)
}

// status answers the JSON status, or sends the page's forms back to it.
func (t *Target) status(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("page") == "1" {
		seeOther(w, "./")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(t.Snapshot())
}

// Snapshot returns the target's counters and recent deliveries, newest last.
func (t *Target) Snapshot() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Status{Received: t.received, Failed: t.failed, FailNext: t.failNext, FailRate: t.failRate, FailStatus: t.failStatus,
		Recent: append([]Delivery(nil), t.recent...)}
	switch {
	case t.failNext < 0:
		s.FailMode = fmt.Sprintf("failing every delivery with %d until POST /recover", t.failStatus)
	case t.failNext > 0:
		s.FailMode = fmt.Sprintf("failing the next %d deliveries with %d", t.failNext, t.failStatus)
	case t.failRate > 0:
		s.FailMode = fmt.Sprintf("failing %.0f%% of deliveries with %d", t.failRate*100, t.failStatus)
	default:
		s.FailMode = "accepting every delivery"
	}
	return s
}

// seeOther redirects to location, relative to the request's full path: the
// target does not know the prefix it is mounted at.
func seeOther(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusSeeOther)
}
