package console

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The chart puts 0 on the bottom of the plot and the largest value on its
// top, oldest point left, newest right, and labels the scale and the window.
func TestChart(t *testing.T) {
	t.Parallel()
	svg := string(chart("flow-orders", "webhooks per point", 5*time.Second, []series{
		{Name: "delivered", Color: "#1d8102", Values: []float64{0, 2, 4}},
		{Name: "parked", Color: "#ec7211", Values: []float64{0, 0, 0}},
	}))
	points := regexp.MustCompile(`data-series="delivered" data-total="6" data-last="4" [^>]*points="([^"]*)"`).FindStringSubmatch(svg)
	if points == nil {
		t.Fatalf("no delivered line with its total and latest value:\n%s", svg)
	}
	bottom, top := float64(chartHeight-chartBottom), float64(chartTop)
	want := []string{
		fmt.Sprintf("%.1f,%.1f", float64(chartLeft), bottom),
		fmt.Sprintf("%.1f,%.1f", chartLeft+float64(chartWidth-chartLeft-chartRight)/2, (bottom+top)/2),
		fmt.Sprintf("%.1f,%.1f", float64(chartWidth-chartRight), top),
	}
	if points[1] != strings.Join(want, " ") {
		t.Errorf("points %q, want %q", points[1], strings.Join(want, " "))
	}
	for _, label := range []string{">4<", ">0<", ">-10s<", "5s per point"} {
		if !strings.Contains(svg, label) {
			t.Errorf("no label %s:\n%s", label, svg)
		}
	}
	if !strings.Contains(svg, `data-series="parked" data-total="0"`) {
		t.Errorf("an all-zero series is not drawn as such:\n%s", svg)
	}
	if strings.Contains(string(chart(`x"><script>`, "u", time.Second, nil)), "<script>") {
		t.Error("the chart id is not escaped")
	}
}
