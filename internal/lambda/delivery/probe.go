package delivery

import (
	"context"
	"net/http"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/probe"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Probes is what deliver needs to answer post-deploy probes
// (internal/lambda/probe): the probe key and KMS to check MACs with, and the
// network to probe the target's reachability on.
type Probes struct {
	// Key is the probe key's ARN (webhook.EnvProbeKey); empty refuses every
	// probe as unverifiable.
	Key string
	// MACs checks a probe's MAC (the kms client; the role may only
	// kms:VerifyMac the probe key).
	MACs probe.MacChecker
	// Network reaches the target; the zero value is the system's, with the
	// delivery client's TLS roots.
	Network probe.Network
}

// answerProbe answers a body that poses as a probe instead of delivering it.
// An authentic probe for this route, in time, gets the target's
// reachability; one that expired or belongs to another route is answered
// without it; one whose MAC does not verify, or cannot be checked, is a
// permanent failure: never delivered, never retried. Every outcome is one
// log line carrying the probe.Answer cmd/check looks for.
func (a attempt) answerProbe(ctx context.Context, p probe.Probe, malformed error) (webhook.DeliverResult, error) {
	start := time.Now()
	ans := probe.Answer{ID: webhook.Bound(p.ID, 64), Route: a.route.Name, Verdict: probe.Forged}
	why := malformed
	if why == nil {
		ans.Verdict, why = probe.Judge(ctx, a.d.probes.MACs, a.d.probes.Key, p, a.route.Name, a.d.now())
	}
	if why != nil {
		ans.Reason = webhook.Bound(why.Error(), 300)
	}
	if ans.Verdict == probe.Answered {
		// As long as a delivery attempt may take (and within the
		// function's own deadline).
		timeout := a.route.Timeout
		if timeout <= 0 {
			timeout = config.DefaultTargetTimeout
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		reach := probe.Check(rctx, a.route.TargetURL, a.network())
		cancel()
		ans.Reach = &reach
	}
	attrs := []any{"webhook_id", a.req.Webhook.WebhookID, "route", a.route.Name, probe.LogKey, ans}
	switch ans.Verdict {
	case probe.Answered, probe.Expired:
		a.d.log.Info("probe answered; nothing delivered", attrs...)
		return webhook.DeliverResult{Attempt: a.req.Attempt(), LatencyMS: time.Since(start).Milliseconds(), Probe: string(ans.Verdict)}, nil
	}
	a.d.log.Warn("a body posing as a webhookq probe was refused; nothing delivered", attrs...)
	return webhook.DeliverResult{}, a.permanent("a body posing as a webhookq probe was refused (%s: %s); it was not delivered", ans.Verdict, ans.Reason)
}

// network is the probes' network, with the delivery client's TLS roots
// unless one is set.
func (a attempt) network() probe.Network {
	n := a.d.probes.Network
	if n.TLS == nil {
		if tr, ok := a.d.client.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
			n.TLS = tr.TLSClientConfig
		}
	}
	return n
}
