package statemachine

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/webhook"
)

// TestMotoExecutorAgrees runs the generated workflow on moto's Step Functions
// executor (moto 5.2.1, the LocalStack-derived interpreter) where it can run
// it, and on this runner, and compares status, error, the states visited and
// their data.
//
// moto's gaps shape the cases: its Lambda without Docker ("lambda simple")
// always succeeds with a queued answer, so the success path is compared; a
// Docker mode without Docker gives the one failure it can produce (every
// invoke fails with the error name "Exception"). Retries would
// sleep for real and a second execution in one region fails (deep copy of
// the backend), so each case has its own region and no retry.
func TestMotoExecutorAgrees(t *testing.T) {
	t.Parallel()
	endpoint := testenv.Moto(t)
	role := createRole(t, endpoint)
	name, file := generatedWorkflow(t, config.NotifyFinal)
	definition := strings.NewReplacer("${deliver_function_arn}", deliverFunction, "${notify_function_arn}", notifyFunction).Replace(string(file))
	answer := `{"status":204,"attempt":1,"latencyMs":3}`

	cases := []struct {
		name, region string
		docker       bool // moto's Lambda runs functions in Docker (absent here)
		functions    []string
		// mine plays the same functions on this runner.
		mine          Invoker
		wantStatus    Status
		wantError     string
		compareOutput bool
	}{
		{
			name: "success", region: "ap-northeast-1", functions: []string{deliverFunction, notifyFunction},
			mine:       InvokerFunc(func(context.Context, string, []byte) ([]byte, error) { return []byte(answer), nil }),
			wantStatus: StatusSucceeded, compareOutput: true,
		},
		{
			// With Docker mode on and no Docker, every invoke fails with the
			// error name "Exception": Deliver fails, the final attempt
			// notifies, Notify fails too, and Rethrow keeps Deliver's error.
			name: "every function fails, notify failure keeps the delivery error", region: "eu-west-1", docker: true,
			functions: []string{deliverFunction, notifyFunction},
			mine: InvokerFunc(func(context.Context, string, []byte) ([]byte, error) {
				return nil, &Error{Name: "Exception", Cause: "error running docker"}
			}),
			wantStatus: StatusFailed, wantError: "Exception",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			motoAPI(t, endpoint, "/moto-api/config", mustJSON(t, map[string]any{
				"stepfunctions": map[string]any{"execute_state_machine": true},
				"lambda":        map[string]any{"use_docker": tc.docker},
			}))
			cfg := testenv.AWSConfig(endpoint, tc.region)
			lc := lambda.NewFromConfig(cfg)
			for _, fn := range tc.functions {
				if _, err := lc.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
					FunctionName: aws.String(fn), Role: aws.String(role), Runtime: lambdatypes.RuntimeProvidedal2023,
					Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: bootstrapZip(t)},
				}); err != nil {
					t.Fatal(err)
				}
			}
			motoAPI(t, endpoint, "/moto-api/static/lambda-simple/response", mustJSON(t, map[string]any{"region": tc.region, "results": []string{answer}}))
			input := envelope(t, true)

			sc := sfn.NewFromConfig(cfg)
			sm, err := sc.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
				Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String(role), Type: sfntypes.StateMachineTypeExpress,
			})
			if err != nil {
				t.Fatal(err)
			}
			started, err := sc.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("moto-1"), Input: aws.String(string(input))})
			if err != nil {
				t.Fatal(err)
			}
			var described *sfn.DescribeExecutionOutput
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				if described, err = sc.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: started.ExecutionArn}); err != nil {
					t.Fatal(err)
				}
				if described.Status != sfntypes.ExecutionStatusRunning || time.Now().After(deadline) {
					break
				}
			}
			history, err := sc.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn, MaxResults: 1000})
			if err != nil {
				t.Fatal(err)
			}
			theirStates, theirOutputs := motoStates(history.Events)

			clock := newVirtualClock()
			exec, err := (&Runner{Invoker: tc.mine, Clock: clock, Region: tc.region}).Execute(context.Background(), generatedMachine(t, config.NotifyFinal), "mine", input)
			if err != nil {
				t.Fatal(err)
			}
			var myStates []string
			var myOutputs []json.RawMessage
			for _, e := range exec.Events {
				if strings.HasSuffix(string(e.Type), "StateEntered") || strings.HasSuffix(string(e.Type), "StateExited") {
					myStates = append(myStates, string(e.Type)+":"+e.State)
				}
				if strings.HasSuffix(string(e.Type), "StateExited") {
					myOutputs = append(myOutputs, e.Output)
				}
			}

			if string(described.Status) != string(exec.Status) || aws.ToString(described.Error) != exec.Error ||
				exec.Status != tc.wantStatus || exec.Error != tc.wantError {
				t.Fatalf("moto %s %s (%s); runner %s %s (%s); want %s %s", described.Status, aws.ToString(described.Error), aws.ToString(described.Cause),
					exec.Status, exec.Error, exec.Cause, tc.wantStatus, tc.wantError)
			}
			if !slices.Equal(myStates, theirStates) {
				t.Errorf("states visited:\nrunner %v\nmoto   %v", myStates, theirStates)
			}
			if tc.compareOutput {
				if !jsonEqual(t, exec.Output, []byte(aws.ToString(described.Output))) {
					t.Errorf("output: runner %s, moto %s", exec.Output, aws.ToString(described.Output))
				}
				for i := range min(len(myOutputs), len(theirOutputs)) {
					if !jsonEqual(t, myOutputs[i], theirOutputs[i]) {
						t.Errorf("state output %d: runner %s, moto %s", i, myOutputs[i], theirOutputs[i])
					}
				}
			}
			// What Deliver sent: the DeliverRequest with retryCount 0, on both.
			var req webhook.DeliverRequest
			if params := motoTaskParameters(history.Events, deliverFunction); params == nil || json.Unmarshal(params, &req) != nil || req.Webhook.WebhookID != "wh-1" || req.RetryCount != 0 {
				t.Errorf("moto's Deliver parameters %s", params)
			}
		})
	}
}

