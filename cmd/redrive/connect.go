package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/webhookq/webhookq/internal/awssdk"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/tfrun"
)

// environment is what a command works on once flags, outputs and config are resolved.
type environment struct {
	sqs              *sqs.Client
	lambda           *lambda.Client
	queueURL, dlqURL string
	esmUUID          string
}

func connect(ctx context.Context, o *options) (*environment, error) {
	env := &environment{queueURL: o.queueURL, dlqURL: o.dlqURL, esmUUID: o.esmUUID}
	var queueName, dlqName string
	region := o.region
	if env.queueURL == "" && o.terraformDir != "" {
		out, err := terraformOutputs(ctx, o.terraformDir)
		if err != nil {
			return nil, err
		}
		env.queueURL, env.dlqURL = out.QueueURL, out.DLQURL
		if env.esmUUID == "" {
			env.esmUUID = out.ESMUUID
		}
		if env.queueURL == "" || env.dlqURL == "" {
			return nil, fmt.Errorf("terraform outputs in %s have no queue_url / dlq_url: was it applied?", o.terraformDir)
		}
	}
	if env.queueURL == "" || region == "" {
		cfg, err := config.Load(o.cfgPath)
		switch {
		case err != nil && env.queueURL == "":
			return nil, fmt.Errorf("no --queue-url/--dlq-url or --terraform-dir, and %w", err)
		case err != nil:
			// The queues are known; the config would only have named the
			// region, which is then the SDK's (--region's documented default).
		default:
			queueName, dlqName = cfg.QueueName(), cfg.DLQName()
			if region == "" {
				region = cfg.Region
			}
		}
	}
	opts := []func(*awsconfig.LoadOptions) error{}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	awsCfg, err := awssdk.LoadConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if o.endpoint != "" {
		awsCfg.BaseEndpoint = aws.String(o.endpoint)
		if loopback(o.endpoint) {
			if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
				// The twin and moto accept any credentials; a newcomer
				// following docs/local.md has none configured.
				awsCfg.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
			}
		}
	}
	env.sqs = sqs.NewFromConfig(awsCfg)
	env.lambda = lambda.NewFromConfig(awsCfg)
	if env.queueURL == "" {
		for _, q := range []struct {
			name string
			dst  *string
		}{{queueName, &env.queueURL}, {dlqName, &env.dlqURL}} {
			out, err := env.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q.name)})
			if err != nil {
				return nil, fmt.Errorf("find queue %s: %w", q.name, err)
			}
			*q.dst = aws.ToString(out.QueueUrl)
		}
	}
	return env, nil
}

// tfOutputs are the module's outputs redrive reads (terraform/outputs.tf).
type tfOutputs struct {
	QueueURL, DLQURL, ESMUUID string
}

func terraformOutputs(ctx context.Context, dir string) (tfOutputs, error) {
	bin, err := tfrun.Find("--terraform-dir")
	if err != nil {
		return tfOutputs{}, err
	}
	outs, err := tfrun.StringOutputs(ctx, bin, dir)
	if err != nil {
		return tfOutputs{}, err
	}
	return tfOutputs{QueueURL: outs["queue_url"], DLQURL: outs["dlq_url"], ESMUUID: outs["forward_event_source_mapping_uuid"]}, nil
}

// explain turns the AWS errors an operator meets into what to do about them.
func explain(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation":
			return err.Error() + "\n  → the caller lacks a permission: it needs sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility, " +
				"sqs:GetQueueAttributes on the DLQ; sqs:SendMessage, sqs:GetQueueAttributes, sqs:GetQueueUrl on the source queue; " +
				"sqs:StartMessageMoveTask, sqs:ListMessageMoveTasks, sqs:CancelMessageMoveTask for --move-task; " +
				"lambda:UpdateEventSourceMapping, lambda:GetEventSourceMapping for --pause-esm"
		case "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist":
			return err.Error() + "\n  → no such queue here: check --region / --endpoint-url, or the queue URLs (--queue-url, --terraform-dir)"
		}
	}
	return err.Error()
}

// loopback reports whether endpoint names this machine (the local twin, moto).
func loopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
