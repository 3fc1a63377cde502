package redrive

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// TestPausedAgainstMoto disables and re-enables a real event source mapping
// (moto's Lambda API) around the work, also when the work fails.
func TestPausedAgainstMoto(t *testing.T) {
	t.Parallel()
	endpoint := testenv.Moto(t)
	cfg := testenv.AWSConfig(endpoint, "us-east-1")
	ctx := context.Background()

	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("forward"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("bootstrap")
	w.Write([]byte("#!/bin/sh\n"))
	zw.Close()
	lc := lambda.NewFromConfig(cfg)
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("svc-forward"), Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: zipped.Bytes()},
	}); err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("svc.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	esm, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("svc-forward"), EventSourceArn: aws.String(attrs.Attributes["QueueArn"]), BatchSize: aws.Int32(10),
	})
	if err != nil {
		t.Fatal(err)
	}
	uuid := aws.ToString(esm.UUID)
	state := func() string {
		out, err := lc.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.State)
	}
	var lines []string
	progress := func(s string) { lines = append(lines, s) }

	var during string
	if err := Paused(ctx, lc, uuid, 50*time.Millisecond, progress, func() error { during = state(); return nil }); err != nil {
		t.Fatal(err)
	}
	if during != "Disabled" || state() != "Enabled" {
		t.Fatalf("state during the work %q, after %q; want Disabled then Enabled", during, state())
	}

	boom := errors.New("send failed")
	err = Paused(ctx, lc, uuid, 50*time.Millisecond, progress, func() error { return boom })
	if !errors.Is(err, boom) || state() != "Enabled" {
		t.Fatalf("failing work: err %v, state after %q; want the work's error and Enabled", err, state())
	}
	if len(lines) < 4 {
		t.Fatalf("progress lines %q, want a pause and a resume line per run", lines)
	}
}

// fakeESM is an event source mapping that reaches Enabled on the first read
// after a resume, and Disabled never when stuck, else at once.
type fakeESM struct {
	stuck   bool
	updates []bool
	state   string
}

func (f *fakeESM) UpdateEventSourceMapping(_ context.Context, in *lambda.UpdateEventSourceMappingInput, _ ...func(*lambda.Options)) (*lambda.UpdateEventSourceMappingOutput, error) {
	f.updates = append(f.updates, aws.ToBool(in.Enabled))
	f.state = "Disabling"
	if aws.ToBool(in.Enabled) {
		f.state = "Enabling"
	}
	return &lambda.UpdateEventSourceMappingOutput{}, nil
}

func (f *fakeESM) GetEventSourceMapping(context.Context, *lambda.GetEventSourceMappingInput, ...func(*lambda.Options)) (*lambda.GetEventSourceMappingOutput, error) {
	switch {
	case f.updates[len(f.updates)-1]:
		f.state = "Enabled"
	case !f.stuck:
		f.state = "Disabled"
	}
	return &lambda.GetEventSourceMappingOutput{State: aws.String(f.state)}, nil
}

// An interrupt while waiting for the mapping to report Disabled still
// resumes it: the disable was already asked for, and a forwarder left
// paused stops every delivery.
func TestPausedResumesWhenInterruptedWhilePausing(t *testing.T) {
	t.Parallel()
	esm := &fakeESM{stuck: true} // never reports Disabled
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	ran := false
	err := Paused(ctx, esm, "uuid-1", time.Millisecond, func(string) {}, func() error { ran = true; return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the interrupt", err)
	}
	if ran {
		t.Error("the work ran although the pause never took effect")
	}
	if len(esm.updates) != 2 || esm.updates[0] || !esm.updates[1] {
		t.Fatalf("updates %v, want a pause then a resume", esm.updates)
	}
}
