package applytest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// account is the account id moto answers for any credentials.
const account = "123456789012"

// Secrets the deploying account holds before apply (values of the example's
// SSM references). The outbound one is a Standard Webhooks secret.
const (
	outboundSecret = "whsec_" + "c2VjcmV0LWZvci10aGUtYXBwbHktdGVzdA=="
	workflowSecret = "workflow-saas-shared-secret"
)

// applied is what the module's outputs say it created.
type applied struct {
	APIID            string            `json:"api_id"`
	QueueURL         string            `json:"queue_url"`
	QueueARN         string            `json:"queue_arn"`
	DLQURL           string            `json:"dlq_url"`
	DLQARN           string            `json:"dlq_arn"`
	StateMachineARNs map[string]string `json:"state_machine_arns"`
	MappingUUID      string            `json:"forward_event_source_mapping_uuid"`
	IngressURLs      map[string]string `json:"ingress_urls"`
	IngressStage     string            `json:"ingress_stage"`
	DeployCommand    *string           `json:"ingress_deploy_command"`
	AccessLogCommand *string           `json:"ingress_access_log_command"`
	ProbeKeyARN      string            `json:"probe_key_arn"`
	FunctionNames    map[string]string `json:"function_names"`
	AlarmNames       map[string]string `json:"alarm_names"`
}

// clients are the AWS SDK v2 clients on moto.
type clients struct {
	kms    *kms.Client
	sqs    *sqs.Client
	sfn    *sfn.Client
	lambda *lambda.Client
	iam    *iam.Client
	logs   *cloudwatchlogs.Client
	apigw  *apigatewayv2.Client
	sns    *sns.Client
	ssm    *ssm.Client
}

// TestApplyOnMoto applies the module for the example routes (with a local
// target and short retries) against moto, checks what it created, drives
// webhooks through it, destroys it and checks nothing is left.
func TestApplyOnMoto(t *testing.T) {
	ctx := context.Background()
	moto := startPatchedMoto(t)
	target := newTarget(t)
	slack := newSlack(t)

	// The region is the example's; the config is parsed again in stage.
	const region = "ap-northeast-1"
	c := newClients(testenv.AWSConfig(moto.Endpoint, region))

	// What the account has before apply: the failure topic (with a queue
	// subscribed, to count notifications) and the existing HTTP API the
	// routes are added to, created by name as the seed's system did.
	topicARN, notifications := failureTopic(t, c)
	routesYAML := testConfig(t, target.URL, topicARN)
	s := stage(t, routesYAML)
	if s.Config.Region != region {
		t.Fatalf("example region %s; the test's clients use %s", s.Config.Region, region)
	}
	api, err := c.apigw.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String(s.Config.Ingress.HTTPAPIName), ProtocolType: "HTTP"})
	if err != nil {
		t.Fatal(err)
	}
	// Its $default stage deploys by itself, and the operator says so, as
	// docs/deploy.md has them do (plan refuses to guess).
	if _, err := c.apigw.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	writeTFVars(t, s, "existing_api_stage_auto_deploy = true\n")
	putSecrets(t, c, s.Config, slack.URL+"/services/T000/B000/applytest")

	writeProviderOverride(t, s, moto.Endpoint)
	tf := newTerraform(t, s)
	tf.init(t)
	tf.apply(t)
	tf.planIsEmpty(t)
	var out applied
	tf.outputs(t, &out)
	if out.APIID != aws.ToString(api.ApiId) {
		t.Errorf("module used API %q; the existing API %q has the configured name", out.APIID, aws.ToString(api.ApiId))
	}
	if out.IngressStage != "$default" || out.DeployCommand != nil || out.AccessLogCommand == nil {
		t.Errorf("ingress stage %q, deploy command %v, access log command %v; want $default, none (it auto-deploys), the command for the existing stage",
			out.IngressStage, out.DeployCommand, out.AccessLogCommand)
	}
	tf.planFails(t, "a stage the API does not have", "NotFoundException", tfexec.Var("existing_api_stage=no-such-stage"))

	fns := checkFunctions(t, c, s, out)
	checkQueues(t, c, s, out)
	checkStateMachines(t, c, s, out, fns)
	checkMapping(t, c, s, out, fns)
	checkPolicies(t, c, s, out, fns, topicARN)
	checkIngress(t, c, s, out)

	if !t.Failed() {
		// From here until destroy every request is authorised by moto
		// against the applied policies of whoever signs it.
		p := moto.enforceIAM(t, c, s)
		driveWebhooks(t, moto, p, s, out, fns, target, slack, notifications)
		moto.relaxIAM(t)
	}

	tf.destroy(t)
	checkNothingLeft(t, c, s, out)
	t.Logf("terraform against moto: init %s, apply %s, plan again %s, destroy %s",
		tf.Timings["init"].Round(1e8), tf.Timings["apply"].Round(1e8), tf.Timings["plan"].Round(1e8), tf.Timings["destroy"].Round(1e8))
}

