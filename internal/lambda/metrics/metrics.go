// Package metrics is webhookq's one table of metrics — name, unit,
// dimensions, who records it and what it means — and the two places they go:
// CloudWatch Embedded Metric Format lines on AWS (EMF: a JSON log line that
// CloudWatch Logs turns into metrics, no API call and no client library) and
// the local twin's in-memory counts (Memory), which feed its charts and its
// Prometheus /metrics. The docs, the dashboard, the alarms and the tests read
// the same Table, Classes and webhook.Reasons.
//
// Cardinality is bounded by construction: a point's only dimensions are its
// route, which must be a configured route (anything else is recorded as
// UnknownRoute), and a failure class or park reason from their tables —
// never a message group, a webhook id or a URL.
package metrics

import (
	"math"
	"slices"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Name names a metric, in CloudWatch's spelling.
type Name string

// The metrics; Table says what each means.
const (
	Delivered          Name = "Delivered"
	DeliveryLatency    Name = "DeliveryLatency"
	Attempts           Name = "Attempts"
	Receives           Name = "Receives"
	FailedAttempts     Name = "FailedAttempts"
	TargetResponseTime Name = "TargetResponseTime"
	Parked             Name = "Parked"
	Backlog            Name = "Backlog"
	BacklogAge         Name = "BacklogAge"
	Running            Name = "RunningExecutions"
	DLQDepth           Name = "DLQDepth"
)

// Unit is a CloudWatch metric unit.
type Unit string

// The units the table uses (CloudWatch's standard unit names).
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	Seconds      Unit = "Seconds"
)

// Dimension names a dimension, in CloudWatch's spelling.
type Dimension string

// The dimensions. There are no others: see the package comment.
const (
	DimRoute  Dimension = "Route"
	DimClass  Dimension = "Class"
	DimReason Dimension = "Reason"
)

// Kind says how a metric's values combine.
type Kind int

const (
	// Counter: every value adds to a running total (Sum in CloudWatch).
	Counter Kind = iota + 1
	// Distribution: every value is one observation (percentiles in
	// CloudWatch, a histogram in Prometheus).
	Distribution
	// Gauge: the latest value is the state (the twin samples it; on AWS the
	// service named by Metric.OnAWS publishes it).
	Gauge
)

// Source is what records a metric.
type Source string

const (
	// SourceForward and SourceDeliver are the Lambdas (EMF on AWS, Memory in
	// the twin, where the same cores run).
	SourceForward Source = "forward"
	SourceDeliver Source = "deliver"
	// SourceTwin: only the twin records it, from its own queues and runner;
	// on AWS the service itself publishes the equivalent (Metric.OnAWS).
	SourceTwin Source = "twin"
)

// Metric describes one metric.
type Metric struct {
	Name Name
	Unit Unit
	Kind Kind
	// DimensionSets are the dimension combinations the metric is published
	// under. Every point carries the values of the first (the full set);
	// each further set is a roll-up CloudWatch aggregates too, so an alarm
	// can watch all routes at once.
	DimensionSets [][]Dimension
	Source        Source
	Meaning       string
	// OnAWS names what stands for a twin-only metric on AWS.
	OnAWS string
	// Buckets are the upper bounds of a Distribution's Prometheus histogram.
	Buckets []float64
}

// Key is the metric's name in snake case ("delivery_latency"), how the
// Terraform locals and Prometheus spell it.
func (m Metric) Key() string { return snake(string(m.Name)) }

// Dimensions is the full dimension set every point of the metric carries.
func (m Metric) Dimensions() []Dimension { return m.DimensionSets[0] }

// latencyBuckets span a fast target's answer (ms) to a webhook that waited
// out a day-long outage; attemptBuckets span retry.max_attempts (at most 10).
var (
	latencyBuckets = []float64{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
		300000, 900000, 3600000, 14400000, 86400000}
	attemptBuckets = []float64{1, 2, 3, 4, 5, 6, 8, 10, 15, 20}
)

