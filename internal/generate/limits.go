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