// failureTopic creates the SNS topic failures are reported to and an SQS
// queue subscribed to it, whose URL it returns to read notifications back.
func failureTopic(t *testing.T, c clients) (topicARN, inboxURL string) {
	t.Helper()
	ctx := context.Background()
	topic, err := c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("sales-approvals-failures")})
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("failure-notifications")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: inbox.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.sns.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
	}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(topic.TopicArn), aws.ToString(inbox.QueueUrl)
}

// putSecrets stores the values of the config's SSM references.
func putSecrets(t *testing.T, c clients, cfg *config.Config, slackURL string) {
	t.Helper()
	values := map[string]string{
		cfg.Target.Signing.SSMParameter:         outboundSecret,
		cfg.Notify.SlackWebhookURL.SSMParameter: slackURL,
	}
	for _, r := range cfg.Routes {
		if r.Verify != nil {
			values[r.Verify.Secret.SSMParameter] = workflowSecret
		}
	}
	for name, value := range values {
		if name == "" {
			t.Fatal("the example's secrets are expected to be SSM parameters")
		}
		if _, err := c.ssm.PutParameter(context.Background(), &ssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString,
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// functionInfo is one applied Lambda function.
type functionInfo struct {
	ARN, RoleARN, LogGroupARN string
	Env                       map[string]string
}

func checkFunctions(t *testing.T, c clients, s *staged, out applied) map[string]functionInfo {
	t.Helper()
	ctx := context.Background()
	fns := map[string]functionInfo{}
	for key, want := range s.Locals.Functions {
		got, err := c.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(want.Name)})
		if err != nil {
			t.Errorf("function %s: %v", want.Name, err)
			continue
		}
		fc := got.Configuration
		if fc.Runtime != lambdatypes.RuntimeProvidedal2023 || !slices.Equal(fc.Architectures, []lambdatypes.Architecture{lambdatypes.ArchitectureArm64}) ||
			aws.ToString(fc.Handler) != "bootstrap" {
			t.Errorf("function %s: runtime %s, architectures %v, handler %s; want provided.al2023, [arm64], bootstrap",
				want.Name, fc.Runtime, fc.Architectures, aws.ToString(fc.Handler))
		}
		if aws.ToInt32(fc.Timeout) != want.TimeoutSeconds || aws.ToInt32(fc.MemorySize) != want.MemoryMB {
			t.Errorf("function %s: timeout %d s, memory %d MB; generated %d s, %d MB", want.Name, aws.ToInt32(fc.Timeout), aws.ToInt32(fc.MemorySize), want.TimeoutSeconds, want.MemoryMB)
		}
		// The uploaded code is the zip cmd/generate built.
		sum := sha256.Sum256(s.Files["dist/"+want.Zip])
		if aws.ToString(fc.CodeSha256) != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("function %s: code sha256 %s is not dist/%s's", want.Name, aws.ToString(fc.CodeSha256), want.Zip)
		}
		wantRole := "arn:aws:iam::" + account + ":role/" + want.RoleName
		if aws.ToString(fc.Role) != wantRole {
			t.Errorf("function %s: role %s, want %s", want.Name, aws.ToString(fc.Role), wantRole)
		}
		info := functionInfo{ARN: aws.ToString(fc.FunctionArn), RoleARN: wantRole, Env: map[string]string{}}
		if fc.Environment != nil {
			info.Env = fc.Environment.Variables
		}
		groups, err := c.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/" + want.Name)})
		if err != nil || len(groups.LogGroups) != 1 {
			t.Errorf("log group /aws/lambda/%s: %v %v", want.Name, err, groups)
		} else {
			g := groups.LogGroups[0]
			info.LogGroupARN = strings.TrimSuffix(aws.ToString(g.Arn), ":*")
			if aws.ToInt32(g.RetentionInDays) != s.Locals.Logging.RetentionDays {
				t.Errorf("log group %s: retention %d days, want %d", aws.ToString(g.LogGroupName), aws.ToInt32(g.RetentionInDays), s.Locals.Logging.RetentionDays)
			}
		}
		fns[key] = info
	}

	// Environment: forward knows where its state machines, queue and DLQ
	// are, and which function announces what it parks; deliver and notify
	// read everything else from routes.yaml.
	wantForward := map[string]string{}
	for role, name := range s.Locals.Env {
		switch role {
		case "state_machine_arn_prefix":
			wantForward[name] = "arn:aws:states:" + s.Config.Region + ":" + account + ":stateMachine:" + s.Config.Service + "-"
		case "queue_url":
			wantForward[name] = out.QueueURL
		case "dlq_url":
			wantForward[name] = out.DLQURL
		case "notify_function":
			wantForward[name] = s.Config.FunctionName("notify")
		case "probe_key":
			// deliver's, below.
		default:
			t.Errorf("generated env %s=%s is new to this test; add what the forward function must receive", role, name)
		}
	}
	want := map[string]map[string]string{"forward": wantForward, "deliver": {s.Locals.Env["probe_key"]: out.ProbeKeyARN}, "notify": {}}
	for key, info := range fns {
		if !reflect.DeepEqual(info.Env, want[key]) {
			t.Errorf("function %s environment %v, want %v", key, info.Env, want[key])
		}
	}
	return fns
}

