package forwarder_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/testkit/emfcheck"
	"github.com/webhookq/webhookq/internal/webhook"
)

// What the forwarder publishes for each way a record ends, read back from
// its EMF lines as CloudWatch would: a delivered webhook's count, receive,
// latency from ingress and attempts; a parked one's count under its route
// and reason, and the reason's all-routes roll-up; nothing for a record that
// comes back to be tried again.
func TestRecordMetrics(t *testing.T) {
	const progress = "approval-progress"
	sent := time.UnixMilli(1795856400000) // record()'s SentTimestamp, the received-at fallback
	now := sent.Add(90 * time.Second)
	tests := []struct {
		name   string
		rec    events.SQSMessage
		result result
		want   []string // "Name{dims}=value", sorted
	}{
		{
			name:   "delivered on its second receive, at the third attempt",
			rec:    record("1", "g1", progress, 2, `{}`),
			result: result{status: sfntypes.SyncExecutionStatusSucceeded, output: `{"status":200,"attempt":3,"latencyMs":12}`},
			want: []string{
				"Attempts{Route=approval-progress}=3",
				"Delivered{Route=approval-progress}=1",
				"DeliveryLatency{Route=approval-progress}=90000",
				"Receives{Route=approval-progress}=2",
			},
		},
		{
			name:   "retryable failure inside the retry window comes back: nothing yet",
			rec:    record("1", "g1", progress, 1, `{}`),
			result: result{status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrRetryable, cause: "attempt 3/3: 503"},
		},
		{
			name:   "exhausted: its final execution failed",
			rec:    old(record("1", "g1", progress, 5, `{}`)),
			result: result{status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrRetryable, cause: "attempt 3/3: 503"},
			want:   parkedPoints(progress, webhook.ReasonExhausted),
		},
		{
			name:   "its final execution timed out",
			rec:    old(record("1", "g1", progress, 5, `{}`)),
			result: result{status: sfntypes.SyncExecutionStatusTimedOut},
			want:   parkedPoints(progress, webhook.ReasonExhausted),
		},
		{
			name:   "receive limit: a retryable failure on the last receive SQS allows, inside the window",
			rec:    record("1", "g1", progress, config.ComputeFinality(testConfig()).MaxReceiveCount, `{}`),
			result: result{status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrRetryable, cause: "attempt 3/3: 503"},
			want:   parkedPoints(progress, webhook.ReasonReceiveLimit),
		},
		{
			name:   "permanent at the first receive",
			rec:    record("1", "g1", progress, 1, `{}`),
			result: result{status: sfntypes.SyncExecutionStatusFailed, err: webhook.ErrPermanent, cause: "attempt 1/3: 404"},
			want:   parkedPoints(progress, webhook.ReasonPermanent),
		},
		{
			name: "malformed: a forged route name is not a dimension value",
			rec:  record("1", "g1", "x-"+strings.Repeat("forged", 50), 1, `{}`),
			want: parkedPoints(metrics.UnknownRoute, webhook.ReasonMalformed),
		},
		{
			name: "malformed: no route attribute",
			rec:  record("1", "g1", "", 1, `{}`),
			want: parkedPoints(metrics.UnknownRoute, webhook.ReasonMalformed),
		},
		{
			name: "too large",
			rec:  record("1", "g1", progress, 1, strings.Repeat("x", config.StatePayloadMax)),
			want: parkedPoints(progress, webhook.ReasonTooLarge),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			emf, err := metrics.NewEMF(&out, testConfig(), func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, map[string]result{"wh-1": tc.result}, func(c *forwarder.Config) {
				c.DLQURL, c.Metrics, c.Now = testDLQ, emf, func() time.Time { return now }
			})
			if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{tc.rec}}); err != nil {
				t.Fatal(err)
			}
			data, err := emfcheck.ParseLines(out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range data {
				if d.Namespace != "webhookq/sales-approvals" || d.Timestamp != now.UnixMilli() || len(d.Values) != 1 {
					t.Errorf("datum %+v", d)
				}
			}
			if got := points(data); !slices.Equal(got, tc.want) {
				t.Errorf("published\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// points writes EMF data as "Name{Route=…,Reason=…}=value", sorted.
func points(data []emfcheck.Datum) []string {
	var got []string
	for _, d := range data {
		var dims []string
		for _, k := range []string{"Route", "Reason"} {
			if v, ok := d.Dimensions[k]; ok {
				dims = append(dims, k+"="+v)
			}
		}
		got = append(got, fmt.Sprintf("%s{%s}=%v", d.Name, strings.Join(dims, ","), d.Values[0]))
	}
	sort.Strings(got)
	return got
}

func parkedPoints(route string, reason webhook.Reason) []string {
	return []string{
		fmt.Sprintf("Parked{Reason=%s}=1", reason),
		fmt.Sprintf("Parked{Route=%s,Reason=%s}=1", route, reason),
	}
}