// Table is every metric webhookq records, in documentation order.
var Table = []Metric{
	{Name: Delivered, Unit: Count, Kind: Counter, DimensionSets: [][]Dimension{{DimRoute}}, Source: SourceForward,
		Meaning: "webhooks delivered: their execution succeeded"},
	{Name: DeliveryLatency, Unit: Milliseconds, Kind: Distribution, DimensionSets: [][]Dimension{{DimRoute}}, Source: SourceForward,
		Meaning: "from ingress (the webhook's received-at) to its delivery, per delivered webhook", Buckets: latencyBuckets},
	{Name: Attempts, Unit: Count, Kind: Distribution, DimensionSets: [][]Dimension{{DimRoute}}, Source: SourceForward,
		Meaning: "delivery attempts the delivering execution made, per delivered webhook (1: the first try)", Buckets: attemptBuckets},
	{Name: Receives, Unit: Count, Kind: Distribution, DimensionSets: [][]Dimension{{DimRoute}}, Source: SourceForward,
		Meaning: "the SQS receive that delivered it, per delivered webhook (above 1: earlier executions failed)", Buckets: attemptBuckets},
	{Name: FailedAttempts, Unit: Count, Kind: Counter, DimensionSets: [][]Dimension{{DimRoute, DimClass}}, Source: SourceDeliver,
		Meaning: "delivery attempts that failed, by class"},
	{Name: TargetResponseTime, Unit: Milliseconds, Kind: Distribution, DimensionSets: [][]Dimension{{DimRoute}}, Source: SourceDeliver,
		Meaning: "how long the target took to answer an attempt, whatever it answered", Buckets: latencyBuckets},
	{Name: Parked, Unit: Count, Kind: Counter, DimensionSets: [][]Dimension{{DimRoute, DimReason}, {DimReason}}, Source: SourceForward,
		Meaning: "webhooks the forwarder parked in the DLQ, by reason; the Reason-only roll-up counts all routes"},
	{Name: Backlog, Unit: Count, Kind: Gauge, DimensionSets: [][]Dimension{{DimRoute}}, Source: SourceTwin,
		Meaning: "webhooks in the queue, not yet delivered or parked: waiting, in flight or backing off", OnAWS: "AWS/SQS ApproximateNumberOfMessagesVisible + ApproximateNumberOfMessagesNotVisible + ApproximateNumberOfMessagesDelayed (per queue, not per route)"},
	{Name: BacklogAge, Unit: Seconds, Kind: Gauge, DimensionSets: [][]Dimension{{DimRoute}}, Source: SourceTwin,
		Meaning: "how long the oldest waiting webhook has waited", OnAWS: "AWS/SQS ApproximateAgeOfOldestMessage (per queue)"},
	{Name: Running, Unit: Count, Kind: Gauge, DimensionSets: [][]Dimension{{DimRoute}}, Source: SourceTwin,
		Meaning: "workflow executions running now", OnAWS: "AWS/States ExecutionsStarted minus the finished ones"},
	{Name: DLQDepth, Unit: Count, Kind: Gauge, DimensionSets: [][]Dimension{{DimRoute}}, Source: SourceTwin,
		Meaning: "webhooks parked in the DLQ", OnAWS: "AWS/SQS ApproximateNumberOfMessagesVisible on the DLQ (per queue)"},
}

// Lookup returns the metric named n.
func Lookup(n Name) (Metric, bool) {
	i := slices.IndexFunc(Table, func(m Metric) bool { return m.Name == n })
	if i < 0 {
		return Metric{}, false
	}
	return Table[i], true
}

// Class is the class of a failed delivery attempt (the Class dimension).
type Class string

// The failure classes; Classes says what each means.
const (
	ClassRedirect    Class = "3xx"
	ClassClientError Class = "4xx"
	ClassThrottled   Class = "429"
	ClassServerError Class = "5xx"
	ClassTimeout     Class = "timeout"
	ClassConnection  Class = "connection"
	ClassSignature   Class = "signature"
	ClassNotSent     Class = "not_sent"
)

