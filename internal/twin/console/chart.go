package console

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// series is one line of a chart: a name, its colour and its values, one per
// step, oldest first.
type series struct {
	Name, Color string
	Values      []float64
}

// Chart geometry, in SVG user units.
const (
	chartWidth, chartHeight = 560, 150
	chartLeft, chartRight   = 44, 8
	chartTop, chartBottom   = 10, 22
)

// chart draws series over the window they cover (one value per step) as an
// SVG line chart, on the server: no script, nothing fetched, so the page
// works offline. The y axis starts at 0 and ends at the largest value (at
// least 1); each line carries its total and latest value as data attributes.
func chart(id, unit string, step time.Duration, ss []series) template.HTML {
	peak := 1.0
	n := 0
	for _, s := range ss {
		n = max(n, len(s.Values))
		for _, v := range s.Values {
			peak = max(peak, v)
		}
	}
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	x := func(i int) float64 {
		if n <= 1 {
			return chartLeft
		}
		return chartLeft + plotW*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return chartTop + plotH*(1-v/peak) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		template.HTMLEscapeString(id), chartWidth, chartHeight, chartWidth, chartHeight, template.HTMLEscapeString(id))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%g" height="%g" fill="#fafafa" stroke="#ddd"/>`, chartLeft, chartTop, plotW, plotH)
	for _, frac := range []float64{0, 0.5, 1} {
		v := peak * frac
		fmt.Fprintf(&b, `<line x1="%d" x2="%g" y1="%.1f" y2="%.1f" stroke="#e4e4e4"/>`, chartLeft, chartLeft+plotW, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="10" text-anchor="end" fill="#555">%s</text>`, chartLeft-4, y(v)+3, formatValue(v))
	}
	window := time.Duration(max(n-1, 0)) * step
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" fill="#555">-%s</text>`, chartLeft, chartHeight-6, window)
	fmt.Fprintf(&b, `<text x="%g" y="%d" font-size="10" text-anchor="end" fill="#555">now (%s per point, %s)</text>`, chartLeft+plotW, chartHeight-6, step, template.HTMLEscapeString(unit))
	for _, s := range ss {
		var pts []string
		total := 0.0
		for i, v := range s.Values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			total += v
		}
		last := 0.0
		if len(s.Values) > 0 {
			last = s.Values[len(s.Values)-1]
		}
		fmt.Fprintf(&b, `<polyline class="series" data-series="%s" data-total="%s" data-last="%s" fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`,
			template.HTMLEscapeString(s.Name), formatValue(total), formatValue(last), template.HTMLEscapeString(s.Color), strings.Join(pts, " "))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// formatValue prints a count or a rate without needless decimals.
func formatValue(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
