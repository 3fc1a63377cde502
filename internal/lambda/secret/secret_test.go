package secret

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// fakeSSM answers GetParameter from a map and counts calls.
type fakeSSM struct {
	mu        sync.Mutex
	values    map[string]string
	failNext  bool
	calls     int
	decrypted bool
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.decrypted = aws.ToBool(in.WithDecryption)
	if f.failNext {
		f.failNext = false
		return nil, errors.New("ThrottlingException: rate exceeded")
	}
	v, ok := f.values[aws.ToString(in.Name)]
	if !ok {
		return nil, errors.New("ParameterNotFound")
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(v)}}, nil
}

type fakeSecretsManager struct {
	out secretsmanager.GetSecretValueOutput
}

func (f *fakeSecretsManager) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &f.out, nil
}

func TestResolveCachesOncePerProcess(t *testing.T) {
	t.Parallel()
	f := &fakeSSM{values: map[string]string{"/svc/key": "v1"}, failNext: true}
	r := &Resolver{SSM: f}
	ref := config.SecretRef{SSMParameter: "/svc/key"}
	if _, err := r.Resolve(context.Background(), ref); err == nil || !strings.Contains(err.Error(), "ssm:/svc/key") {
		t.Fatalf("first Resolve = %v, want the throttling error naming ssm:/svc/key", err)
	}
	for range 3 {
		v, err := r.Resolve(context.Background(), ref)
		if err != nil || v != "v1" {
			t.Fatalf("Resolve = %q, %v", v, err)
		}
	}
	if f.calls != 2 {
		t.Errorf("GetParameter calls = %d, want 2 (a failure is not cached, a value is)", f.calls)
	}
	if !f.decrypted {
		t.Error("GetParameter without WithDecryption: a SecureString would come back encrypted")
	}
}

// Reread reads a value anew only when the cached one is older than the
// interval: a rotated secret is picked up, a flood of bad signatures costs
// one read per interval.
func TestRereadAtMostOncePerInterval(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	f := &fakeSSM{values: map[string]string{"/svc/key": "old"}}
	r := &Resolver{SSM: f, Now: func() time.Time { return now }}
	ref := config.SecretRef{SSMParameter: "/svc/key"}
	ctx := context.Background()
	if v, err := r.Resolve(ctx, ref); err != nil || v != "old" {
		t.Fatalf("Resolve = %q, %v", v, err)
	}
	f.values["/svc/key"] = "new" // rotated in SSM
	now = now.Add(59 * time.Second)
	for range 3 {
		if v, reread, err := r.Reread(ctx, ref, time.Minute); err != nil || v != "old" || reread {
			t.Fatalf("Reread within the interval = %q, %v, %v; want the cached value, not reread", v, reread, err)
		}
	}
	now = now.Add(time.Second)
	if v, reread, err := r.Reread(ctx, ref, time.Minute); err != nil || v != "new" || !reread {
		t.Fatalf("Reread after the interval = %q, %v, %v; want the new value", v, reread, err)
	}
	if v, err := r.Resolve(ctx, ref); err != nil || v != "new" {
		t.Errorf("Resolve after a reread = %q, %v; want the new value cached", v, err)
	}
	if f.calls != 2 {
		t.Errorf("GetParameter calls = %d, want 2 (the first read, one reread)", f.calls)
	}
	now = now.Add(time.Hour)
	f.failNext = true
	if _, _, err := r.Reread(ctx, ref, time.Minute); err == nil {
		t.Fatal("a failed reread returned no error")
	}
	if v, err := r.Resolve(ctx, ref); err != nil || v != "new" {
		t.Errorf("after a failed reread Resolve = %q, %v; want the cached value kept", v, err)
	}
}

func TestResolveSources(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SLACK_URL": "https://hooks.test/x"}
	r := &Resolver{
		SSM:            &fakeSSM{values: map[string]string{}},
		SecretsManager: &fakeSecretsManager{out: secretsmanager.GetSecretValueOutput{SecretBinary: []byte("bin")}},
		LookupEnv:      func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}
	tests := []struct {
		ref     config.SecretRef
		want    string
		wantErr string
	}{
		{config.SecretRef{Env: "SLACK_URL"}, "https://hooks.test/x", ""},
		{config.SecretRef{Env: "UNSET"}, "", "secret env:UNSET: variable is not set"},
		{config.SecretRef{SecretsManager: "svc/bin"}, "bin", ""},
		{config.SecretRef{SSMParameter: "/nope"}, "", "secret ssm:/nope: ParameterNotFound"},
		{config.SecretRef{}, "", "empty reference"},
	}
	for _, tt := range tests {
		v, err := r.Resolve(context.Background(), tt.ref)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Resolve(%s) = %q, %v; want error %q", Describe(tt.ref), v, err, tt.wantErr)
			}
			continue
		}
		if err != nil || v != tt.want {
			t.Errorf("Resolve(%s) = %q, %v; want %q", Describe(tt.ref), v, err, tt.want)
		}
	}
}

func TestResolveWithoutClients(t *testing.T) {
	t.Parallel()
	r := &Resolver{}
	for _, ref := range []config.SecretRef{{SSMParameter: "/a"}, {SecretsManager: "b"}} {
		if _, err := r.Resolve(context.Background(), ref); err == nil {
			t.Errorf("Resolve(%s) without a client succeeded", Describe(ref))
		}
	}
}

// TestResolveAgainstMoto uses the real SSM and Secrets Manager clients
// against moto: a SecureString parameter and a secret are created with the
// SDK, resolved through the Resolver, then changed in moto — the Resolver
// keeps answering the value it read (cached once per container).
func TestResolveAgainstMoto(t *testing.T) {
	t.Parallel()
	cfg := testenv.AWSConfig(testenv.Moto(t), "ap-northeast-1")
	ctx := context.Background()
	ssmc, smc := ssm.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg)
	if _, err := ssmc.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/sales-approvals/outbound-signing-secret"), Type: ssmtypes.ParameterTypeSecureString,
		Value: aws.String("whsec_c2VjcmV0"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := smc.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("sales-approvals/api-token"), SecretString: aws.String("Bearer t0ken"),
	}); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{SSM: ssmc, SecretsManager: smc}
	param := config.SecretRef{SSMParameter: "/sales-approvals/outbound-signing-secret"}
	sec := config.SecretRef{SecretsManager: "sales-approvals/api-token"}
	for ref, want := range map[config.SecretRef]string{param: "whsec_c2VjcmV0", sec: "Bearer t0ken"} {
		if v, err := r.Resolve(ctx, ref); err != nil || v != want {
			t.Fatalf("Resolve(%s) = %q, %v; want %q", Describe(ref), v, err, want)
		}
	}

	if _, err := ssmc.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(param.SSMParameter), Type: ssmtypes.ParameterTypeSecureString,
		Value: aws.String("whsec_cm90YXRlZA=="), Overwrite: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Resolve(ctx, param); v != "whsec_c2VjcmV0" {
		t.Errorf("after the parameter changed, Resolve = %q; want the cached value", v)
	}
	if v, _ := (&Resolver{SSM: ssmc}).Resolve(ctx, param); v != "whsec_cm90YXRlZA==" {
		t.Errorf("a new container reads %q, want the new value", v)
	}

	_, err := r.Resolve(ctx, config.SecretRef{SSMParameter: "/sales-approvals/missing"})
	if err == nil || !strings.Contains(err.Error(), "ssm:/sales-approvals/missing") || !strings.Contains(err.Error(), "ParameterNotFound") {
		t.Errorf("missing parameter: %v", err)
	}
}