func checkQueues(t *testing.T, c clients, s *staged, out applied) {
	t.Helper()
	q := s.Locals.Queue
	main := queueAttributes(t, c, out.QueueURL)
	dlq := queueAttributes(t, c, out.DLQURL)
	for _, a := range []struct {
		queue      map[string]string
		name, want string
	}{
		{main, "FifoQueue", "true"},
		{main, "ContentBasedDeduplication", "true"},
		{main, "SqsManagedSseEnabled", "true"},
		{main, "VisibilityTimeout", strconv.Itoa(q.VisibilityTimeoutSeconds)},
		{main, "MessageRetentionPeriod", strconv.Itoa(q.RetentionSeconds)},
		{main, "QueueArn", out.QueueARN},
		{dlq, "FifoQueue", "true"},
		{dlq, "ContentBasedDeduplication", "true"},
		{dlq, "SqsManagedSseEnabled", "true"},
		{dlq, "MessageRetentionPeriod", strconv.Itoa(q.DLQRetentionSeconds)},
		{dlq, "QueueArn", out.DLQARN},
	} {
		if a.queue[a.name] != a.want {
			which := "queue"
			if reflect.ValueOf(a.queue).Pointer() == reflect.ValueOf(dlq).Pointer() {
				which = "DLQ"
			}
			t.Errorf("%s %s = %q, want %q", which, a.name, a.queue[a.name], a.want)
		}
	}
	if !strings.HasSuffix(out.QueueURL, "/"+q.Name) || !strings.HasSuffix(out.DLQURL, "/"+q.DLQName) {
		t.Errorf("queue URLs %s, %s; want names %s, %s", out.QueueURL, out.DLQURL, q.Name, q.DLQName)
	}
	var redrive struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(main["RedrivePolicy"]), &redrive); err != nil {
		t.Errorf("queue RedrivePolicy %q: %v", main["RedrivePolicy"], err)
	}
	if redrive.DeadLetterTargetArn != out.DLQARN || jsonNumber(redrive.MaxReceiveCount) != q.MaxReceiveCount {
		t.Errorf("queue RedrivePolicy %s; want the DLQ %s after %d receives", main["RedrivePolicy"], out.DLQARN, q.MaxReceiveCount)
	}
	// Kept by moto only through the launcher's patch (moto 5.2.1 drops it).
	var allow struct {
		RedrivePermission string   `json:"redrivePermission"`
		SourceQueueArns   []string `json:"sourceQueueArns"`
	}
	if err := json.Unmarshal([]byte(dlq["RedriveAllowPolicy"]), &allow); err != nil ||
		allow.RedrivePermission != "byQueue" || !slices.Equal(allow.SourceQueueArns, []string{out.QueueARN}) {
		t.Errorf("DLQ RedriveAllowPolicy %q (%v); want byQueue from %s only", dlq["RedriveAllowPolicy"], err, out.QueueARN)
	}
}

