package metrics

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// EMF writes points as CloudWatch Embedded Metric Format lines: one JSON
// object per line whose "_aws" member tells CloudWatch Logs which of its
// other members are metrics and dimensions
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
// In Lambda, whatever a function writes to standard output reaches its log
// group and CloudWatch extracts the metrics there: no API call, no agent
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html).
type EMF struct {
	w         io.Writer
	namespace string
	routes    []string
	now       func() time.Time
	mu        sync.Mutex
}

// NewEMF writes cfg's service's points to w (a Lambda's os.Stdout); now is
// the clock for each line's timestamp, nil meaning time.Now.
func NewEMF(w io.Writer, cfg *config.Config, now func() time.Time) (*EMF, error) {
	if w == nil || cfg == nil {
		return nil, errors.New("metrics: EMF needs a writer and a config")
	}
	if now == nil {
		now = time.Now
	}
	return &EMF{w: w, namespace: Namespace(cfg), routes: routeNames(cfg), now: now}, nil
}

// Record writes the points in as few lines as the format allows: a line
// holds each metric and each dimension once, so a point whose metric or
// dimension value is already on the line starts another. Invalid points are
// dropped (see Recorder); a failed write is lost, as a log line would be.
func (e *EMF) Record(points ...Point) {
	var lines []*emfLine
	for _, p := range points {
		m, p, ok := clean(e.routes, p)
		if !ok {
			continue
		}
		i := slices.IndexFunc(lines, func(l *emfLine) bool { return l.fits(m, p) })
		if i < 0 {
			lines = append(lines, &emfLine{members: map[string]any{}})
			i = len(lines) - 1
		}
		lines[i].add(m, p)
	}
	if len(lines) == 0 {
		return
	}
	ts := e.now().UnixMilli()
	var buf []byte
	for _, l := range lines {
		b, err := json.Marshal(l.document(e.namespace, ts))
		if err != nil {
			continue // cannot happen: clean admits finite numbers and strings only
		}
		buf = append(append(buf, b...), '\n')
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(buf)
}

// emfLine is one EMF document being assembled: its root members (dimension
// values and metric values) and its metric directives, one per distinct
// list of dimension sets.
type emfLine struct {
	members    map[string]any
	directives []emfDirective
}

type emfDirective struct {
	dimensionSets [][]Dimension
	metrics       []Metric
}

func (l *emfLine) fits(m Metric, p Point) bool {
	if _, taken := l.members[string(m.Name)]; taken {
		return false
	}
	for _, d := range m.Dimensions() {
		if v, ok := l.members[string(d)]; ok && v != p.dimensionValue(d) {
			return false
		}
	}
	return true
}

func (l *emfLine) add(m Metric, p Point) {
	l.members[string(m.Name)] = p.Value
	for _, d := range m.Dimensions() {
		l.members[string(d)] = p.dimensionValue(d)
	}
	for i := range l.directives {
		if slices.EqualFunc(l.directives[i].dimensionSets, m.DimensionSets, slices.Equal) {
			l.directives[i].metrics = append(l.directives[i].metrics, m)
			return
		}
	}
	l.directives = append(l.directives, emfDirective{dimensionSets: m.DimensionSets, metrics: []Metric{m}})
}

// The EMF document's metadata, in the specification's member names.
type (
	emfMetadata struct {
		Timestamp         int64                `json:"Timestamp"`
		CloudWatchMetrics []emfMetricDirective `json:"CloudWatchMetrics"`
	}
	emfMetricDirective struct {
		Namespace  string                `json:"Namespace"`
		Dimensions [][]Dimension         `json:"Dimensions"`
		Metrics    []emfMetricDefinition `json:"Metrics"`
	}
	emfMetricDefinition struct {
		Name Name `json:"Name"`
		Unit Unit `json:"Unit"`
	}
)

// document is the line's JSON object: encoding/json writes a map's keys
// sorted, so the same points give the same bytes.
func (l *emfLine) document(namespace string, timestampMillis int64) map[string]any {
	meta := emfMetadata{Timestamp: timestampMillis}
	for _, d := range l.directives {
		md := emfMetricDirective{Namespace: namespace, Dimensions: d.dimensionSets}
		for _, m := range d.metrics {
			md.Metrics = append(md.Metrics, emfMetricDefinition{Name: m.Name, Unit: m.Unit})
		}
		meta.CloudWatchMetrics = append(meta.CloudWatchMetrics, md)
	}
	doc := make(map[string]any, len(l.members)+1)
	for k, v := range l.members {
		doc[k] = v
	}
	doc["_aws"] = meta
	return doc
}
