// Package console is the local twin's web page: an overview per route (the
// metrics of internal/lambda/metrics as totals and charts of the last ten
// minutes, drawn as SVG on the server; the page reloads itself), the
// executions (running ones first; filtered by route, group and status), one
// execution's state-by-state history with its inputs and outputs, the queue
// and dead-letter queue contents, the failure notifications, and a redrive
// button; and /metrics in the Prometheus text format. Plain server-rendered
// HTML (html/template), no JavaScript; every action is a form POST answered
// with a redirect, so a reload never repeats it.
//
// Redrive goes through internal/redrive's Tool against the twin's own SQS
// endpoint — the same code cmd/redrive runs — so the page moves messages
// exactly as an operator's command would (new message, same webhook id).
package console

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/redrive"
	"github.com/webhookq/webhookq/internal/twin/demotarget"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
	"github.com/webhookq/webhookq/internal/webhook"
)

//go:embed templates/*.html
var templateFS embed.FS

// listLimit bounds the executions one page lists.
const listLimit = 200

// Notification is one notify invocation the twin saw.
type Notification struct {
	At        time.Time `json:"at"`
	Route     string    `json:"route"`
	Group     string    `json:"group"`
	WebhookID string    `json:"webhookId"`
	Error     string    `json:"error"`
	// Cause is what the target answered (webhook.CauseMessage, bounded).
	Cause string `json:"cause,omitempty"`
	// HeadedForDLQ: the message is parked after this failure (its final
	// receive, or a permanent failure); otherwise it comes back.
	HeadedForDLQ bool   `json:"headedForDlq"`
	Execution    string `json:"executionArn"`
	// Channels took the notification; Problem says why one did not.
	Channels []string `json:"channels"`
	Problem  string   `json:"problem,omitempty"`
}

// Queues is the part of fifo.Store the page reads.
type Queues interface {
	List(queueName string) ([]fifo.Message, error)
	Stats(queueName string) (fifo.Stats, error)
}

// Mover moves DLQ messages back to the queue (redrive.Tool).
type Mover interface {
	Move(ctx context.Context, f redrive.Filter) (redrive.Scan, error)
}

// Options configure the page.
type Options struct {
	Config *config.Config
	// Local is the config as the twin runs it (target URLs overridden).
	Local   *config.Config
	Store   Queues
	History statemachine.HistoryStore
	Redrive Mover
	// Mapping is the forward event source mapping, paused and resumed from
	// the queues page.
	Mapping Mapping
	// Stale says what changed on disk since the twin started; every page
	// shows it.
	Stale    func() []string
	Notified func() []Notification
	// Demo, when set, is shown with its controls, mounted at DemoPath.
	Demo     *demotarget.Target
	DemoPath string
	// Running lists the executions under way (statemachine.Runner.Running).
	Running func(statemachine.Filter) []statemachine.Execution
	// Metrics are the twin's counts (the overview's charts, /metrics);
	// Sample brings their gauges up to date before they are read.
	Metrics *metrics.Memory
	Sample  func()
	// SignatureChecks says how each route's inbound signatures are checked
	// as the twin runs (the overview shows it beside the refused count).
	SignatureChecks func() []SignatureCheck
}

// SignatureCheck is one route's inbound signature verification as the twin
// runs it.
type SignatureCheck struct {
	Route string
	// Scheme is the route's scheme; config.VerifyNone when it verifies
	// nothing.
	Scheme config.VerifyScheme
	// On: the twin verifies this route's webhooks.
	On bool
	// Detail says what is checked, what to set to turn it on, or why the
	// route checks nothing (its verify reason).
	Detail string
}

// Page serves the web page.
type Page struct {
	o    Options
	tmpl *template.Template
	mux  *http.ServeMux
}

