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

	"github.com/webhookq/webhookq/internal/testenv"
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
