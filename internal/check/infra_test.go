package check

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/webhookq/webhookq/internal/config"
)

// Hand-written fakes of the read operations, for the infrastructure checks'
// rules; the apply test and cmd/check's twin tests run them for real.
type fakeMapping struct{ state, reason string }

func (f fakeMapping) GetEventSourceMapping(context.Context, *lambda.GetEventSourceMappingInput, ...func(*lambda.Options)) (*lambda.GetEventSourceMappingOutput, error) {
	return &lambda.GetEventSourceMappingOutput{State: aws.String(f.state), StateTransitionReason: aws.String(f.reason)}, nil
}

type fakeStage struct {
	out *apigatewayv2.GetStageOutput // nil: NotFoundException
}

func (f fakeStage) GetStage(context.Context, *apigatewayv2.GetStageInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetStageOutput, error) {
	if f.out == nil {
		return nil, &apigwtypes.NotFoundException{Message: aws.String("Invalid stage identifier specified")}
	}
	return f.out, nil
}

type fakeAlarms []cwtypes.MetricAlarm

func (f fakeAlarms) DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return &cloudwatch.DescribeAlarmsOutput{MetricAlarms: f}, nil
}

type fakeLogs []string // group names

func (f fakeLogs) DescribeLogGroups(_ context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	var out []cwltypes.LogGroup
	for _, g := range f {
		if strings.HasPrefix(g, aws.ToString(in.LogGroupNamePrefix)) {
			out = append(out, cwltypes.LogGroup{LogGroupName: aws.String(g)})
		}
	}
	return &cloudwatchlogs.DescribeLogGroupsOutput{LogGroups: out}, nil
}

func (f fakeLogs) FilterLogEvents(context.Context, *cloudwatchlogs.FilterLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	return &cloudwatchlogs.FilterLogEventsOutput{}, nil
}

func awsDeployment() Deployment {
	cfg := &config.Config{Service: "sales-approvals", Region: "ap-northeast-1"}
	return Deployment{
		Config: cfg, APIID: "a1b2c3", Stage: "prod", MappingUUID: "uuid-1", TerraformDir: "terraform",
		DeployCommand: "aws apigatewayv2 create-deployment --api-id a1b2c3 --stage-name 'prod'",
		FunctionNames: map[string]string{"forward": "sales-approvals-forward", "deliver": "sales-approvals-deliver", "notify": "sales-approvals-notify"},
	}
}

func TestCheckMapping(t *testing.T) {
	t.Parallel()
	d := awsDeployment()
	for state, want := range map[string]Status{"Enabled": Pass, "Disabled": Fail, "Disabling": Fail, "Enabling": Warn, "Updating": Warn} {
		r := checkMapping(context.Background(), d, Clients{Mappings: fakeMapping{state: state, reason: "USER_INITIATED"}})
		if r.Status != want || !strings.Contains(r.Detail, state) {
			t.Errorf("%s: %+v, want %s", state, r, want)
		}
		if want == Fail && r.Fix != "resume it: aws lambda update-event-source-mapping --region ap-northeast-1 --uuid uuid-1 --enabled" {
			t.Errorf("%s: fix %q", state, r.Fix)
		}
	}
}

func TestCheckStage(t *testing.T) {
	t.Parallel()
	logged := &apigwtypes.AccessLogSettings{DestinationArn: aws.String("arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/apigateway/api/prod")}
	for _, tc := range []struct {
		name           string
		stage          *apigatewayv2.GetStageOutput
		stageStatus    Status
		logStatus      Status
		stageFix, want string
	}{
		{"missing", nil, Fail, Skip, "set existing_api_stage", "has no stage \"prod\""},
		{"auto-deploys, logged", &apigatewayv2.GetStageOutput{AutoDeploy: aws.Bool(true), AccessLogSettings: logged}, Pass, Pass, "", "deploys API changes by itself"},
		{"deployed by hand", &apigatewayv2.GetStageOutput{AutoDeploy: aws.Bool(false), AccessLogSettings: logged}, Warn, Pass,
			"after every apply that changes routes, run: aws apigatewayv2 create-deployment --api-id a1b2c3 --stage-name 'prod'", "does not deploy by itself"},
		{"last auto-deployment failed", &apigatewayv2.GetStageOutput{AutoDeploy: aws.Bool(true), LastDeploymentStatusMessage: aws.String("Deployment failed: bad integration")},
			Warn, Fail, "", "Deployment failed: bad integration"},
	} {
		rs := checkStage(context.Background(), awsDeployment(), Clients{Stages: fakeStage{tc.stage}})
		if rs[0].Status != tc.stageStatus || !strings.Contains(rs[0].Detail, tc.want) || !strings.Contains(rs[0].Fix, tc.stageFix) {
			t.Errorf("%s: stage %+v; want %s with %q, fix %q", tc.name, rs[0], tc.stageStatus, tc.want, tc.stageFix)
		}
		if rs[1].Status != tc.logStatus {
			t.Errorf("%s: access log %+v; want %s", tc.name, rs[1], tc.logStatus)
		}
		if rs[1].Status == Fail && rs[1].Fix != "run the command printed by: terraform -chdir=terraform output -raw ingress_access_log_command" {
			t.Errorf("%s: access log fix %q", tc.name, rs[1].Fix)
		}
	}
}

func TestCheckAlarms(t *testing.T) {
	t.Parallel()
	topic := []string{"arn:aws:sns:ap-northeast-1:123456789012:failures"}
	alarm := func(name string, enabled bool, actions []string) cwtypes.MetricAlarm {
		return cwtypes.MetricAlarm{AlarmName: aws.String(name), ActionsEnabled: aws.Bool(enabled), AlarmActions: actions}
	}
	for _, tc := range []struct {
		name   string
		alarms fakeAlarms
		want   Status
		detail string
	}{
		{"none", nil, Fail, "no alarm named sales-approvals-*"},
		{"with actions", fakeAlarms{alarm("sales-approvals-dlq-not-empty", true, topic)}, Pass, "sales-approvals-dlq-not-empty: actions set"},
		{"without actions", fakeAlarms{alarm("sales-approvals-dlq-not-empty", true, nil)}, Fail, "sales-approvals-dlq-not-empty notifies nobody"},
		{"actions disabled", fakeAlarms{alarm("sales-approvals-dlq-not-empty", false, topic)}, Fail, "has its actions disabled"},
	} {
		r := checkAlarms(context.Background(), awsDeployment(), Clients{Alarms: tc.alarms})
		if r.Status != tc.want || !strings.Contains(r.Detail, tc.detail) || (r.Status == Fail && r.Fix == "") {
			t.Errorf("%s: %+v; want %s with %q and a fix", tc.name, r, tc.want, tc.detail)
		}
	}
}

func TestCheckLogGroups(t *testing.T) {
	t.Parallel()
	all := fakeLogs{"/aws/lambda/sales-approvals-forward", "/aws/lambda/sales-approvals-deliver", "/aws/lambda/sales-approvals-notify"}
	if r := checkLogGroups(context.Background(), awsDeployment(), Clients{Logs: all}); r.Status != Pass {
		t.Errorf("all present: %+v", r)
	}
	r := checkLogGroups(context.Background(), awsDeployment(), Clients{Logs: all[:2]})
	if r.Status != Fail || r.Detail != "missing: /aws/lambda/sales-approvals-notify" || r.Fix != "apply the module again: terraform -chdir=terraform apply" {
		t.Errorf("one missing: %+v", r)
	}
}
