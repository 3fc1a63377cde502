package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/webhookq/webhookq/internal/config"
)

// checkMapping: a disabled event source mapping stops every delivery
// without an error anywhere (webhooks wait in the queue until they expire).
func checkMapping(ctx context.Context, d Deployment, c Clients) Result {
	r := Result{Check: "event source mapping (queue → forward)"}
	if d.MappingUUID == "" {
		r.Status, r.Detail = Fail, "no mapping UUID in the outputs"
		r.Fix = applyFix(d)
		return r
	}
	out, err := c.Mappings.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(d.MappingUUID)})
	if err != nil {
		r.Status, r.Detail = Fail, "cannot read mapping "+d.MappingUUID+": "+err.Error()
		r.Fix = "check the region and your credentials (lambda:GetEventSourceMapping); " + applyFix(d)
		return r
	}
	state := aws.ToString(out.State)
	r.Detail = fmt.Sprintf("%s is %s", d.MappingUUID, state)
	if reason := aws.ToString(out.StateTransitionReason); reason != "" {
		r.Detail += " (" + reason + ")"
	}
	switch state {
	case "Enabled":
		r.Status = Pass
	case "Creating", "Enabling", "Updating":
		r.Status = Warn
		r.Fix = "it is changing state; run the check again in a minute"
	default:
		r.Status = Fail
		r.Detail += ": nothing is forwarded, webhooks wait in the queue until their retention ends"
		r.Fix = fmt.Sprintf("resume it: aws lambda update-event-source-mapping --region %s --uuid %s --enabled", d.Config.Region, d.MappingUUID)
		if d.Local() {
			r.Fix = fmt.Sprintf("resume it on the twin's web page, or: aws lambda update-event-source-mapping --endpoint-url <control URL> --uuid %s --enabled", d.MappingUUID)
		}
	}
	return r
}

// checkStage: the stage must exist and deploy the routes, and keep an access
// log (the only record of a request API Gateway refused).
func checkStage(ctx context.Context, d Deployment, c Clients) []Result {
	stage := Result{Check: fmt.Sprintf("API stage %s", d.Stage)}
	accessLog := Result{Check: fmt.Sprintf("access log of stage %s", d.Stage)}
	if d.Local() {
		stage.Check, accessLog.Check = "API stage", "API access log"
		stage.Status, stage.Detail = Skip, "the local twin has no API Gateway"
		accessLog.Status, accessLog.Detail = Skip, "the local twin logs refused requests itself"
		return []Result{stage, accessLog}
	}
	out, err := c.Stages.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: aws.String(d.APIID), StageName: aws.String(d.Stage)})
	var missing *apigwtypes.NotFoundException
	switch {
	case errors.As(err, &missing):
		stage.Status, stage.Detail = Fail, fmt.Sprintf("API %s has no stage %q: the ingress URLs lead nowhere", d.APIID, d.Stage)
		stage.Fix = fmt.Sprintf("list its stages (aws apigatewayv2 get-stages --api-id %s), set existing_api_stage to the one that serves your API in %s, and apply", d.APIID, tfvars(d))
		accessLog.Status, accessLog.Detail = Skip, "no stage"
		return []Result{stage, accessLog}
	case err != nil:
		stage.Status, stage.Detail = Fail, "cannot read the stage: "+err.Error()
		stage.Fix = "check the region and your credentials (apigateway:GET)"
		accessLog.Status, accessLog.Detail = Skip, "stage unreadable"
		return []Result{stage, accessLog}
	}
	last := aws.ToString(out.LastDeploymentStatusMessage)
	switch {
	case aws.ToBool(out.AutoDeploy) && last != "" && !strings.Contains(strings.ToLower(last), "success"):
		stage.Status, stage.Detail = Warn, "deploys API changes by itself; its last automatic deployment says: "+last
		stage.Fix = "the probes below say whether the routes are live; fix what the message names"
	case aws.ToBool(out.AutoDeploy):
		stage.Status, stage.Detail = Pass, "exists and deploys API changes by itself"
	default:
		stage.Status, stage.Detail = Warn, "does not deploy by itself: routes added or changed by an apply answer 404 until it is deployed (the probes below say whether they are live)"
		stage.Fix = "after every apply that changes routes, run: " + orElse(d.DeployCommand, "aws apigatewayv2 create-deployment --api-id "+d.APIID+" --stage-name '"+d.Stage+"'")
	}
	if s := out.AccessLogSettings; s != nil && aws.ToString(s.DestinationArn) != "" {
		accessLog.Status, accessLog.Detail = Pass, "to "+aws.ToString(s.DestinationArn)
	} else {
		accessLog.Status = Fail
		accessLog.Detail = "off: a request API Gateway refuses (a mapped header missing, a throttled sender) is recorded nowhere"
		accessLog.Fix = "run the command printed by: terraform -chdir=" + orElse(d.TerraformDir, "terraform") + " output -raw ingress_access_log_command"
	}
	return []Result{stage, accessLog}
}

