package signature

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/secret"
)

// VerifyRoute judges with the cached secret, rereads it once when that
// fails and the copy is old enough, and tells an unreadable secret apart
// from a refused signature.
func TestVerifyRoute(t *testing.T) {
	t.Parallel()
	const body = `{"n":1}`
	v := config.Verify{Scheme: config.VerifyHMAC, Header: "X-Sig", Secret: config.SecretRef{Env: "SIG"}}
	headers := map[string]string{"X-Sig": hexMAC("new", body)}
	now := time.Unix(1_700_000_000, 0)
	env := map[string]string{"SIG": "old"}
	lookup := func(k string) (string, bool) { s, ok := env[k]; return s, ok }
	r := &secret.Resolver{LookupEnv: lookup, Now: func() time.Time { return now }}
	ctx := context.Background()

	if err := VerifyRoute(ctx, r, v, headers, []byte(body), now); err == nil || IsSecretError(err) {
		t.Fatalf("signed with another secret: %v, want refused", err)
	}
	env["SIG"] = "new" // rotated where the secret lives
	if err := VerifyRoute(ctx, r, v, headers, []byte(body), now); err == nil {
		t.Fatal("verified with a copy read just now: the reread must wait RereadAfter")
	}
	now = now.Add(RereadAfter)
	if err := VerifyRoute(ctx, r, v, headers, []byte(body), now); err != nil {
		t.Fatalf("after RereadAfter the new secret is read: %v", err)
	}
	if err := VerifyRoute(ctx, r, v, map[string]string{"X-Sig": hexMAC("forged", body)}, []byte(body), now); err == nil || IsSecretError(err) {
		t.Fatalf("forged: %v, want refused", err)
	}

	delete(env, "SIG")
	unread := &secret.Resolver{LookupEnv: lookup}
	err := VerifyRoute(ctx, unread, v, headers, []byte(body), now)
	var se *SecretError
	if !errors.As(err, &se) || !IsSecretError(err) {
		t.Fatalf("unreadable secret: %v, want a *SecretError", err)
	}
}
