package sfnapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
	"github.com/webhookq/webhookq/internal/webhook"
)

const (
	region  = "ap-northeast-1"
	account = "111122223333"
)

// functions answers deliver by the envelope's "group": "fail" fails
// permanently, anything else succeeds.
var functions = statemachine.InvokerFunc(func(_ context.Context, fn string, payload []byte) ([]byte, error) {
	switch fn {
	case "local-deliver":
		var req webhook.DeliverRequest
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, err
		}
		if req.Webhook.Group == "fail" {
			return nil, &statemachine.FunctionError{Type: webhook.ErrPermanent, Message: "target answered 400"}
		}
		return json.Marshal(webhook.DeliverResult{Status: 200, Attempt: req.Attempt()})
	case "local-notify":
		return []byte(`null`), nil
	}
	return nil, errors.New("no such function " + fn)
})

// newTwin serves the generated workflow of one route and returns the
// endpoint and the state machine's ARN.
func newTwin(t *testing.T) (endpoint, arn string) {
	t.Helper()
	route := config.Route{
		Name: "approval-progress", Timeout: 10 * time.Second,
		Retry:  config.Retry{MaxAttempts: 2, Interval: time.Second, BackoffRate: 2, Jitter: config.JitterFull},
		Notify: config.Notify{When: config.NotifyFinal},
	}
	cfg := &config.Config{Service: "sales-approvals", Region: region, Routes: []config.Route{route}}
	def, err := asl.Marshal(asl.Build(cfg, route))
	if err != nil {
		t.Fatal(err)
	}
	m, err := statemachine.Render(cfg.StateMachineName(route), def, map[string]string{
		asl.DeliverFunctionARNVar: "local-deliver", asl.NotifyFunctionARNVar: "local-notify",
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(&statemachine.Runner{Invoker: functions, Region: region, Account: account, History: &statemachine.MemoryHistory{}})
	arn, err = srv.Register(m)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL, arn
}

// client is the forward function's client (forwarder.NewStatesClient),
// pointed at the twin.
func client(endpoint string) *sfn.Client {
	return forwarder.NewStatesClient(testenv.AWSConfig(endpoint, region), 5*time.Minute, forwarder.DefaultConcurrency)
}

func envelopeJSON(t *testing.T, group string) string {
	t.Helper()
	e := webhook.Envelope{WebhookID: "wh-9", Route: "approval-progress", Group: group, MessageID: "m", ReceiveCount: 1}
	e.EncodeBody([]byte("payload"))
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStartSyncExecutionWithTheAWSSDK(t *testing.T) {
	t.Parallel()
	endpoint, arn := newTwin(t)
	c := client(endpoint)
	ctx := context.Background()

	ok, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{
		StateMachineArn: aws.String(arn), Name: aws.String("msg-1"), Input: aws.String(envelopeJSON(t, "g")), TraceHeader: aws.String("Root=1-abc"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok.Status != types.SyncExecutionStatusSucceeded || aws.ToString(ok.Name) != "msg-1" || aws.ToString(ok.StateMachineArn) != arn {
		t.Errorf("status %s name %s arn %s", ok.Status, aws.ToString(ok.Name), aws.ToString(ok.StateMachineArn))
	}
	wantPrefix := "arn:aws:states:" + region + ":" + account + ":express:sales-approvals-approval-progress:msg-1:"
	if !strings.HasPrefix(aws.ToString(ok.ExecutionArn), wantPrefix) {
		t.Errorf("execution ARN %s, want prefix %s", aws.ToString(ok.ExecutionArn), wantPrefix)
	}
	var res webhook.DeliverResult
	if err := json.Unmarshal([]byte(aws.ToString(ok.Output)), &res); err != nil || res.Status != 200 || res.Attempt != 1 {
		t.Errorf("output %q (%v)", aws.ToString(ok.Output), err)
	}
	if ok.StartDate == nil || ok.StopDate == nil || ok.StopDate.Before(*ok.StartDate) || time.Since(*ok.StartDate) > time.Minute {
		t.Errorf("dates %v %v", ok.StartDate, ok.StopDate)
	}
	if !ok.InputDetails.Included || !ok.OutputDetails.Included || aws.ToString(ok.Input) != envelopeJSON(t, "g") || aws.ToString(ok.TraceHeader) != "Root=1-abc" {
		t.Errorf("input %q details %+v %+v trace %q", aws.ToString(ok.Input), ok.InputDetails, ok.OutputDetails, aws.ToString(ok.TraceHeader))
	}
	if ok.BillingDetails == nil || ok.BillingDetails.BilledDurationInMilliseconds < 100 || ok.BillingDetails.BilledMemoryUsedInMB != 64 {
		t.Errorf("billing %+v", ok.BillingDetails)
	}

	failed, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String(envelopeJSON(t, "fail"))})
	if err != nil {
		t.Fatal(err)
	}
	if failed.Status != types.SyncExecutionStatusFailed || aws.ToString(failed.Error) != webhook.ErrPermanent || failed.Output != nil {
		t.Errorf("status %s error %s output %v", failed.Status, aws.ToString(failed.Error), failed.Output)
	}
	var cause statemachine.FunctionError
	if err := json.Unmarshal([]byte(aws.ToString(failed.Cause)), &cause); err != nil || cause.Message != "target answered 400" {
		t.Errorf("cause %q", aws.ToString(failed.Cause))
	}

	meta, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String(envelopeJSON(t, "g")), IncludedData: types.IncludedDataMetadataOnly})
	if err != nil {
		t.Fatal(err)
	}
	if meta.Input != nil || meta.Output != nil || meta.InputDetails.Included {
		t.Errorf("METADATA_ONLY answered data: %+v", meta)
	}
}

func TestStartSyncExecutionErrors(t *testing.T) {
	t.Parallel()
	endpoint, arn := newTwin(t)
	c := client(endpoint)
	ctx := context.Background()
	cases := []struct {
		name  string
		in    sfn.StartSyncExecutionInput
		typed func(error) bool
		code  string
	}{
		{"unknown state machine", sfn.StartSyncExecutionInput{StateMachineArn: aws.String(strings.Replace(arn, "approval-progress", "nope", 1))}, isA[*types.StateMachineDoesNotExist], "StateMachineDoesNotExist"},
		{"malformed ARN", sfn.StartSyncExecutionInput{StateMachineArn: aws.String("sales-approvals-approval-progress")}, isA[*types.InvalidArn], "InvalidArn"},
		{"input is not JSON", sfn.StartSyncExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String("{nope")}, isA[*types.InvalidExecutionInput], "InvalidExecutionInput"},
		{"invalid name", sfn.StartSyncExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("a b")}, isA[*types.InvalidName], "InvalidName"},
		{"input too large", sfn.StartSyncExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String(`"` + strings.Repeat("x", MaxInputBytes) + `"`)}, nil, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.StartSyncExecution(ctx, &tc.in)
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tc.code {
				t.Fatalf("error %v, want %s", err, tc.code)
			}
			// ValidationException is not in StartSyncExecution's model: the SDK
			// reports it by code only, as it would from AWS.
			if tc.typed != nil && !tc.typed(err) {
				t.Errorf("error %T is not the SDK's typed %s", err, tc.code)
			}
		})
	}
}

