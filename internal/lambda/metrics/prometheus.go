package metrics

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// PrometheusContentType is the media type of WritePrometheus's output, the
// Prometheus text exposition format 0.0.4.
const PrometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

// PrometheusName is a metric's name in Prometheus: "webhookq_", the name in
// snake case, then its unit ("_milliseconds", "_seconds"), then "_total"
// for a Counter.
func PrometheusName(m Metric) string {
	name := "webhookq_" + m.Key()
	switch m.Unit {
	case Milliseconds:
		name += "_milliseconds"
	case Seconds:
		name += "_seconds"
	}
	if m.Kind == Counter {
		name += "_total"
	}
	return name
}

// PrometheusLabel is a dimension's label name.
func PrometheusLabel(d Dimension) string { return snake(string(d)) }

// WritePrometheus writes every series in the Prometheus text format: a
// Counter as a counter, a Gauge as a gauge, a Distribution as a histogram
// with the metric's Buckets. Metrics without a series are left out.
func (m *Memory) WritePrometheus(w io.Writer) error {
	bw := bufio.NewWriter(w)
	samples := m.Samples()
	for _, mt := range Table {
		name := PrometheusName(mt)
		header := false
		for _, s := range samples {
			if s.Metric != mt.Name {
				continue
			}
			if !header {
				header = true
				bw.WriteString("# HELP " + name + " " + escapeHelp(mt.Meaning) + "\n")
				bw.WriteString("# TYPE " + name + " " + prometheusType(mt.Kind) + "\n")
			}
			labels := promLabels(mt, s.Point)
			if mt.Kind != Distribution {
				bw.WriteString(name + braces(labels) + " " + formatFloat(s.Value) + "\n")
				continue
			}
			for i, le := range mt.Buckets {
				bw.WriteString(name + "_bucket" + braces(append(labels, `le="`+formatFloat(le)+`"`)) + " " + strconv.FormatUint(s.Buckets[i], 10) + "\n")
			}
			bw.WriteString(name + "_bucket" + braces(append(labels, `le="+Inf"`)) + " " + strconv.FormatUint(s.Count, 10) + "\n")
			bw.WriteString(name + "_sum" + braces(labels) + " " + formatFloat(s.Sum) + "\n")
			bw.WriteString(name + "_count" + braces(labels) + " " + strconv.FormatUint(s.Count, 10) + "\n")
		}
	}
	return bw.Flush()
}

func prometheusType(k Kind) string {
	switch k {
	case Counter:
		return "counter"
	case Distribution:
		return "histogram"
	}
	return "gauge"
}

// promLabels are a series' label pairs, in the metric's dimension order.
// The slice has spare room so a caller's append (le) never shares it.
func promLabels(m Metric, p Point) []string {
	dims := m.Dimensions()
	out := make([]string, 0, len(dims)+1)
	for _, d := range dims {
		out = append(out, PrometheusLabel(d)+`="`+escapeLabel(p.dimensionValue(d))+`"`)
	}
	return out
}

func braces(labels []string) string {
	if len(labels) == 0 {
		return ""
	}
	return "{" + strings.Join(labels, ",") + "}"
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// escapeLabel and escapeHelp escape as the text format requires: a label
// value's backslash, double quote and line feed; a help text's backslash
// and line feed.
var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

// snake turns CamelCase into snake_case, keeping an acronym together:
// "DeliveryLatency" → "delivery_latency", "DLQDepth" → "dlq_depth".
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 && (unicode.IsLower(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1]))) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}