// jsonNumber reads a number SQS may serialise as a JSON number or string.
func jsonNumber(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case string:
		i, _ := strconv.Atoi(n)
		return i
	}
	return -1
}

func queueAttributes(t *testing.T, c clients, queueURL string) map[string]string {
	t.Helper()
	got, err := c.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes %s: %v", queueURL, err)
	}
	return got.Attributes
}

func checkStateMachines(t *testing.T, c clients, s *staged, out applied, fns map[string]functionInfo) {
	t.Helper()
	if len(out.StateMachineARNs) != len(s.Locals.Routes) {
		t.Errorf("state machines %v; want one per route %v", out.StateMachineARNs, s.Locals.Routes)
	}
	for name, route := range s.Locals.Routes {
		arn := out.StateMachineARNs[name]
		wantARN := "arn:aws:states:" + s.Config.Region + ":" + account + ":stateMachine:" + route.StateMachineName
		if arn != wantARN {
			t.Errorf("route %s: state machine %s, want %s (the forwarder derives it)", name, arn, wantARN)
		}
		sm, err := c.sfn.DescribeStateMachine(context.Background(), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		if err != nil {
			t.Errorf("route %s: %v", name, err)
			continue
		}
		// moto reports the type only through the launcher's patch.
		if sm.Type != sfntypes.StateMachineTypeExpress {
			t.Errorf("state machine %s: type %s, want EXPRESS", route.StateMachineName, sm.Type)
		}
		if aws.ToString(sm.RoleArn) != "arn:aws:iam::"+account+":role/"+route.RoleName {
			t.Errorf("state machine %s: role %s, want %s", route.StateMachineName, aws.ToString(sm.RoleArn), route.RoleName)
		}
		lc := sm.LoggingConfiguration
		wantGroup := "arn:aws:logs:" + s.Config.Region + ":" + account + ":log-group:/aws/vendedlogs/states/" + route.StateMachineName + ":*"
		if lc == nil || string(lc.Level) != s.Locals.Logging.Level || lc.IncludeExecutionData != s.Locals.Logging.IncludeExecutionData ||
			len(lc.Destinations) != 1 || lc.Destinations[0].CloudWatchLogsLogGroup == nil ||
			aws.ToString(lc.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn) != wantGroup {
			t.Errorf("state machine %s logging %+v; want level %s, execution data %v, to %s",
				route.StateMachineName, lc, s.Locals.Logging.Level, s.Locals.Logging.IncludeExecutionData, wantGroup)
		}
		// The definition is workflows/<route>.asl.json with the two ARNs in.
		workflow := s.Files[strings.TrimPrefix(route.Workflow, "../")]
		if workflow == nil {
			t.Fatalf("route %s: no generated %s", name, route.Workflow)
		}
		wantDef := strings.NewReplacer("${deliver_function_arn}", fns["deliver"].ARN, "${notify_function_arn}", fns["notify"].ARN).Replace(string(workflow))
		var got, want any
		if err := json.Unmarshal([]byte(aws.ToString(sm.Definition)), &got); err != nil {
			t.Errorf("state machine %s definition: %v", route.StateMachineName, err)
		}
		if err := json.Unmarshal([]byte(wantDef), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("state machine %s definition differs from %s with the ARNs substituted:\n%s", route.StateMachineName, route.Workflow, aws.ToString(sm.Definition))
		}
	}
}

func checkMapping(t *testing.T, c clients, s *staged, out applied, fns map[string]functionInfo) {
	t.Helper()
	m, err := c.lambda.GetEventSourceMapping(context.Background(), &lambda.GetEventSourceMappingInput{UUID: aws.String(out.MappingUUID)})
	if err != nil {
		t.Fatalf("event source mapping: %v", err)
	}
	if aws.ToString(m.EventSourceArn) != out.QueueARN || aws.ToString(m.FunctionArn) != fns["forward"].ARN {
		t.Errorf("event source mapping %s → %s; want %s → %s", aws.ToString(m.EventSourceArn), aws.ToString(m.FunctionArn), out.QueueARN, fns["forward"].ARN)
	}
	if aws.ToInt32(m.BatchSize) != s.Locals.Queue.BatchSize {
		t.Errorf("event source mapping batch size %d, want %d", aws.ToInt32(m.BatchSize), s.Locals.Queue.BatchSize)
	}
	if !slices.Equal(m.FunctionResponseTypes, []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures}) {
		t.Errorf("event source mapping response types %v, want [ReportBatchItemFailures]", m.FunctionResponseTypes)
	}
	if m.ScalingConfig == nil || aws.ToInt32(m.ScalingConfig.MaximumConcurrency) != s.Locals.Queue.MaxConcurrency {
		t.Errorf("event source mapping scaling %+v, want maximum concurrency %d", m.ScalingConfig, s.Locals.Queue.MaxConcurrency)
	}
}

