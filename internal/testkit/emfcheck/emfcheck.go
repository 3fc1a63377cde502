// Package emfcheck reads CloudWatch Embedded Metric Format lines the way
// CloudWatch Logs does, checking each MUST of the specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
// and returns the metric data a line yields, so a test can assert both that
// a line is valid EMF and exactly what it publishes. It is written from the
// specification, not from internal/lambda/metrics, which it checks.
package emfcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Limits of the specification.
const (
	// maxEventBytes: an EMF document is bound by the CloudWatch Logs event
	// size; the specification's older, smaller figure is used.
	maxEventBytes     = 256 << 10
	maxDimensionKeys  = 30
	maxMetrics        = 100
	maxValues         = 100
	maxDimensionValue = 1024
	maxNamespace      = 255
)

// units are CloudWatch's standard units (MetricDatum.Unit).
var units = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent",
	"Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
	"Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
	"Terabits/Second", "Count/Second", "None"}

// Datum is one metric value a document publishes under one dimension set.
type Datum struct {
	Namespace  string
	Name       string
	Unit       string
	Dimensions map[string]string
	Values     []float64
	Timestamp  int64 // epoch milliseconds
}

// Key identifies the datum's metric: namespace, name and sorted dimensions.
func (d Datum) Key() string {
	keys := make([]string, 0, len(d.Dimensions))
	for k := range d.Dimensions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(d.Namespace + " " + d.Name)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + d.Dimensions[k])
	}
	return b.String()
}

// Parse checks one log line and returns the data it publishes: for every
// directive, every dimension set, every metric.
func Parse(line []byte) ([]Datum, error) {
	if len(line) > maxEventBytes {
		return nil, fmt.Errorf("%d bytes: more than a log event holds", len(line))
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var root map[string]json.RawMessage
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, errors.New("data after the JSON object")
	}
	rawMeta, ok := root["_aws"]
	if !ok {
		return nil, errors.New(`no "_aws" member`)
	}
	var meta struct {
		Timestamp         *json.Number      `json:"Timestamp"`
		CloudWatchMetrics []json.RawMessage `json:"CloudWatchMetrics"`
	}
	if err := strictDecode(rawMeta, &meta); err != nil {
		return nil, fmt.Errorf("_aws: %w", err)
	}
	if meta.Timestamp == nil {
		return nil, errors.New("_aws.Timestamp missing")
	}
	ts, err := meta.Timestamp.Int64()
	if err != nil || ts <= 0 {
		return nil, fmt.Errorf("_aws.Timestamp %s is not epoch milliseconds", meta.Timestamp)
	}
	if meta.CloudWatchMetrics == nil {
		return nil, errors.New("_aws.CloudWatchMetrics missing")
	}
	var data []Datum
	for i, raw := range meta.CloudWatchMetrics {
		d, err := directive(root, raw, ts)
		if err != nil {
			return nil, fmt.Errorf("_aws.CloudWatchMetrics[%d]: %w", i, err)
		}
		data = append(data, d...)
	}
	return data, nil
}

// ParseLines parses every non-empty line of out.
func ParseLines(out []byte) ([]Datum, error) {
	var data []Datum
	for n, line := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		d, err := Parse(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w: %s", n+1, err, line)
		}
		data = append(data, d...)
	}
	return data, nil
}

func directive(root map[string]json.RawMessage, raw json.RawMessage, ts int64) ([]Datum, error) {
	var d struct {
		Namespace  *string    `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []struct {
			Name              *string `json:"Name"`
			Unit              *string `json:"Unit"`
			StorageResolution *int    `json:"StorageResolution"`
		} `json:"Metrics"`
	}
	if err := strictDecode(raw, &d); err != nil {
		return nil, err
	}
	switch {
	case d.Namespace == nil || *d.Namespace == "" || len(*d.Namespace) > maxNamespace:
		return nil, errors.New("the Namespace is missing, empty or too long")
	case d.Dimensions == nil:
		return nil, errors.New("the Dimensions are missing")
	case d.Metrics == nil:
		return nil, errors.New("the Metrics are missing")
	case len(d.Metrics) > maxMetrics:
		return nil, fmt.Errorf("%d metrics, more than %d", len(d.Metrics), maxMetrics)
	}
	dimensionValue := map[string]string{}
	for _, set := range d.Dimensions {
		if len(set) > maxDimensionKeys {
			return nil, fmt.Errorf("a dimension set of %d keys, more than %d", len(set), maxDimensionKeys)
		}
		for _, key := range set {
			raw, ok := root[key]
			if !ok {
				return nil, fmt.Errorf("dimension %q has no root member", key)
			}
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, fmt.Errorf("dimension %q is not a string: %s", key, raw)
			}
			if v == "" || len(v) > maxDimensionValue {
				return nil, fmt.Errorf("dimension %q value is empty or longer than %d", key, maxDimensionValue)
			}
			dimensionValue[key] = v
		}
	}
	var out []Datum
	for _, m := range d.Metrics {
		if m.Name == nil || *m.Name == "" {
			return nil, errors.New("a metric without a Name")
		}
		unit := "None"
		if m.Unit != nil {
			if !slices.Contains(units, *m.Unit) {
				return nil, fmt.Errorf("metric %s: unit %q is not a CloudWatch unit", *m.Name, *m.Unit)
			}
			unit = *m.Unit
		}
		if r := m.StorageResolution; r != nil && *r != 1 && *r != 60 {
			return nil, fmt.Errorf("metric %s: StorageResolution %d is neither 1 nor 60", *m.Name, *r)
		}
		values, err := metricValues(root, *m.Name)
		if err != nil {
			return nil, err
		}
		sets := d.Dimensions
		if len(sets) == 0 {
			sets = [][]string{{}}
		}
		for _, set := range sets {
			dims := map[string]string{}
			for _, k := range set {
				dims[k] = dimensionValue[k]
			}
			out = append(out, Datum{Namespace: *d.Namespace, Name: *m.Name, Unit: unit, Dimensions: dims, Values: values, Timestamp: ts})
		}
	}
	return out, nil
}

// metricValues reads a metric's target member: a number or an array of at
// most maxValues numbers.
func metricValues(root map[string]json.RawMessage, name string) ([]float64, error) {
	raw, ok := root[name]
	if !ok {
		return nil, fmt.Errorf("metric %q has no root member", name)
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return []float64{one}, nil
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 {
		return nil, fmt.Errorf("metric %q is neither a number nor an array of numbers: %s", name, raw)
	}
	if len(many) > maxValues {
		return nil, fmt.Errorf("metric %q has %d values, more than %d", name, len(many), maxValues)
	}
	return many, nil
}

// strictDecode decodes an object, refusing members the specification does
// not define ("objects defined by this specification MUST NOT contain any
// additional members").
func strictDecode(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
