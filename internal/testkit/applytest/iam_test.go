package applytest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// operatorName is the IAM user the test acts as once IAM is enforced: the
// person who deployed, allowed everything.
const operatorName = "webhookq-operator"

// newClients are the SDK clients of one identity on moto.
func newClients(cfg aws.Config) clients {
	return clients{
		sqs: sqs.NewFromConfig(cfg), sfn: sfn.NewFromConfig(cfg), lambda: lambda.NewFromConfig(cfg),
		iam: iam.NewFromConfig(cfg), logs: cloudwatchlogs.NewFromConfig(cfg), apigw: apigatewayv2.NewFromConfig(cfg),
		sns: sns.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg), kms: kms.NewFromConfig(cfg),
	}
}

// principals are the identities that act while moto enforces IAM: the
// operator, and every role the module created with credentials from
// sts:AssumeRole — each Lambda, the ingress (API Gateway's role), the state
// machines (moto's executor signs its Lambda calls with theirs, launcher
// patch 10).
type principals struct {
	endpoint, region    string
	operator            clients
	operatorCredentials aws.Credentials
	roles               map[string]aws.Credentials // by role name
}

// config is an SDK configuration on moto signing with creds.
func (p principals) config(creds aws.Credentials) aws.Config {
	cfg := testenv.AWSConfig(p.endpoint, p.region)
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	return cfg
}

// as returns clients signing with a role's credentials.
func (p principals) as(t *testing.T, role string) clients {
	t.Helper()
	creds, ok := p.roles[role]
	if !ok {
		t.Fatalf("no credentials for role %s", role)
	}
	return newClients(p.config(creds))
}

// env is a role's credentials as a Lambda function receives them.
func (p principals) env(t *testing.T, role string) map[string]string {
	t.Helper()
	creds, ok := p.roles[role]
	if !ok {
		t.Fatalf("no credentials for role %s", role)
	}
	return map[string]string{
		"AWS_ACCESS_KEY_ID": creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey, "AWS_SESSION_TOKEN": creds.SessionToken,
	}
}

// enforceIAM creates the operator, assumes each of the module's roles and
// turns moto's IAM authorisation on: from then on every request is
// evaluated against its signer's policies (as moto evaluates them: identity
// policies, Allow and Deny, the resource as launcher patch 8 gives it;
// docs/testing.md lists what it does not evaluate).
func (m *patchedMoto) enforceIAM(t *testing.T, c clients, s *staged) principals {
	t.Helper()
	ctx := context.Background()
	if _, err := c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(operatorName)}); err != nil {
		t.Fatal(err)
	}
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if _, err := c.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(operatorName), PolicyName: aws.String("admin"), PolicyDocument: aws.String(admin)}); err != nil {
		t.Fatal(err)
	}
	key, err := c.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(operatorName)})
	if err != nil {
		t.Fatal(err)
	}
	p := principals{endpoint: m.Endpoint, region: s.Config.Region, roles: map[string]aws.Credentials{}}
	p.operatorCredentials = aws.Credentials{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey), Source: operatorName}
	p.operator = newClients(p.config(p.operatorCredentials))

	// Each role's own credentials, as its service gets them. moto cannot
	// evaluate a service principal's trust, so they are taken before IAM is
	// on; the trust policies themselves are checked by checkPolicies.
	stsClient := sts.NewFromConfig(testenv.AWSConfig(m.Endpoint, s.Config.Region))
	roles := []string{s.Locals.Ingress.RoleName}
	for _, f := range s.Locals.Functions {
		roles = append(roles, f.RoleName)
	}
	for _, r := range s.Locals.Routes {
		roles = append(roles, r.RoleName)
	}
	for _, role := range roles {
		out, err := stsClient.AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + role), RoleSessionName: aws.String("applytest"),
		})
		if err != nil {
			t.Fatalf("assume %s: %v", role, err)
		}
		p.roles[role] = aws.Credentials{
			AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
			SessionToken: aws.ToString(out.Credentials.SessionToken), Source: "sts:AssumeRole " + role,
		}
	}
	m.setAuth(t, "0")
	// The dummy credentials everything used so far are refused now: IAM is on.
	var refused *smithyhttp.ResponseError
	if _, err := c.sqs.ListQueues(ctx, &sqs.ListQueuesInput{}); !errors.As(err, &refused) || refused.HTTPStatusCode() != http.StatusForbidden {
		t.Fatalf("moto still answers an unknown access key (%v): IAM authorisation is not on", err)
	}
	return p
}

// relaxIAM turns moto's IAM authorisation off again (for destroy, which runs
// with the provider's dummy credentials).
func (m *patchedMoto) relaxIAM(t *testing.T) { m.setAuth(t, "inf") }

// setAuth sets how many requests moto serves before it authorises them
// (moto's INITIAL_NO_AUTH_ACTION_COUNT, through its /moto-api/reset-auth).
func (m *patchedMoto) setAuth(t *testing.T, count string) {
	t.Helper()
	resp, err := http.Post(m.Endpoint+"/moto-api/reset-auth", "text/plain", strings.NewReader(count))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto reset-auth %s: %s", count, resp.Status)
	}
}

// withoutStatement replaces a role's inline policy with the same one less
// the statement sid, and returns a function that puts the original back.
func withoutStatement(t *testing.T, c clients, role, policy, sid string) (restore func()) {
	t.Helper()
	ctx := context.Background()
	got, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(policy)})
	if err != nil {
		t.Fatal(err)
	}
	original := aws.ToString(got.PolicyDocument)
	if dec, err := url.QueryUnescape(original); err == nil {
		original = dec
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(original), &doc); err != nil {
		t.Fatal(err)
	}
	var kept []any
	for _, st := range doc["Statement"].([]any) {
		if st.(map[string]any)["Sid"] != sid {
			kept = append(kept, st)
		}
	}
	if len(kept) == len(doc["Statement"].([]any)) {
		t.Fatalf("role %s policy %s has no statement %s", role, policy, sid)
	}
	doc["Statement"] = kept
	reduced, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	put := func(document string) {
		if _, err := c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(policy), PolicyDocument: aws.String(document)}); err != nil {
			t.Fatal(err)
		}
	}
	put(string(reduced))
	return func() { put(original) }
}
