package metrics

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/testkit/emfcheck"
	"github.com/webhookq/webhookq/internal/webhook"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestEMF(t *testing.T) (*EMF, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	e, err := NewEMF(&buf, testConfig(), func() time.Time { return fixedNow })
	if err != nil {
		t.Fatal(err)
	}
	return e, &buf
}

// datum finds the datum of metric name under exactly the dimensions dims.
func datum(t *testing.T, data []emfcheck.Datum, name string, dims map[string]string) emfcheck.Datum {
	t.Helper()
	want := emfcheck.Datum{Namespace: "webhookq/sales", Name: name, Dimensions: dims}.Key()
	for _, d := range data {
		if d.Key() == want {
			return d
		}
	}
	var keys []string
	for _, d := range data {
		keys = append(keys, d.Key())
	}
	t.Fatalf("no datum %s among\n%s", want, strings.Join(keys, "\n"))
	return emfcheck.Datum{}
}

func TestEMFDelivered(t *testing.T) {
	e, buf := newTestEMF(t)
	e.Record(
		Point{Metric: Delivered, Value: 1, Route: "approvals"},
		Point{Metric: DeliveryLatency, Value: 1530, Route: "approvals"},
		Point{Metric: Attempts, Value: 2, Route: "approvals"},
		Point{Metric: Receives, Value: 1, Route: "approvals"},
	)
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != 1 {
		t.Fatalf("%d lines for one route's points, want 1:\n%s", n, buf)
	}
	data, err := emfcheck.ParseLines(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	route := map[string]string{"Route": "approvals"}
	for name, want := range map[string]float64{"Delivered": 1, "DeliveryLatency": 1530, "Attempts": 2, "Receives": 1} {
		d := datum(t, data, name, route)
		if !slices.Equal(d.Values, []float64{want}) || d.Timestamp != fixedNow.UnixMilli() {
			t.Errorf("%s: values %v at %d, want [%v] at %d", name, d.Values, d.Timestamp, want, fixedNow.UnixMilli())
		}
	}
	if d := datum(t, data, "DeliveryLatency", route); d.Unit != "Milliseconds" {
		t.Errorf("DeliveryLatency unit %s", d.Unit)
	}
	if len(data) != 4 {
		t.Errorf("%d data, want 4 (no roll-ups for these)", len(data))
	}
}

// Each failure class is published under the route and its class; points
// of one metric with different classes cannot share a line.
func TestEMFFailureClasses(t *testing.T) {
	e, buf := newTestEMF(t)
	var points []Point
	for _, c := range Classes {
		points = append(points, Point{Metric: FailedAttempts, Value: 1, Route: "invoices", Class: c.Class})
	}
	e.Record(points...)
	data, err := emfcheck.ParseLines(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != len(Classes) {
		t.Errorf("%d data for %d classes", len(data), len(Classes))
	}
	for _, c := range Classes {
		d := datum(t, data, "FailedAttempts", map[string]string{"Route": "invoices", "Class": string(c.Class)})
		if !slices.Equal(d.Values, []float64{1}) || d.Unit != "Count" {
			t.Errorf("class %s: %v %s", c.Class, d.Values, d.Unit)
		}
	}
}

// Each park reason is published per route and rolled up over the routes.
func TestEMFParkReasons(t *testing.T) {
	for _, r := range webhook.Reasons {
		e, buf := newTestEMF(t)
		e.Record(Point{Metric: Parked, Value: 1, Route: "approvals", Reason: r.Reason})
		data, err := emfcheck.ParseLines(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for _, dims := range []map[string]string{{"Route": "approvals", "Reason": string(r.Reason)}, {"Reason": string(r.Reason)}} {
			if d := datum(t, data, "Parked", dims); !slices.Equal(d.Values, []float64{1}) {
				t.Errorf("reason %s %v: %v", r.Reason, dims, d.Values)
			}
		}
	}
}

// A forged route name never becomes a dimension value; invalid points are
// dropped without taking the valid ones with them.
func TestEMFBoundsAndDrops(t *testing.T) {
	e, buf := newTestEMF(t)
	e.Record(
		Point{Metric: Parked, Value: 1, Route: strings.Repeat("x", 5000), Reason: webhook.ReasonMalformed},
		Point{Metric: FailedAttempts, Value: 1, Route: "approvals", Class: "teapot"},
		Point{Metric: Delivered, Value: 1, Route: "approvals"},
	)
	data, err := emfcheck.ParseLines(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	datum(t, data, "Parked", map[string]string{"Route": UnknownRoute, "Reason": "malformed"})
	datum(t, data, "Delivered", map[string]string{"Route": "approvals"})
	if len(data) != 3 {
		t.Errorf("%d data, want Parked twice and Delivered", len(data))
	}
	buf.Reset()
	e.Record(Point{Metric: "Nope", Value: 1, Route: "approvals"})
	if buf.Len() != 0 {
		t.Errorf("an invalid point alone wrote %q", buf)
	}
}

// Two points of one metric and route go on two lines (a line holds a member
// once), and are both counted.
func TestEMFSameMetricTwice(t *testing.T) {
	e, buf := newTestEMF(t)
	e.Record(Point{Metric: TargetResponseTime, Value: 10, Route: "approvals"}, Point{Metric: TargetResponseTime, Value: 20, Route: "approvals"})
	data, err := emfcheck.ParseLines(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 2 || data[0].Values[0] != 10 || data[1].Values[0] != 20 {
		t.Errorf("data %+v", data)
	}
}