// Classes lists every failure class with its meaning, in documentation order.
var Classes = []struct {
	Class   Class
	Meaning string
}{
	{ClassClientError, "the target answered 4xx other than 408 and 429"},
	{ClassThrottled, "the target answered 429 Too Many Requests"},
	{ClassServerError, "the target answered 5xx"},
	{ClassTimeout, "no answer within the attempt's timeout, or 408 Request Timeout"},
	{ClassConnection, "no connection: refused, reset, DNS, TLS"},
	{ClassRedirect, "the target answered a redirect, which is not followed"},
	{ClassSignature, "the webhook's inbound signature did not verify"},
	{ClassNotSent, "the request was not sent: a secret could not be read, or the webhook or target URL is invalid"},
}

// ClassOf is the class of a failed exchange with the target's retry-policy
// outcome; ok is false for an empty outcome.
func ClassOf(o config.Outcome) (Class, bool) {
	switch o {
	case config.OutcomeServerError:
		return ClassServerError, true
	case config.OutcomeThrottled:
		return ClassThrottled, true
	case config.OutcomeTimeout:
		return ClassTimeout, true
	case config.OutcomeConnection:
		return ClassConnection, true
	}
	return "", false
}

// UnknownRoute stands for a route name that is not configured (a forged or
// stale webhook-route attribute): it cannot be a route's name, and an
// attacker cannot mint a new time series per request.
const UnknownRoute = "(unknown)"

// Point is one value of one metric with its dimension values. Only the
// dimensions the metric has are read.
type Point struct {
	Metric Name
	Value  float64
	Route  string
	Class  Class
	Reason webhook.Reason
}

// Recorder takes points. Recording never fails the work it measures:
// an invalid point is dropped (see Clean).
type Recorder interface {
	Record(points ...Point)
}

// Discard is a Recorder that records nothing.
var Discard Recorder = discard{}

type discard struct{}

func (discard) Record(...Point) {}

// dimensionValue is p's value for dimension d.
func (p Point) dimensionValue(d Dimension) string {
	switch d {
	case DimRoute:
		return p.Route
	case DimClass:
		return string(p.Class)
	case DimReason:
		return string(p.Reason)
	}
	return ""
}

// clean checks a point against the table and bounds its dimensions: an
// unconfigured route becomes UnknownRoute, the dimensions the metric lacks
// are cleared. ok is false for an unknown metric, class or reason, or a
// value CloudWatch would reject.
func clean(routes []string, p Point) (Metric, Point, bool) {
	m, ok := Lookup(p.Metric)
	if !ok || math.IsNaN(p.Value) || math.Abs(p.Value) > maxValue {
		return Metric{}, p, false
	}
	out := Point{Metric: p.Metric, Value: p.Value}
	for _, d := range m.Dimensions() {
		switch d {
		case DimRoute:
			out.Route = p.Route
			if !slices.Contains(routes, p.Route) {
				out.Route = UnknownRoute
			}
		case DimClass:
			if !validClass(p.Class) {
				return Metric{}, p, false
			}
			out.Class = p.Class
		case DimReason:
			if _, ok := webhook.ParseReason(string(p.Reason)); !ok {
				return Metric{}, p, false
			}
			out.Reason = p.Reason
		}
	}
	return m, out, true
}

func validClass(c Class) bool {
	for _, x := range Classes {
		if x.Class == c {
			return true
		}
	}
	return false
}

// maxValue is the largest magnitude CloudWatch accepts; NaN and the
// infinities it rejects too (MetricDatum.Value,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html).
var maxValue = math.Ldexp(1, 360)

// routeNames are cfg's route names, the only Route values recorded as given.
func routeNames(cfg *config.Config) []string {
	names := make([]string, len(cfg.Routes))
	for i, r := range cfg.Routes {
		names[i] = r.Name
	}
	return names
}

// Namespace is the service's CloudWatch namespace for its metrics.
func Namespace(cfg *config.Config) string { return "webhookq/" + cfg.Service }
