package metrics

import (
	"bytes"
	"math"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/webhookq/webhookq/internal/testkit/testclock"
	"github.com/webhookq/webhookq/internal/webhook"
)

func newTestMemory(t *testing.T) (*Memory, *testclock.Clock) {
	t.Helper()
	clock := testclock.New(fixedNow)
	m, err := NewMemory(testConfig(), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return m, clock
}

func TestMemoryTotalsAndHistory(t *testing.T) {
	m, clock := newTestMemory(t)
	m.Record(Point{Metric: Delivered, Value: 1, Route: "approvals"}, Point{Metric: Delivered, Value: 1, Route: "approvals"})
	m.Record(Point{Metric: FailedAttempts, Value: 1, Route: "approvals", Class: ClassServerError},
		Point{Metric: FailedAttempts, Value: 1, Route: "approvals", Class: ClassTimeout})
	m.Record(Point{Metric: Backlog, Value: 7, Route: "approvals"})
	clock.Advance(3 * HistoryStep)
	m.Record(Point{Metric: Delivered, Value: 1, Route: "approvals"}, Point{Metric: Backlog, Value: 2, Route: "approvals"})

	if got := m.Total(Delivered, "approvals"); got != 3 {
		t.Errorf("delivered total %v, want 3", got)
	}
	if got := m.Total(FailedAttempts, "approvals"); got != 2 {
		t.Errorf("failed total over classes %v, want 2", got)
	}
	if got := m.Total(Backlog, "approvals"); got != 2 {
		t.Errorf("backlog gauge %v, want the latest, 2", got)
	}
	h := m.History(Delivered, "approvals")
	if len(h) != HistorySteps || h[HistorySteps-1] != 1 || h[HistorySteps-4] != 2 || h[HistorySteps-2] != 0 {
		t.Errorf("delivered history ends %v", h[HistorySteps-5:])
	}
	b := m.History(Backlog, "approvals")
	if got := b[HistorySteps-4:]; got[0] != 7 || got[1] != 7 || got[2] != 7 || got[3] != 2 {
		t.Errorf("backlog history ends %v, want 7 carried over then 2", got)
	}
	clock.Advance(HistorySteps * HistoryStep)
	for _, v := range m.History(Delivered, "approvals") {
		if v != 0 {
			t.Fatalf("history older than the window is kept: %v", m.History(Delivered, "approvals"))
		}
	}
	if got := m.Total(Delivered, "approvals"); got != 3 {
		t.Errorf("the total forgets with the history: %v", got)
	}
}

// /metrics is read by a real Prometheus text-format parser: every family
// the table defines parses with its type, labels and values.
func TestPrometheusParses(t *testing.T) {
	m, _ := newTestMemory(t)
	m.Record(
		Point{Metric: Delivered, Value: 1, Route: "approvals"},
		Point{Metric: DeliveryLatency, Value: 40, Route: "approvals"},
		Point{Metric: DeliveryLatency, Value: 4000, Route: "approvals"},
		Point{Metric: Attempts, Value: 2, Route: "approvals"},
		Point{Metric: Receives, Value: 1, Route: "approvals"},
		Point{Metric: FailedAttempts, Value: 1, Route: "invoices", Class: ClassThrottled},
		Point{Metric: TargetResponseTime, Value: 12, Route: "invoices"},
		Point{Metric: Parked, Value: 1, Route: "invoices", Reason: webhook.ReasonPermanent},
		Point{Metric: Parked, Value: 1, Route: `forged"\` + "\n", Reason: webhook.ReasonMalformed},
		Point{Metric: BacklogAge, Value: 12.5, Route: "invoices"},
	)
	var buf bytes.Buffer
	if err := m.WritePrometheus(&buf); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("not Prometheus text format: %v\n%s", err, buf.String())
	}
	for _, mt := range Table {
		f := families[PrometheusName(mt)]
		if f == nil {
			t.Errorf("%s: no family %s", mt.Name, PrometheusName(mt))
			continue
		}
		want := map[Kind]dto.MetricType{Counter: dto.MetricType_COUNTER, Gauge: dto.MetricType_GAUGE, Distribution: dto.MetricType_HISTOGRAM}[mt.Kind]
		if f.GetType() != want || f.GetHelp() != mt.Meaning {
			t.Errorf("%s: type %v help %q", mt.Name, f.GetType(), f.GetHelp())
		}
	}
	value := func(name string, labels map[string]string) *dto.Metric {
		t.Helper()
		for _, x := range families[name].GetMetric() {
			got := map[string]string{}
			for _, l := range x.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if len(got) == len(labels) && func() bool {
				for k, v := range labels {
					if got[k] != v {
						return false
					}
				}
				return true
			}() {
				return x
			}
		}
		t.Fatalf("%s%v not found in\n%s", name, labels, buf.String())
		return nil
	}
	if v := value("webhookq_delivered_total", map[string]string{"route": "approvals"}).GetCounter().GetValue(); v != 1 {
		t.Errorf("delivered %v", v)
	}
	if v := value("webhookq_delivered_total", map[string]string{"route": "invoices"}).GetCounter().GetValue(); v != 0 {
		t.Errorf("a route's counter starts at zero, got %v", v)
	}
	if v := value("webhookq_failed_attempts_total", map[string]string{"route": "invoices", "class": "429"}).GetCounter().GetValue(); v != 1 {
		t.Errorf("failed 429 %v", v)
	}
	if v := value("webhookq_parked_total", map[string]string{"route": UnknownRoute, "reason": "malformed"}).GetCounter().GetValue(); v != 1 {
		t.Errorf("parked forged %v", v)
	}
	h := value("webhookq_delivery_latency_milliseconds", map[string]string{"route": "approvals"}).GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() != 4040 {
		t.Errorf("latency histogram count %d sum %v", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.GetBucket() {
		want := uint64(0)
		switch {
		case b.GetUpperBound() >= 4000:
			want = 2
		case b.GetUpperBound() >= 40:
			want = 1
		}
		if b.GetCumulativeCount() != want && !math.IsInf(b.GetUpperBound(), 1) {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if v := value("webhookq_backlog_age_seconds", map[string]string{"route": "invoices"}).GetGauge().GetValue(); v != 12.5 {
		t.Errorf("backlog age %v", v)
	}
	if !strings.Contains(buf.String(), "# TYPE webhookq_attempts histogram") {
		t.Errorf("attempts is not a histogram:\n%s", buf.String())
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{"Delivered": "delivered", "DLQDepth": "dlq_depth", "RunningExecutions": "running_executions", "Route": "route"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%s) = %s, want %s", in, got, want)
		}
	}
}
