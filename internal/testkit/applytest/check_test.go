package applytest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/webhookq/webhookq/internal/check"
	"github.com/webhookq/webhookq/internal/lambda/secret"
)

// postDeployCheck runs cmd/check's core against the applied stack, as the
// operator (IAM enforced): it passes once the operator has turned on the
// stage's access log with the module's own command, and fails, saying what
// to do, when the event source mapping is disabled or the stage does not
// serve the routes. The API Gateway player serves the public URLs, the
// mapping player polls while the mapping is enabled, and the functions'
// output is shipped to their log groups, where the check reads the answers.
func postDeployCheck(t *testing.T, p principals, s *staged, out applied, esm *mappingPlayer, tg *target) {
	t.Helper()
	ctx := context.Background()
	gw := newAPIGateway(t, p, out.APIID, out.IngressStage)
	stopPolling := esm.run(t, p.operator, out.MappingUUID)
	defer stopPolling()
	d := check.Deployment{
		Config: s.Config, IngressURLs: out.IngressURLs, APIID: out.APIID, Stage: out.IngressStage,
		AccessLogCommand: aws.ToString(out.AccessLogCommand), MappingUUID: out.MappingUUID,
		ProbeKey: out.ProbeKeyARN, FunctionNames: out.FunctionNames, TerraformDir: "terraform",
	}
	c := check.Clients{
		Mappings: p.operator.lambda, Stages: p.operator.apigw, Logs: p.operator.logs,
		Alarms: cloudwatch.NewFromConfig(p.config(p.operatorCredentials), func(o *cloudwatch.Options) {
			// moto 5.2.1 answers CloudWatch's query protocol only; the SDK
			// speaks Smithy RPC v2 CBOR to AWS by default.
			o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
		}),
		MACs:    p.operator.kms,
		Secrets: &secret.Resolver{SSM: p.operator.ssm}, HTTP: gw.Client(),
	}
	run := func(t *testing.T, wait time.Duration, routes ...string) []check.Result {
		t.Helper()
		results := check.Run(ctx, d, c, check.Options{Routes: routes, Wait: wait, Poll: 500 * time.Millisecond})
		var text strings.Builder
		_ = check.WriteText(&text, results)
		t.Logf("check:\n%s", text.String())
		return results
	}
	want := func(t *testing.T, results []check.Result, name string, status check.Status, detail, fix string) {
		t.Helper()
		for _, r := range results {
			if r.Check == name {
				if r.Status != status || !strings.Contains(r.Detail, detail) || !strings.Contains(r.Fix, fix) {
					t.Errorf("%s: %s %q → %q; want %s with %q → %q", name, r.Status, r.Detail, r.Fix, status, detail, fix)
				}
				return
			}
		}
		t.Errorf("no result %q", name)
	}
	route := s.Config.Routes[0].Name

	t.Run("post-deploy check passes", func(t *testing.T) {
		// The operator follows docs/deploy.md: the existing stage gets its
		// access log with the module's command, run by the AWS CLI.
		p.operatorCLI(t, aws.ToString(out.AccessLogCommand))
		results := run(t, 90*time.Second)
		for _, r := range results {
			if r.Status == check.Fail {
				t.Errorf("%s failed: %s → %s", r.Check, r.Detail, r.Fix)
			}
		}
		want(t, results, "event source mapping (queue → forward)", check.Pass, "is Enabled", "")
		want(t, results, "API stage $default", check.Pass, "deploys API changes by itself", "")
		want(t, results, "access log of stage $default", check.Pass, "log-group:/aws/apigateway/"+s.Config.Ingress.HTTPAPIName+"/default", "")
		if len(out.AlarmNames) == 0 {
			t.Error("the module outputs no alarm_names")
		}
		for _, name := range out.AlarmNames {
			want(t, results, "alarms", check.Pass, name, "")
		}
		for _, r := range s.Config.Routes {
			want(t, results, "route "+r.Name+": probe through the pipeline", check.Pass, "→ "+s.Config.StateMachineName(r)+" → deliver, nothing delivered", "")
			want(t, results, "route "+r.Name+": target reachable from deliver", check.Pass, "tcp", "")
		}
		if got := tg.take(); len(got) != 0 {
			t.Errorf("the application received %d requests from the check; it must receive none", len(got))
		}
	})

	t.Run("post-deploy check fails when the mapping is disabled", func(t *testing.T) {
		setMapping(t, p.operator, out.MappingUUID, false)
		defer setMapping(t, p.operator, out.MappingUUID, true)
		esm.awaitIdle(t)
		results := run(t, 5*time.Second, route)
		want(t, results, "event source mapping (queue → forward)", check.Fail, out.MappingUUID+" is Disabled",
			"aws lambda update-event-source-mapping --region "+s.Config.Region+" --uuid "+out.MappingUUID+" --enabled")
		want(t, results, "route "+route+": probe through the pipeline", check.Fail, "no answer from deliver within 5s", "forward never logged webhook")
	})

	t.Run("post-deploy check fails when the routes are not deployed", func(t *testing.T) {
		setAutoDeploy(t, p.operator, out.APIID, out.IngressStage, false)
		defer setAutoDeploy(t, p.operator, out.APIID, out.IngressStage, true)
		results := run(t, 5*time.Second, route)
		want(t, results, "API stage $default", check.Warn, "does not deploy by itself", "aws apigatewayv2 create-deployment")
		want(t, results, "route "+route+": probe through the pipeline", check.Fail, "answered 404 Not Found", "the stage does not serve this route")
	})
}

func setMapping(t *testing.T, c clients, uuid string, enabled bool) {
	t.Helper()
	if _, err := c.lambda.UpdateEventSourceMapping(context.Background(), &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), Enabled: aws.Bool(enabled)}); err != nil {
		t.Fatal(err)
	}
}

func setAutoDeploy(t *testing.T, c clients, apiID, stage string, on bool) {
	t.Helper()
	if _, err := c.apigw.UpdateStage(context.Background(), &apigatewayv2.UpdateStageInput{ApiId: aws.String(apiID), StageName: aws.String(stage), AutoDeploy: aws.Bool(on)}); err != nil {
		t.Fatal(err)
	}
}

// operatorCLI runs a shell command of aws CLI invocations, as the module's
// outputs print them, as the operator against moto.
func (p principals) operatorCLI(t *testing.T, command string) {
	t.Helper()
	if command == "" {
		t.Fatal("no command to run")
	}
	cmd := exec.Command("sh", "-c", strings.ReplaceAll(command, "aws ", "aws --endpoint-url "+p.endpoint+" "))
	creds := p.operatorCredentials
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_SESSION_TOKEN=", "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull, "AWS_DEFAULT_REGION="+p.region)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", command, err, out)
	}
}
