package forwarder

import (
	"context"
	"log/slog"

	"github.com/webhookq/webhookq/internal/lambda/signature"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Verify first. Ingress is a public URL, so anyone can queue a webhook; the
// forwarder checks a record's inbound signature before anything runs for it.
// A record that does not verify (tampered, signed with another secret, no
// signature, a timestamp outside the tolerance) never starts an execution,
// so it is never delivered — a forgery cannot reach the application signed
// with webhookq's own outbound signature — and never notified: the workflow,
// which notifies, does not run. It is parked in the DLQ at once with reason
// signature and counted (metrics.Parked, Reason signature, by route), so a
// flood costs one verification and one SendMessage each and pages nobody per
// message, while a webhook refused because the route's secret was wrong stays
// there to be redriven once the secret is fixed (its receipt time travels
// with it, so a timestamped signature is judged at its receipt again).
//
// It is not announced either: the forwarder announces a park the workflow
// could not notify for (notify.go), but a refused signature is the one park
// where a notification per message is what an attacker would want.
//
// A secret that cannot be read says nothing about the webhook: the record did
// not run, so it comes back like any record that did not run (finality.go).

// errSecretUnavailable names a failure to read a route's verification secret
// in a parked message's failure record.
const errSecretUnavailable = "Forward.SecretUnavailable"

// verify checks p's inbound signature. refused is the verdict on a record
// that did not verify; err, a secret that could not be read; both nil, the
// record may run: it verified, or its route verifies nothing
// (verify: {scheme: none}).
func (f *Forwarder) verify(ctx context.Context, p parsed, attrs []slog.Attr) (refused *verdict, err error) {
	v := p.route.Verify
	if v == nil {
		return nil, nil
	}
	env := p.envelope
	received, ok := webhook.ParseReceivedAt(env.ReceivedAt)
	if !ok {
		received = f.now()
	}
	err = signature.VerifyRoute(ctx, f.secrets, *v, env.Headers, p.body, received)
	if err == nil {
		return nil, nil
	}
	attrs = append(attrs, slog.String("scheme", string(v.Scheme)), slog.String("error", webhook.Bound(err.Error(), maxLoggedCause)))
	if signature.IsSecretError(err) {
		f.log.LogAttrs(ctx, slog.LevelError, "cannot read the route's verification secret: the webhook did not run and comes back", attrs...)
		return nil, err
	}
	f.log.LogAttrs(ctx, slog.LevelWarn, "inbound signature refused: not run, not delivered, not notified; it is parked", attrs...)
	return &verdict{outcome: permanent, final: &webhook.Failure{Reason: webhook.ReasonSignature, Error: webhook.ErrPermanent,
		Cause: webhook.Bound("inbound signature ("+string(v.Scheme)+"): "+err.Error(), maxFailureCause)}}, nil
}
