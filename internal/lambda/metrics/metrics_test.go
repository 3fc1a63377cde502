package metrics

import (
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

func testConfig() *config.Config {
	return &config.Config{Service: "sales", Routes: []config.Route{{Name: "approvals"}, {Name: "invoices"}}}
}

// The table is the one home of the metrics: these are the rules every row
// must keep for the EMF lines, the Prometheus names and the dashboard to be
// right.
func TestTable(t *testing.T) {
	promName := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	seen := map[string]bool{}
	for _, d := range []Dimension{DimRoute, DimClass, DimReason} {
		seen[string(d)] = true
	}
	prom := map[string]bool{}
	for _, m := range Table {
		if seen[string(m.Name)] {
			t.Errorf("%s: name used twice, or by a dimension (one EMF line holds both as members)", m.Name)
		}
		seen[string(m.Name)] = true
		if m.Meaning == "" || m.Unit == "" || m.Kind == 0 || m.Source == "" {
			t.Errorf("%s: incomplete row %+v", m.Name, m)
		}
		if len(m.DimensionSets) == 0 || !slices.Contains(m.Dimensions(), DimRoute) {
			t.Errorf("%s: every metric is per route", m.Name)
		}
		for _, set := range m.DimensionSets[1:] {
			for _, d := range set {
				if !slices.Contains(m.Dimensions(), d) {
					t.Errorf("%s: roll-up dimension %s is not in the full set", m.Name, d)
				}
			}
		}
		if (m.Kind == Distribution) != (len(m.Buckets) > 0) || !slices.IsSorted(m.Buckets) {
			t.Errorf("%s: a distribution, and only one, has ascending buckets", m.Name)
		}
		if (m.Source == SourceTwin) != (m.OnAWS != "") || (m.Source == SourceTwin) != (m.Kind == Gauge) {
			t.Errorf("%s: a twin-only metric is a gauge and names what AWS publishes instead", m.Name)
		}
		name := PrometheusName(m)
		if !promName.MatchString(name) || prom[name] {
			t.Errorf("%s: Prometheus name %q invalid or taken", m.Name, name)
		}
		prom[name] = true
	}
	if got := PrometheusName(Table[tableIndex(DLQDepth)]); got != "webhookq_dlq_depth" {
		t.Errorf("DLQDepth in Prometheus: %s", got)
	}
	if got := PrometheusName(Table[tableIndex(DeliveryLatency)]); got != "webhookq_delivery_latency_milliseconds" {
		t.Errorf("DeliveryLatency in Prometheus: %s", got)
	}
	for _, o := range config.AllOutcomes {
		if c, ok := ClassOf(o); !ok || !validClass(c) {
			t.Errorf("retry outcome %s has no failure class", o)
		}
	}
}

func TestCleanBoundsDimensions(t *testing.T) {
	routes := routeNames(testConfig())
	for _, tc := range []struct {
		name string
		in   Point
		want Point
		ok   bool
	}{
		{"configured route", Point{Metric: Delivered, Value: 1, Route: "approvals"}, Point{Metric: Delivered, Value: 1, Route: "approvals"}, true},
		{"forged route", Point{Metric: Delivered, Value: 1, Route: "x-attacker-123"}, Point{Metric: Delivered, Value: 1, Route: UnknownRoute}, true},
		{"dimension the metric lacks", Point{Metric: Delivered, Value: 1, Route: "invoices", Class: ClassClientError}, Point{Metric: Delivered, Value: 1, Route: "invoices"}, true},
		{"class", Point{Metric: FailedAttempts, Value: 1, Route: "invoices", Class: ClassThrottled}, Point{Metric: FailedAttempts, Value: 1, Route: "invoices", Class: ClassThrottled}, true},
		{"unknown class", Point{Metric: FailedAttempts, Value: 1, Route: "invoices", Class: "418"}, Point{}, false},
		{"unknown reason", Point{Metric: Parked, Value: 1, Route: "invoices", Reason: "bored"}, Point{}, false},
		{"no reason", Point{Metric: Parked, Value: 1, Route: "invoices"}, Point{}, false},
		{"unknown metric", Point{Metric: "Bytes", Value: 1, Route: "invoices"}, Point{}, false},
		{"not a number", Point{Metric: DeliveryLatency, Value: math.NaN(), Route: "invoices"}, Point{}, false},
	} {
		_, got, ok := clean(routes, tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%s: clean(%+v) = %+v, %v; want %+v, %v", tc.name, tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for _, r := range webhook.Reasons {
		if _, _, ok := clean(routes, Point{Metric: Parked, Value: 1, Route: "approvals", Reason: r.Reason}); !ok {
			t.Errorf("reason %s refused", r.Reason)
		}
	}
}

// docs/operations.md documents every metric and class as the tables define
// them, and nothing else (its reason table is checked by cmd/redrive's test).
func TestDocumented(t *testing.T) {
	raw, err := os.ReadFile("../../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start := strings.Index(doc, "\n## Metrics\n")
	if start < 0 {
		t.Fatal("docs/operations.md has no Metrics section")
	}
	section := doc[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	// rows[header][name] are the cells after the name, per table, by the
	// table's first header cell (metric, class, reason).
	rows := map[string]map[string][]string{}
	header := ""
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		if !strings.HasPrefix(cells[0], "`") {
			if !strings.HasPrefix(cells[0], "---") {
				header = cells[0]
				rows[header] = map[string][]string{}
			}
			continue
		}
		rows[header][strings.Trim(cells[0], "`")] = cells[1:]
	}
	for _, m := range Table {
		row, ok := rows["metric"][string(m.Name)]
		if !ok || len(row) != 4 {
			t.Errorf("%s: no row of five cells", m.Name)
			continue
		}
		var sets []string
		for _, set := range m.DimensionSets {
			var names []string
			for _, d := range set {
				names = append(names, string(d))
			}
			sets = append(sets, strings.Join(names, ", "))
		}
		source := string(m.Source)
		if m.Source == SourceTwin {
			source = "the twin"
		}
		if row[0] != string(m.Unit) || row[1] != strings.Join(sets, "; ") || row[2] != source || !strings.HasPrefix(row[3], m.Meaning) {
			t.Errorf("%s: row %q, want unit %s, dimensions %q, recorded by %s, meaning %q…", m.Name, row, m.Unit, strings.Join(sets, "; "), source, m.Meaning)
		}
		delete(rows["metric"], string(m.Name))
	}
	for _, c := range Classes {
		if row := rows["class"][string(c.Class)]; len(row) != 1 || row[0] != c.Meaning {
			t.Errorf("class %s: row %q, want %q", c.Class, row, c.Meaning)
		}
		delete(rows["class"], string(c.Class))
	}
	for header, names := range rows {
		for name := range names {
			t.Errorf("docs/operations.md documents %s %s, which its table does not have", header, name)
		}
	}
}
