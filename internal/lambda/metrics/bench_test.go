package metrics

import (
	"io"
	"testing"

	"github.com/webhookq/webhookq/internal/webhook"
)

// deliveredPoints are what forward records for one delivered webhook.
var deliveredPoints = []Point{
	{Metric: Delivered, Value: 1, Route: "approvals"},
	{Metric: Receives, Value: 1, Route: "approvals"},
	{Metric: DeliveryLatency, Value: 1234, Route: "approvals"},
	{Metric: Attempts, Value: 1, Route: "approvals"},
}

// BenchmarkEMF is the cost of one delivered webhook's EMF line (forward's
// share of a delivery), written to io.Discard.
func BenchmarkEMF(b *testing.B) {
	e, err := NewEMF(io.Discard, testConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Record(deliveredPoints...)
	}
}

// BenchmarkMemory is the same in the twin's memory, from parallel
// goroutines (the twin's forwarder runs groups concurrently).
func BenchmarkMemory(b *testing.B) {
	m, err := NewMemory(testConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Record(deliveredPoints...)
			m.Record(Point{Metric: Parked, Value: 1, Route: "invoices", Reason: webhook.ReasonExhausted})
		}
	})
}
