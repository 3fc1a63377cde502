package metrics

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// History's shape: HistorySteps steps of HistoryStep each, ten minutes.
const (
	HistoryStep  = 5 * time.Second
	HistorySteps = 120
)

// Memory counts points in memory for the local twin: a running value per
// series (what Prometheus scrapes) and, per metric and route, the recent
// History (what the twin's charts draw). It is safe for concurrent use.
type Memory struct {
	routes  []string
	now     func() time.Time
	mu      sync.Mutex
	series  map[Point]*Sample
	history map[historyKey]*ring
}

// Sample is one series' state: its dimension values (Point, without a
// value) and, by the metric's Kind, a counter's total or a gauge's latest
// value (Value), or a distribution's observations (Count, Sum, Buckets).
type Sample struct {
	Point
	Count uint64
	Sum   float64
	// Buckets[i] counts the observations at most Metric.Buckets[i]
	// (cumulative, as Prometheus expects).
	Buckets []uint64
}

type historyKey struct {
	metric Name
	route  string
}

// NewMemory counts cfg's routes' points; now is the clock, nil meaning
// time.Now. Every route's single-dimension counters and gauges start at
// zero, so a scrape lists them before anything happened.
func NewMemory(cfg *config.Config, now func() time.Time) (*Memory, error) {
	if cfg == nil {
		return nil, errors.New("metrics: Memory needs a config")
	}
	if now == nil {
		now = time.Now
	}
	m := &Memory{routes: routeNames(cfg), now: now, series: map[Point]*Sample{}, history: map[historyKey]*ring{}}
	for _, mt := range Table {
		if mt.Kind == Distribution || !slices.Equal(mt.Dimensions(), []Dimension{DimRoute}) {
			continue
		}
		for _, r := range m.routes {
			m.series[Point{Metric: mt.Name, Route: r}] = &Sample{Point: Point{Metric: mt.Name, Route: r}}
		}
	}
	return m, nil
}

// Record counts the points: a Counter's value adds, a Gauge's replaces, a
// Distribution's is one observation.
func (m *Memory) Record(points ...Point) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range points {
		mt, p, ok := clean(m.routes, p)
		if !ok {
			continue
		}
		value := p.Value
		p.Value = 0
		s := m.series[p]
		if s == nil {
			s = &Sample{Point: p}
			if mt.Kind == Distribution {
				s.Buckets = make([]uint64, len(mt.Buckets))
			}
			m.series[p] = s
		}
		switch mt.Kind {
		case Counter:
			s.Value += value
		case Gauge:
			s.Value = value
		case Distribution:
			s.Count++
			s.Sum += value
			for i, le := range mt.Buckets {
				if value <= le {
					s.Buckets[i]++
				}
			}
			continue // a distribution has no History
		}
		k := historyKey{metric: p.Metric, route: p.Route}
		h := m.history[k]
		if h == nil {
			h = &ring{gauge: mt.Kind == Gauge}
			m.history[k] = h
		}
		h.add(now, value)
	}
}

// Samples returns every series, in Table order, then by dimension values.
func (m *Memory) Samples() []Sample {
	m.mu.Lock()
	out := make([]Sample, 0, len(m.series))
	for _, s := range m.series {
		c := *s
		c.Buckets = slices.Clone(s.Buckets)
		out = append(out, c)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Sample) int {
		return cmp.Or(
			cmp.Compare(tableIndex(a.Metric), tableIndex(b.Metric)),
			cmp.Compare(a.Route, b.Route),
			cmp.Compare(a.Class, b.Class),
			cmp.Compare(a.Reason, b.Reason))
	})
	return out
}

// Total is a Counter's total or a Gauge's latest value for route, summed
// over its other dimensions (every class, every reason).
func (m *Memory) Total(metric Name, route string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var total float64
	for p, s := range m.series {
		if p.Metric == metric && p.Route == route {
			total += s.Value
		}
	}
	return total
}

// History is the metric's recent values for route, one per HistoryStep,
// oldest first, the current step last: per step, a Counter's sum (every
// class or reason together) or a Gauge's latest value (carried over steps
// without a sample). A Distribution has none.
func (m *Memory) History(metric Name, route string) []float64 {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.history[historyKey{metric: metric, route: route}]
	if h == nil {
		return make([]float64, HistorySteps)
	}
	return h.values(now)
}

func tableIndex(n Name) int {
	return slices.IndexFunc(Table, func(m Metric) bool { return m.Name == n })
}

// ring holds the last HistorySteps steps of one history.
type ring struct {
	gauge bool
	// step is the index (time / HistoryStep) of the newest slot, at
	// slots[step % HistorySteps].
	step  int64
	slots [HistorySteps]float64
	used  bool
}

// advance moves the ring to now's step, clearing (a gauge: carrying over)
// the slots it passes.
func (r *ring) advance(now time.Time) {
	step := now.UnixNano() / int64(HistoryStep)
	if !r.used {
		r.step, r.used = step, true
		return
	}
	if step <= r.step {
		return
	}
	last := r.slots[r.step%HistorySteps]
	for s := r.step + 1; s <= step && s <= r.step+HistorySteps; s++ {
		r.slots[s%HistorySteps] = 0
		if r.gauge {
			r.slots[s%HistorySteps] = last
		}
	}
	r.step = step
}

func (r *ring) add(now time.Time, v float64) {
	r.advance(now)
	i := r.step % HistorySteps
	if r.gauge {
		r.slots[i] = v
	} else {
		r.slots[i] += v
	}
}

func (r *ring) values(now time.Time) []float64 {
	r.advance(now)
	out := make([]float64, HistorySteps)
	for k := range HistorySteps {
		out[k] = r.slots[(r.step+1+int64(k))%HistorySteps]
	}
	return out
}
