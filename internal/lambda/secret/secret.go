// Package secret resolves config.SecretRef values at run time, from SSM
// Parameter Store, Secrets Manager or the environment, and caches each value
// for the life of the process (a Lambda container), so a warm invocation never
// calls AWS for a secret it already has. A caller that finds a cached value
// wrong (a signature that does not verify: the secret may have been rotated
// or fixed since) asks for it anew with Reread, at most once per interval.
//
// Errors name the reference, never the value.
package secret

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/webhookq/webhookq/internal/config"
)

// SSMClient is the part of the SSM client the resolver uses.
type SSMClient interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SecretsManagerClient is the part of the Secrets Manager client the resolver uses.
type SecretsManagerClient interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Resolver reads secrets and caches them. The zero value reads only from the
// environment; set the clients to read from AWS. Safe for concurrent use.
type Resolver struct {
	SSM            SSMClient
	SecretsManager SecretsManagerClient
	// LookupEnv reads an environment variable; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Now is the clock Reread measures a cached value's age by; nil means
	// time.Now.
	Now func() time.Time

	mu    sync.Mutex
	cache map[config.SecretRef]cached
	// reading holds the reads in progress: concurrent callers of one
	// reference (a batch's message groups on a cold start) share one read.
	reading map[config.SecretRef]*read
}

// read is a read in progress; done closes when value and err are set.
type read struct {
	done  chan struct{}
	value string
	err   error
}

// cached is a secret's value and when it was read.
type cached struct {
	value string
	at    time.Time
}

// Resolve returns the secret a reference points at, from the cache when it
// was read before. A failed read is not cached: the next call tries again.
func (r *Resolver) Resolve(ctx context.Context, ref config.SecretRef) (string, error) {
	r.mu.Lock()
	c, ok := r.cache[ref]
	r.mu.Unlock()
	if ok {
		return c.value, nil
	}
	return r.load(ctx, ref)
}

// Reread reads the secret anew when the cached value is older than minAge,
// for a caller that found the cached value wrong; a younger one (read or
// reread within minAge) is returned as it is, with reread false, so a flood
// of bad signatures costs at most one read per minAge. A failed read keeps
// the cached value.
func (r *Resolver) Reread(ctx context.Context, ref config.SecretRef, minAge time.Duration) (value string, reread bool, err error) {
	r.mu.Lock()
	c, ok := r.cache[ref]
	r.mu.Unlock()
	if ok && r.now().Sub(c.at) < minAge {
		return c.value, false, nil
	}
	v, err := r.load(ctx, ref)
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

// load reads the secret and caches it; concurrent loads of one reference
// share one read.
func (r *Resolver) load(ctx context.Context, ref config.SecretRef) (string, error) {
	r.mu.Lock()
	if rd, ok := r.reading[ref]; ok {
		r.mu.Unlock()
		select {
		case <-rd.done:
			return rd.value, rd.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	rd := &read{done: make(chan struct{})}
	if r.reading == nil {
		r.reading = map[config.SecretRef]*read{}
	}
	r.reading[ref] = rd
	r.mu.Unlock()

	rd.value, rd.err = r.read(ctx, ref)
	r.mu.Lock()
	delete(r.reading, ref)
	if rd.err == nil {
		if r.cache == nil {
			r.cache = make(map[config.SecretRef]cached)
		}
		r.cache[ref] = cached{value: rd.value, at: r.now()}
	}
	r.mu.Unlock()
	close(rd.done)
	return rd.value, rd.err
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Resolver) read(ctx context.Context, ref config.SecretRef) (string, error) {
	switch {
	case ref.SSMParameter != "":
		if r.SSM == nil {
			return "", fmt.Errorf("secret %s: no SSM client", Describe(ref))
		}
		out, err := r.SSM.GetParameter(ctx, &ssm.GetParameterInput{
			Name:           aws.String(ref.SSMParameter),
			WithDecryption: aws.Bool(true),
		})
		if err != nil {
			return "", fmt.Errorf("secret %s: %w", Describe(ref), err)
		}
		if out.Parameter == nil || out.Parameter.Value == nil {
			return "", fmt.Errorf("secret %s: parameter has no value", Describe(ref))
		}
		return *out.Parameter.Value, nil
	case ref.SecretsManager != "":
		if r.SecretsManager == nil {
			return "", fmt.Errorf("secret %s: no Secrets Manager client", Describe(ref))
		}
		out, err := r.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
			SecretId: aws.String(ref.SecretsManager),
		})
		if err != nil {
			return "", fmt.Errorf("secret %s: %w", Describe(ref), err)
		}
		switch {
		case out.SecretString != nil:
			return *out.SecretString, nil
		case out.SecretBinary != nil:
			return string(out.SecretBinary), nil
		}
		return "", fmt.Errorf("secret %s: secret has no value", Describe(ref))
	case ref.Env != "":
		lookup := r.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, ok := lookup(ref.Env)
		if !ok {
			return "", fmt.Errorf("secret %s: variable is not set", Describe(ref))
		}
		return v, nil
	}
	return "", errors.New("secret: empty reference")
}

// Describe names a reference for messages, e.g. "ssm:/sales/webhook-secret".
func Describe(ref config.SecretRef) string {
	switch {
	case ref.SSMParameter != "":
		return "ssm:" + ref.SSMParameter
	case ref.SecretsManager != "":
		return "secretsmanager:" + ref.SecretsManager
	case ref.Env != "":
		return "env:" + ref.Env
	}
	return "(empty reference)"
}
