package twin

import (
	"time"

	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
	"github.com/webhookq/webhookq/internal/webhook"
)

// The twin's metrics: the forward and deliver cores record into t.metrics
// (metrics.Memory) what they write as EMF lines on AWS, and the twin samples
// what on AWS the services publish themselves — each route's backlog, the
// age of its oldest webhook, its parked webhooks and running executions —
// every metrics.HistoryStep and whenever the page or /metrics is read.

// newMetrics makes the in-memory metrics the cores record into.
func (t *Twin) newMetrics() (err error) {
	t.metrics, err = metrics.NewMemory(t.cfg, nil)
	return err
}

// sampleGauges records the twin-only gauges of every route. A queue that
// cannot be read is left out of this sample (the store is closing).
func (t *Twin) sampleGauges() {
	now := time.Now()
	queued, qErr := t.store.StatsBy(t.cfg.QueueName(), webhook.AttrRoute)
	parked, dErr := t.store.StatsBy(t.cfg.DLQName(), webhook.AttrRoute)
	running := map[string]int{}
	for _, e := range t.runner.Running(statemachine.Filter{}) {
		running[e.Route]++
	}
	var points []metrics.Point
	for _, r := range t.cfg.Routes {
		points = append(points, metrics.Point{Metric: metrics.Running, Route: r.Name, Value: float64(running[r.Name])})
		if qErr == nil {
			q := queued[r.Name]
			age := 0.0
			if !q.Oldest.IsZero() {
				age = max(now.Sub(q.Oldest), 0).Seconds()
			}
			points = append(points,
				metrics.Point{Metric: metrics.Backlog, Route: r.Name, Value: float64(q.Visible + q.InFlight + q.Delayed)},
				metrics.Point{Metric: metrics.BacklogAge, Route: r.Name, Value: age})
		}
		if dErr == nil {
			d := parked[r.Name]
			points = append(points, metrics.Point{Metric: metrics.DLQDepth, Route: r.Name, Value: float64(d.Visible + d.InFlight + d.Delayed)})
		}
	}
	t.metrics.Record(points...)
}

// startSampling samples the gauges every metrics.HistoryStep until
// stopSampling, so the charts have a point per step.
func (t *Twin) startSampling() {
	t.sampling = make(chan struct{})
	t.sampled = make(chan struct{})
	go func() {
		defer close(t.sampled)
		tick := time.NewTicker(metrics.HistoryStep)
		defer tick.Stop()
		for {
			t.sampleGauges()
			select {
			case <-tick.C:
			case <-t.sampling:
				return
			}
		}
	}()
}

// stopSampling stops the sampler and waits for it, before the stores close.
func (t *Twin) stopSampling() {
	if t.sampling == nil {
		return
	}
	close(t.sampling)
	<-t.sampled
}