// statement is one IAM policy statement; Action and Resource may be a string
// or a list.
type statement struct {
	Sid       string
	Effect    string
	Action    any
	Resource  any
	Principal map[string]any
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// policyDocument decodes a document as IAM returns it (URL-encoded JSON).
func policyDocument(t *testing.T, raw string) []statement {
	t.Helper()
	if dec, err := url.QueryUnescape(raw); err == nil {
		raw = dec
	}
	var doc struct{ Statement []statement }
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("policy document %q: %v", raw, err)
	}
	return doc.Statement
}

// checkPolicies reads every role's inline policies back from IAM and checks
// least privilege (invariant 7, docs/architecture.md): each statement names resources
// the module created or routes.yaml references, the one "*" is the commented
// log-delivery exception, and the permissions the pipeline needs are there.
func checkPolicies(t *testing.T, c clients, s *staged, out applied, fns map[string]functionInfo, topicARN string) {
	t.Helper()
	ctx := context.Background()
	allowed := map[string]bool{out.QueueARN: true, out.DLQARN: true, topicARN: true, out.ProbeKeyARN: true}
	for _, arn := range out.StateMachineARNs {
		allowed[arn] = true
	}
	for _, f := range fns {
		allowed[f.ARN], allowed[f.ARN+":*"], allowed[f.LogGroupARN+":*"] = true, true, true
	}
	ssmPrefix := "arn:aws:ssm:" + s.Config.Region + ":" + account + ":parameter/"
	allowed[ssmPrefix+strings.TrimPrefix(s.Config.Target.Signing.SSMParameter, "/")] = true
	allowed[ssmPrefix+strings.TrimPrefix(s.Config.Notify.SlackWebhookURL.SSMParameter, "/")] = true
	var verifyARNs []string // what the forwarder reads: the routes' verification secrets
	for _, r := range s.Config.Routes {
		if r.Verify != nil {
			arn := ssmPrefix + strings.TrimPrefix(r.Verify.Secret.SSMParameter, "/")
			allowed[arn] = true
			if !slices.Contains(verifyARNs, arn) {
				verifyARNs = append(verifyARNs, arn)
			}
		}
	}
	slices.Sort(verifyARNs)

	roles := map[string]string{s.Locals.Ingress.RoleName: "apigateway.amazonaws.com"}
	for _, f := range s.Locals.Functions {
		roles[f.RoleName] = "lambda.amazonaws.com"
	}
	for _, r := range s.Locals.Routes {
		roles[r.RoleName] = "states.amazonaws.com"
	}
	granted := map[string]map[string][]string{} // role → action → resources
	for role, service := range roles {
		got, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
		if err != nil {
			t.Errorf("role %s: %v", role, err)
			continue
		}
		trust := policyDocument(t, aws.ToString(got.Role.AssumeRolePolicyDocument))
		if len(trust) != 1 || !slices.Equal(strs(trust[0].Principal["Service"]), []string{service}) || !slices.Equal(strs(trust[0].Action), []string{"sts:AssumeRole"}) {
			t.Errorf("role %s trusts %+v; want only %s", role, trust, service)
		}
		names, err := c.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
		if err != nil || len(names.PolicyNames) == 0 {
			t.Errorf("role %s inline policies: %v %v", role, names, err)
			continue
		}
		granted[role] = map[string][]string{}
		for _, name := range names.PolicyNames {
			p, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range policyDocument(t, aws.ToString(p.PolicyDocument)) {
				if st.Effect != "Allow" {
					t.Errorf("role %s statement %s: effect %s", role, st.Sid, st.Effect)
				}
				for _, res := range strs(st.Resource) {
					switch {
					case res == "*" && st.Sid == "VendedLogDelivery" && service == "states.amazonaws.com":
						// AWS requires "*" for these actions; the module comments why.
					case !allowed[res]:
						t.Errorf("role %s statement %s: resource %q is not one the module created or routes.yaml names", role, st.Sid, res)
					}
				}
				for _, action := range strs(st.Action) {
					if strings.Contains(action, "*") {
						t.Errorf("role %s statement %s: wildcard action %s", role, st.Sid, action)
					}
					granted[role][action] = append(granted[role][action], strs(st.Resource)...)
				}
			}
		}
	}
	exceptionIsCommented(t)

	smARNs := slices.Sorted(mapValues(out.StateMachineARNs))
	for _, need := range []struct {
		role, action string
		resources    []string
	}{
		{s.Locals.Ingress.RoleName, "sqs:SendMessage", []string{out.QueueARN}},
		{s.Locals.Functions["forward"].RoleName, "states:StartSyncExecution", smARNs},
		{s.Locals.Functions["forward"].RoleName, "sqs:ReceiveMessage", []string{out.QueueARN}},
		{s.Locals.Functions["forward"].RoleName, "sqs:DeleteMessage", []string{out.QueueARN}},
		{s.Locals.Functions["forward"].RoleName, "sqs:ChangeMessageVisibility", []string{out.QueueARN}},
		// The forwarder parks failed messages in the DLQ itself (WEBHOOKQ_DLQ_URL).
		{s.Locals.Functions["forward"].RoleName, "sqs:SendMessage", []string{out.DLQARN}},
		{s.Locals.Functions["forward"].RoleName, "logs:PutLogEvents", []string{fns["forward"].LogGroupARN + ":*"}},
		// The forwarder verifies inbound signatures before any execution.
		{s.Locals.Functions["forward"].RoleName, "ssm:GetParameter", verifyARNs},
		{s.Locals.Functions["deliver"].RoleName, "ssm:GetParameter", nil},
		// deliver checks probe MACs with the probe key, and nothing more.
		{s.Locals.Functions["deliver"].RoleName, "kms:VerifyMac", []string{out.ProbeKeyARN}},
		{s.Locals.Functions["notify"].RoleName, "sns:Publish", []string{topicARN}},
	} {
		got, ok := granted[need.role][need.action]
		if !ok {
			t.Errorf("role %s may not %s", need.role, need.action)
			continue
		}
		if need.resources != nil && !slices.Equal(slices.Sorted(slices.Values(got)), need.resources) {
			t.Errorf("role %s: %s on %v, want %v", need.role, need.action, got, need.resources)
		}
	}
	for _, r := range s.Locals.Routes {
		got := slices.Sorted(slices.Values(granted[r.RoleName]["lambda:InvokeFunction"]))
		want := slices.Sorted(slices.Values([]string{fns["deliver"].ARN, fns["deliver"].ARN + ":*", fns["notify"].ARN, fns["notify"].ARN + ":*"}))
		if !slices.Equal(got, want) {
			t.Errorf("role %s: lambda:InvokeFunction on %v, want %v", r.RoleName, got, want)
		}
	}
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// exceptionIsCommented checks that the module explains its one "*" in a
// comment right above the statement (invariant 7: each exception commented).
func exceptionIsCommented(t *testing.T) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "terraform", "workflows.tf"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	for i, line := range lines {
		if strings.Contains(line, `"VendedLogDelivery"`) {
			for j := i - 1; j >= 0 && j >= i-3; j-- {
				if strings.HasPrefix(strings.TrimSpace(lines[j]), "#") {
					return
				}
			}
		}
	}
	t.Error(`terraform/workflows.tf: the VendedLogDelivery statement (Resource "*") has no comment saying why`)
}

