package signature

import (
	"context"
	"errors"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// Secrets reads a route's verification secret (secret.Resolver): Resolve
// from its cache, Reread anew when the cached value is older than minAge.
type Secrets interface {
	Resolve(ctx context.Context, ref config.SecretRef) (string, error)
	Reread(ctx context.Context, ref config.SecretRef, minAge time.Duration) (value string, reread bool, err error)
}

// RereadAfter is how old a cached secret must be before a signature that
// does not verify with it has the secret read anew: a secret rotated or
// fixed in SSM or Secrets Manager is in use within this long, and a flood of
// forged webhooks costs at most one read per RereadAfter per process.
const RereadAfter = time.Minute

// SecretError is a verification secret that could not be read: the webhook
// was not judged, and may verify once the secret reads.
type SecretError struct{ Err error }

func (e *SecretError) Error() string { return "cannot read the verification secret: " + e.Err.Error() }
func (e *SecretError) Unwrap() error { return e.Err }

// VerifyRoute checks a webhook against its route's verification, judging a
// timestamp by received, when ingress accepted the webhook (so a webhook that
// waited in the queue or the DLQ still verifies). A signature that does not
// verify is checked once more with the secret reread when the cached one is
// older than RereadAfter. The error is a *SecretError when the secret cannot
// be read at all, else why the signature is refused.
func VerifyRoute(ctx context.Context, secrets Secrets, v config.Verify, headers map[string]string, body []byte, received time.Time) error {
	sec, err := secrets.Resolve(ctx, v.Secret)
	if err != nil {
		return &SecretError{Err: err}
	}
	in := Inbound{Scheme: v.Scheme, Secret: []byte(sec), Header: v.Header, Tolerance: v.Tolerance,
		Now: func() time.Time { return received }}
	refused := in.Verify(headers, body)
	if refused == nil {
		return nil
	}
	fresh, reread, err := secrets.Reread(ctx, v.Secret, RereadAfter)
	if err != nil || !reread || fresh == sec {
		// Judged with the secret at hand: a reread that failed cannot
		// vouch for the webhook.
		return refused
	}
	in.Secret = []byte(fresh)
	return in.Verify(headers, body)
}

// IsSecretError reports whether err is a verification secret that could not
// be read.
func IsSecretError(err error) bool {
	var se *SecretError
	return errors.As(err, &se)
}