// New parses the templates and routes the page.
func New(o Options) (*Page, error) {
	tmpl, err := template.New("").Funcs(template.FuncMap{
		"since":    since,
		"clock":    func(t time.Time) string { return t.Local().Format("15:04:05.000") },
		"pretty":   prettyJSON,
		"queryArn": func(arn string) string { return "/execution?arn=" + url.QueryEscape(arn) },
		"excerpt":  excerpt,
		"join":     strings.Join,
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &Page{o: o, tmpl: tmpl, mux: http.NewServeMux()}
	p.mux.HandleFunc("GET /{$}", p.executions)
	p.mux.HandleFunc("GET /execution", p.execution)
	p.mux.HandleFunc("GET /queues", p.queues)
	p.mux.HandleFunc("POST /redrive", p.redrive)
	p.mux.HandleFunc("POST /mapping", p.mapping)
	p.mux.HandleFunc("GET /notifications", p.notifications)
	p.mux.HandleFunc("GET /overview", p.overview)
	p.mux.HandleFunc("GET /metrics", p.prometheus)
	return p, nil
}

func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

// layout is what every page shows around its content.
type layout struct {
	Title    string
	Service  string
	Queue    string
	DLQ      string
	QueueN   fifo.Stats
	DLQN     fifo.Stats
	Notices  int
	Demo     *demotarget.Status
	DemoPath string
	Flash    string
	// Mapping is the forward event source mapping's state (Enabled,
	// Disabling, Disabled); empty without one.
	Mapping string
	// Stale: what changed on disk since the twin started.
	Stale []string
	// Refresh, when set, reloads the page every Refresh seconds.
	Refresh int
}

func (p *Page) layout(r *http.Request, title string) layout {
	l := layout{Title: title, Service: p.o.Config.Service, Queue: p.o.Config.QueueName(), DLQ: p.o.Config.DLQName(), DemoPath: p.o.DemoPath, Flash: r.URL.Query().Get("flash")}
	l.QueueN, _ = p.o.Store.Stats(l.Queue)
	l.DLQN, _ = p.o.Store.Stats(l.DLQ)
	if p.o.Notified != nil {
		l.Notices = len(p.o.Notified())
	}
	if p.o.Demo != nil {
		s := p.o.Demo.Snapshot()
		l.Demo = &s
	}
	if p.o.Mapping != nil {
		l.Mapping = p.o.Mapping.State()
	}
	if p.o.Stale != nil {
		l.Stale = p.o.Stale()
	}
	return l
}

func (p *Page) render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}

func (p *Page) executions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := statemachine.Filter{Route: q.Get("route"), Group: q.Get("group"), Status: statemachine.Status(q.Get("status")), Limit: listLimit}
	// The running ones first (the history has only finished executions).
	var list []*statemachine.Execution
	if p.o.Running != nil && (f.Status == "" || f.Status == statemachine.StatusRunning) {
		for _, e := range p.o.Running(f) {
			list = append(list, &e)
		}
	}
	if f.Status != statemachine.StatusRunning && len(list) < listLimit {
		finished := f
		finished.Limit = listLimit - len(list)
		done, err := p.o.History.List(r.Context(), finished)
		if err != nil {
			http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
			return
		}
		list = append(list, done...)
	}
	var routes []string
	for _, rt := range p.o.Config.Routes {
		routes = append(routes, rt.Name)
	}
	p.render(w, "executions.html", struct {
		layout
		Filter     statemachine.Filter
		Executions []*statemachine.Execution
		Routes     []string
		Statuses   []statemachine.Status
		Limit      int
	}{p.layout(r, "Executions"), f, list, routes, []statemachine.Status{statemachine.StatusRunning, statemachine.StatusSucceeded, statemachine.StatusFailed, statemachine.StatusTimedOut}, listLimit})
}

func (p *Page) execution(w http.ResponseWriter, r *http.Request) {
	arn := r.URL.Query().Get("arn")
	e, err := p.o.History.Get(r.Context(), arn)
	if errors.Is(err, statemachine.ErrNotFound) && p.o.Running != nil {
		// Still running: its header, and its history once it ends.
		for _, x := range p.o.Running(statemachine.Filter{}) {
			if x.ARN == arn {
				e, err = &x, nil
				break
			}
		}
	}
	if errors.Is(err, statemachine.ErrNotFound) {
		http.Error(w, "no execution "+arn+" (the twin keeps the newest executions only)", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
		return
	}
	p.render(w, "execution.html", struct {
		layout
		Execution *statemachine.Execution
	}{p.layout(r, "Execution "+e.Name), e})
}

// notificationView is a notification and, when it was headed for the DLQ,
// the command that redrives its webhook from this twin.
type notificationView struct {
	Notification
	Command string
}

func (p *Page) notifications(w http.ResponseWriter, r *http.Request) {
	var list []notificationView
	if p.o.Notified != nil {
		for _, n := range p.o.Notified() {
			v := notificationView{Notification: n}
			if n.HeadedForDLQ {
				v.Command = p.redriveCommand(r, "--webhook-id", n.WebhookID)
			}
			list = append(list, v)
		}
	}
	p.render(w, "notifications.html", struct {
		layout
		Notifications []notificationView
	}{p.layout(r, "Notifications"), list})
}

func since(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t).Round(time.Second)
	if d < time.Second {
		return "just now"
	}
	return d.String() + " ago"
}

// prettyJSON indents a JSON document for reading; anything else is shown as is.
func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// excerpt is s cut to n bytes on a rune boundary (webhook.Bound), saying
// how long s was when it is cut.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return webhook.Bound(s, n) + " (" + strconv.Itoa(len(s)) + " bytes)"
}