// checkIngress checks the routes the module added to the existing API.
func checkIngress(t *testing.T, c clients, s *staged, out applied) {
	t.Helper()
	ctx := context.Background()
	routes, err := c.apigw.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(out.APIID)})
	if err != nil {
		t.Fatal(err)
	}
	integrations, err := c.apigw.GetIntegrations(ctx, &apigatewayv2.GetIntegrationsInput{ApiId: aws.String(out.APIID)})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]int{}
	for i, in := range integrations.Items {
		byID[aws.ToString(in.IntegrationId)] = i
	}
	ingressRole := "arn:aws:iam::" + account + ":role/" + s.Locals.Ingress.RoleName
	found := 0
	for _, r := range routes.Items {
		for name, route := range s.Locals.Routes {
			if aws.ToString(r.RouteKey) != "POST "+route.Path {
				continue
			}
			found++
			i, ok := byID[strings.TrimPrefix(aws.ToString(r.Target), "integrations/")]
			if !ok {
				t.Errorf("route %s targets %s, not an integration of the API", name, aws.ToString(r.Target))
				continue
			}
			in := integrations.Items[i]
			if aws.ToString(in.IntegrationSubtype) != "SQS-SendMessage" || aws.ToString(in.CredentialsArn) != ingressRole ||
				in.RequestParameters["QueueUrl"] != out.QueueURL || in.RequestParameters["MessageBody"] != "$request.body" {
				t.Errorf("route %s integration: subtype %s, role %s, parameters %v", name, aws.ToString(in.IntegrationSubtype), aws.ToString(in.CredentialsArn), in.RequestParameters)
			}
		}
	}
	if found != len(s.Locals.Routes) {
		t.Errorf("the API has %d of the %d routes: %+v", found, len(s.Locals.Routes), routes.Items)
	}
}