func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func TestDescribeAndListStateMachines(t *testing.T) {
	t.Parallel()
	endpoint, arn := newTwin(t)
	c := client(endpoint)
	ctx := context.Background()
	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Type != types.StateMachineTypeExpress || aws.ToString(d.Name) != "sales-approvals-approval-progress" || !strings.Contains(aws.ToString(d.Definition), asl.Placeholder(asl.DeliverFunctionARNVar)) {
		t.Errorf("describe: type %s name %s", d.Type, aws.ToString(d.Name))
	}
	l, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.StateMachines) != 1 || aws.ToString(l.StateMachines[0].StateMachineArn) != arn {
		t.Errorf("list %+v", l.StateMachines)
	}
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "UnknownOperationException" {
		t.Errorf("an unsupported operation: %v", err)
	}
}

func TestUntrustedRequests(t *testing.T) {
	t.Parallel()
	endpoint, arn := newTwin(t)
	for _, tc := range []struct {
		name, target, body string
		status             int
		code               string
	}{
		{"no target", "", `{}`, 400, "UnknownOperationException"},
		{"garbage body", "AWSStepFunctions.StartSyncExecution", `{"stateMachineArn":`, 400, "SerializationException"},
		{"wrong field type", "AWSStepFunctions.StartSyncExecution", `{"stateMachineArn":7}`, 400, "SerializationException"},
		{"missing ARN", "AWSStepFunctions.StartSyncExecution", `{}`, 400, "ValidationException"},
		{"input not a string", "AWSStepFunctions.StartSyncExecution", `{"stateMachineArn":"` + arn + `","input":{}}`, 400, "SerializationException"},
		{"huge body", "AWSStepFunctions.StartSyncExecution", strings.Repeat(" ", maxRequestBytes+10), 413, "RequestEntityTooLargeException"},
	} {
		req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", tc.target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Type string `json:"__type"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body.Type != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, resp.StatusCode, body.Type, tc.status, tc.code)
		}
	}
}

// TestAWSCLIStartSyncExecution drives the twin with the AWS CLI, the way an
// operator would. AWS CLI v1 (botocore) also puts "sync-" before the host of
// StartSyncExecution, even with --endpoint-url; botocore's
// AWS_DISABLE_HOST_PREFIX_INJECTION=true (config file:
// disable_host_prefix_injection = true) turns that off.
func TestAWSCLIStartSyncExecution(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the AWS CLI is not on PATH (pip install awscli)")
	}
	testenv.AWSEnv(t, region)
	t.Setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
	endpoint, arn := newTwin(t)
	input := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(input, []byte(envelopeJSON(t, "g")), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(aws, "--endpoint-url", endpoint, "stepfunctions", "start-sync-execution",
		"--state-machine-arn", arn, "--name", "cli-1", "--input", "file://"+input, "--output", "json")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws stepfunctions start-sync-execution: %v\n%s", err, out)
	}
	var res struct {
		Status string `json:"status"`
		Name   string `json:"name"`
		Output string `json:"output"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Status != "SUCCEEDED" || res.Name != "cli-1" || !strings.Contains(res.Output, `"status":200`) {
		t.Errorf("CLI answer %s", out)
	}
}

// FuzzStartSyncExecution: no request body panics the server, and every
// answer is JSON with a status the protocol allows.
func FuzzStartSyncExecution(f *testing.F) {
	m, err := statemachine.Render("sm", []byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"v.$":"$.v"},"End":true}}}`), nil)
	if err != nil {
		f.Fatal(err)
	}
	srv := New(&statemachine.Runner{Invoker: functions})
	arn, err := srv.Register(m)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"stateMachineArn":"` + arn + `","input":"{\"v\":1}"}`)
	f.Add(`{"stateMachineArn":"` + arn + `","input":"{}","name":"x"}`)
	f.Add(`{"stateMachineArn":"arn:aws:states:::::","input":"[]"}`)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSStepFunctions.StartSyncExecution")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", rec.Body)
		}
	})
}