// motoStates lists the state entered/exited events as "<Type>:<state>" and
// the exited states' outputs.
func motoStates(events []sfntypes.HistoryEvent) (states []string, outputs []json.RawMessage) {
	var current string
	for _, e := range events {
		typ := string(e.Type)
		switch {
		case e.StateEnteredEventDetails != nil:
			current = aws.ToString(e.StateEnteredEventDetails.Name)
			states = append(states, typ+":"+current)
		case e.StateExitedEventDetails != nil:
			states = append(states, typ+":"+aws.ToString(e.StateExitedEventDetails.Name))
			outputs = append(outputs, json.RawMessage(aws.ToString(e.StateExitedEventDetails.Output)))
		}
	}
	return states, outputs
}

// motoTaskParameters is the Payload a TaskScheduled event sent to fn.
func motoTaskParameters(events []sfntypes.HistoryEvent, fn string) json.RawMessage {
	for _, e := range events {
		if e.TaskScheduledEventDetails == nil {
			continue
		}
		var p struct {
			FunctionName string          `json:"FunctionName"`
			Payload      json.RawMessage `json:"Payload"`
		}
		if json.Unmarshal([]byte(aws.ToString(e.TaskScheduledEventDetails.Parameters)), &p) == nil && p.FunctionName == fn {
			return p.Payload
		}
	}
	return nil
}

func motoAPI(t *testing.T, endpoint, path, body string) {
	t.Helper()
	resp, err := http.Post(endpoint+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("moto %s: %s", path, resp.Status)
	}
}

// createRole creates the execution role with IAM's query API (moto checks
// that a Lambda function's role exists).
func createRole(t *testing.T, endpoint string) string {
	t.Helper()
	form := url.Values{
		"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"webhookq-local"},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[]}`},
	}
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// moto routes a request by the service in the credential scope.
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20261128/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("IAM CreateRole on moto: %s", resp.Status)
	}
	return "arn:aws:iam::123456789012:role/webhookq-local"
}

func bootstrapZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.Create("bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("#!/bin/sh\n")); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