// checkAlarms: an alarm without actions (or with actions disabled) fires
// into the void; the DLQ filling up then pages nobody.
func checkAlarms(ctx context.Context, d Deployment, c Clients) Result {
	r := Result{Check: "alarms"}
	if d.Local() {
		r.Status, r.Detail = Skip, "the local twin has no alarms (its web page shows the DLQ)"
		return r
	}
	prefix := d.Config.Service + "-"
	var alarms []string
	var problems, fixes []string
	p := cloudwatch.NewDescribeAlarmsPaginator(c.Alarms, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.Status, r.Detail = Fail, "cannot read the alarms: "+err.Error()
			r.Fix = "check the region and your credentials (cloudwatch:DescribeAlarms)"
			return r
		}
		for _, a := range page.MetricAlarms {
			name := aws.ToString(a.AlarmName)
			alarms = append(alarms, name)
			switch {
			case !aws.ToBool(a.ActionsEnabled):
				problems = append(problems, name+" has its actions disabled")
				fixes = append(fixes, fmt.Sprintf("aws cloudwatch enable-alarm-actions --region %s --alarm-names %s", d.Config.Region, name))
			case len(a.AlarmActions) == 0:
				problems = append(problems, name+" notifies nobody")
				fixes = append(fixes, "set notify.sns_topic_arn in routes.yaml (the alarms notify that topic), then go run ./cmd/generate and apply")
			}
		}
	}
	slices.Sort(alarms)
	switch {
	case len(alarms) == 0:
		r.Status, r.Detail = Fail, "no alarm named "+prefix+"*: nothing tells you when webhooks are parked"
		r.Fix = applyFix(d)
	case len(problems) > 0:
		r.Status, r.Detail = Fail, strings.Join(problems, "; ")
		r.Fix = strings.Join(slices.Compact(fixes), "; ")
	default:
		r.Status, r.Detail = Pass, strings.Join(alarms, ", ")+": actions set"
	}
	return r
}

// checkLogGroups: the functions' log groups hold everything the check and
// an operator read; a missing one means output is lost or kept forever.
func checkLogGroups(ctx context.Context, d Deployment, c Clients) Result {
	r := Result{Check: "function log groups"}
	var missing, found []string
	for _, fn := range config.Functions {
		group := "/aws/lambda/" + d.FunctionNames[fn]
		out, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
		if err != nil {
			r.Status, r.Detail = Fail, "cannot read log groups: "+err.Error()
			r.Fix = "check the region and your credentials (logs:DescribeLogGroups)"
			return r
		}
		if slices.ContainsFunc(out.LogGroups, func(g cwltypes.LogGroup) bool { return aws.ToString(g.LogGroupName) == group }) {
			found = append(found, group)
		} else {
			missing = append(missing, group)
		}
	}
	if len(missing) > 0 {
		r.Status, r.Detail = Fail, "missing: "+strings.Join(missing, ", ")
		r.Fix = applyFix(d)
		return r
	}
	r.Status, r.Detail = Pass, strings.Join(found, ", ")
	return r
}

// applyFix is the fix for something the module creates that is missing.
func applyFix(d Deployment) string {
	if d.Local() {
		return "restart the twin (go run ./cmd/local)"
	}
	return "apply the module again: terraform -chdir=" + orElse(d.TerraformDir, "terraform") + " apply"
}

func tfvars(d Deployment) string {
	return orElse(d.TerraformDir, "terraform") + "/terraform.tfvars"
}

func orElse(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
