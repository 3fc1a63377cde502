package generate

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/webhookq/webhookq/internal/config"
)

// writeLimits renders the size limits derived from the workflows
// (asl.Limits): each route's largest body and execution input, and which of
// the workflow's data binds.
func (s Summary) writeLimits(b *strings.Builder) {
	fmt.Fprintf(b, "\nSize limits (Step Functions carries at most %d bytes of state data)\n", config.StatePayloadMax)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tLARGEST BODY\tLARGEST INPUT\tBINDS AT")
	for _, r := range s.Routes {
		body := fmt.Sprintf("%d B", r.Limits.MaxBody)
		if r.Limits.MaxBody < r.Limits.DerivedMaxBody {
			body += " (ingress.max_body_bytes)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d B\t%s\n", r.Name, body, r.Limits.MaxInput, r.Limits.Binding)
	}
	tw.Flush()
	fmt.Fprintln(b, "  (a larger body is parked at once with reason too_large; the local twin answers 413)")

	fmt.Fprintf(b, "\nLambda concurrency: up to %d deliver or notify invocations at once (queue.max_concurrency × batch_size);\n"+
		"  give deliver that much reserved concurrency, or throttled invocations wait (docs/operations.md)\n",
		s.ParallelInvocations)
}

// writeIngressCeiling says how many webhooks a second ingress takes at most,
// and which quota sets it: the routes' throttles together, API Gateway's
// account quota in the region, or the queue's SendMessage quota (one call per
// webhook; per region in high-throughput mode).
func (s Summary) writeIngressCeiling(b *strings.Builder) {
	total := totalRate(s.Routes)
	account := config.AccountThrottle(s.Region).Rate
	queue := float64(s.QueueSendQuota)
	mode := fmt.Sprintf("in FIFO high-throughput mode in %s (%d/s per message group)", s.Region, config.FIFOSendQuota)
	optOut := "lower the rates"
	if !s.HighThroughput {
		mode = "without high-throughput mode (queue.high_throughput: false)"
		optOut = "lower the rates or drop high_throughput: false"
	}
	if total > queue {
		fmt.Fprintf(b, "  routes total %s requests/s, above the %s SendMessage/s the queue takes %s:\n"+
			"  past it SQS refuses webhooks and ingress answers them with an error, not 429; %s\n", formatFloat(total), formatFloat(queue), mode, optOut)
	} else {
		fmt.Fprintf(b, "  routes total %s requests/s, within the %s SendMessage/s the queue takes %s\n", formatFloat(total), formatFloat(queue), mode)
	}
	ceiling, by := total, "the routes' throttles"
	if account < ceiling {
		ceiling, by = account, "API Gateway's account quota in "+s.Region+", shared with every API there"
	}
	if queue < ceiling {
		ceiling, by = queue, "the queue's SendMessage quota"
	}
	fmt.Fprintf(b, "  ingress ceiling: %s webhooks/s, set by %s\n", formatFloat(ceiling), by)
}
