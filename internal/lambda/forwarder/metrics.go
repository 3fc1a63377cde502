package forwarder

import (
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/webhook"
)

// recordDelivered records a delivered webhook: Delivered, the receive that
// delivered it, its latency from ingress (when its received-at reads) and
// the attempts of the delivering execution, whose output is the Deliver
// state's webhook.DeliverResult.
func (f *Forwarder) recordDelivered(env webhook.Envelope, output string) {
	points := []metrics.Point{
		{Metric: metrics.Delivered, Value: 1, Route: env.Route},
		{Metric: metrics.Receives, Value: float64(env.ReceiveCount), Route: env.Route},
	}
	if at, ok := webhook.ParseReceivedAt(env.ReceivedAt); ok {
		// A received-at ahead of this clock (skew) counts as no wait.
		latency := max(f.now().Sub(at), 0)
		points = append(points, metrics.Point{Metric: metrics.DeliveryLatency, Value: float64(latency.Milliseconds()), Route: env.Route})
	}
	var res webhook.DeliverResult
	if json.Unmarshal([]byte(output), &res) == nil && res.Attempt > 0 {
		points = append(points, metrics.Point{Metric: metrics.Attempts, Value: float64(res.Attempt), Route: env.Route})
	}
	f.metrics.Record(points...)
}

// recordParked counts a record the forwarder parked, under its route
// attribute as it came (the recorder turns a route that is not configured
// into metrics.UnknownRoute) and the reason it was parked for.
func (f *Forwarder) recordParked(rec events.SQSMessage, reason webhook.Reason) {
	var route string
	if a, ok := rec.MessageAttributes[webhook.AttrRoute]; ok && a.StringValue != nil {
		route = *a.StringValue
	}
	f.metrics.Record(metrics.Point{Metric: metrics.Parked, Value: 1, Route: route, Reason: reason})
}
