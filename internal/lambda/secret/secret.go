// Package secret resolves config.SecretRef values at run time, from SSM
// Parameter Store, Secrets Manager or the environment, and caches each value
// for the life of the process (a Lambda container), so a warm invocation never
// calls AWS for a secret it already has.
//
// Errors name the reference, never the value.
package secret

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

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

	mu    sync.Mutex
	cache map[config.SecretRef]string
}

// Resolve returns the secret a reference points at, from the cache when it
// was read before. A failed read is not cached: the next call tries again.
func (r *Resolver) Resolve(ctx context.Context, ref config.SecretRef) (string, error) {
	r.mu.Lock()
	v, ok := r.cache[ref]
	r.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := r.read(ctx, ref)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = make(map[config.SecretRef]string)
	}
	r.cache[ref] = v
	r.mu.Unlock()
	return v, nil
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