// checkNothingLeft checks that destroy removed everything apply created and
// left the API that existed before.
func checkNothingLeft(t *testing.T, c clients, s *staged, out applied) {
	t.Helper()
	ctx := context.Background()
	queues, err := c.sqs.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(s.Config.Service)})
	if err != nil || len(queues.QueueUrls) != 0 {
		t.Errorf("queues left after destroy: %v %v", queues.QueueUrls, err)
	}
	fns, err := c.lambda.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(fns.Functions) != 0 {
		t.Errorf("functions left after destroy: %d %v", len(fns.Functions), err)
	}
	mappings, err := c.lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{})
	if err != nil || len(mappings.EventSourceMappings) != 0 {
		t.Errorf("event source mappings left after destroy: %d %v", len(mappings.EventSourceMappings), err)
	}
	sms, err := c.sfn.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(sms.StateMachines) != 0 {
		t.Errorf("state machines left after destroy: %v %v", sms.StateMachines, err)
	}
	roles, err := c.iam.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Roles {
		if strings.HasPrefix(aws.ToString(r.RoleName), s.Config.Service) {
			t.Errorf("role left after destroy: %s", aws.ToString(r.RoleName))
		}
	}
	// A KMS key is never deleted at once: destroy schedules it.
	if key, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(out.ProbeKeyARN)}); err != nil || key.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion {
		t.Errorf("probe key after destroy: %v %v; want it pending deletion", key, err)
	}
	for _, prefix := range []string{"/aws/lambda/", "/aws/vendedlogs/states/"} {
		groups, err := c.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(prefix)})
		if err != nil || len(groups.LogGroups) != 0 {
			t.Errorf("log groups %s* left after destroy: %d %v", prefix, len(groups.LogGroups), err)
		}
	}
	routes, err := c.apigw.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(out.APIID)})
	if err != nil {
		t.Errorf("the existing API %s is gone after destroy: %v", out.APIID, err)
	} else if len(routes.Items) != 0 {
		t.Errorf("routes left on the existing API after destroy: %d", len(routes.Items))
	}
}
