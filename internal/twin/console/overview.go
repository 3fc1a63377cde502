package console

import (
	"html/template"
	"net/http"
	"time"

	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
	"github.com/webhookq/webhookq/internal/webhook"
)

// overviewRefresh is how often the overview reloads itself (a meta
// refresh: no script), about a chart step.
const overviewRefresh = 5

// runningLimit bounds the running executions the overview lists.
const runningLimit = 50

// count is one class's or reason's total.
type count struct {
	Name string
	N    float64
}

// routeOverview is one route's panel: totals since the twin started, the
// gauges now, and the last ten minutes as two charts.
type routeOverview struct {
	Name                              string
	Delivered, FailedAttempts, Parked float64
	Backlog, DLQ, Running             float64
	BacklogAge                        time.Duration
	Failures, Parks                   []count
	FlowChart, QueueChart             template.HTML
	// Refused counts the webhooks refused for their inbound signature
	// (Parked, reason signature): never run, delivered or notified.
	Refused float64
	// Check is how the route's signatures are checked here.
	Check SignatureCheck
}

func (p *Page) overview(w http.ResponseWriter, r *http.Request) {
	m := p.o.Metrics
	if m == nil {
		http.Error(w, "console: no metrics", http.StatusNotFound)
		return
	}
	if p.o.Sample != nil {
		p.o.Sample()
	}
	samples := m.Samples()
	checks := map[string]SignatureCheck{}
	if p.o.SignatureChecks != nil {
		for _, c := range p.o.SignatureChecks() {
			checks[c.Route] = c
		}
	}
	var routes []routeOverview
	for _, rt := range p.o.Config.Routes {
		v := routeOverview{
			Name:           rt.Name,
			Delivered:      m.Total(metrics.Delivered, rt.Name),
			FailedAttempts: m.Total(metrics.FailedAttempts, rt.Name),
			Parked:         m.Total(metrics.Parked, rt.Name),
			Backlog:        m.Total(metrics.Backlog, rt.Name),
			DLQ:            m.Total(metrics.DLQDepth, rt.Name),
			Running:        m.Total(metrics.Running, rt.Name),
			BacklogAge:     time.Duration(m.Total(metrics.BacklogAge, rt.Name)) * time.Second,
			Check:          checks[rt.Name],
		}
		for _, s := range samples {
			switch {
			case s.Route != rt.Name:
			case s.Metric == metrics.FailedAttempts:
				v.Failures = append(v.Failures, count{string(s.Class), s.Value})
			case s.Metric == metrics.Parked:
				v.Parks = append(v.Parks, count{string(s.Reason), s.Value})
				if s.Reason == webhook.ReasonSignature {
					v.Refused += s.Value
				}
			}
		}
		v.FlowChart = chart("flow-"+rt.Name, "webhooks per point", metrics.HistoryStep, []series{
			{Name: "delivered", Color: "#1d8102", Values: m.History(metrics.Delivered, rt.Name)},
			{Name: "failed attempts", Color: "#d13212", Values: m.History(metrics.FailedAttempts, rt.Name)},
			{Name: "parked", Color: "#ec7211", Values: m.History(metrics.Parked, rt.Name)},
		})
		v.QueueChart = chart("queue-"+rt.Name, "webhooks", metrics.HistoryStep, []series{
			{Name: "backlog", Color: "#0972d3", Values: m.History(metrics.Backlog, rt.Name)},
			{Name: "in the DLQ", Color: "#8a3ffc", Values: m.History(metrics.DLQDepth, rt.Name)},
			{Name: "running", Color: "#5f6b7a", Values: m.History(metrics.Running, rt.Name)},
		})
		routes = append(routes, v)
	}
	var running []statemachine.Execution
	if p.o.Running != nil {
		running = p.o.Running(statemachine.Filter{Limit: runningLimit})
	}
	l := p.layout(r, "Overview")
	l.Refresh = overviewRefresh
	p.render(w, "overview.html", struct {
		layout
		Routes  []routeOverview
		Running []statemachine.Execution
		Window  time.Duration
	}{l, routes, running, metrics.HistorySteps * metrics.HistoryStep})
}

// prometheus serves the twin's metrics in the Prometheus text format, for a
// Prometheus (or anything that speaks it) to scrape.
func (p *Page) prometheus(w http.ResponseWriter, _ *http.Request) {
	if p.o.Metrics == nil {
		http.Error(w, "console: no metrics", http.StatusNotFound)
		return
	}
	if p.o.Sample != nil {
		p.o.Sample()
	}
	w.Header().Set("Content-Type", metrics.PrometheusContentType)
	_ = p.o.Metrics.WritePrometheus(w)
}
