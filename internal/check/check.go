// Package check is the post-deploy check (cmd/check): run right after
// terraform apply, it tells whether the deployment works end to end, without
// sending the application anything, and says what to do about each thing
// that does not.
//
// It reads, and never changes, the deployment's configuration: the event
// source mapping is enabled, the API's stage exists, deploys the routes and
// keeps an access log, the alarms have actions, the functions have their log
// groups. Then, for each route, it posts a probe webhook (internal/lambda/probe)
// to the route's public URL and waits for deliver to answer it: the answer in
// deliver's log proves the path public URL → API Gateway → SQS → event
// source mapping → forward (with its signature check) → the route's Express
// workflow → deliver, and carries whether deliver can reach the target (DNS,
// TCP, TLS). A probe that does not come back is traced through forward's log.
//
// The same code checks AWS (cmd/check --terraform-dir), moto in the apply
// test, and the local twin (cmd/check --local), which has no API Gateway and
// no alarms: those checks are skipped there.
package check

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/probe"
)

// Deployment is where a deployed webhookq is: the Terraform module's outputs
// (or, for the local twin, what its configuration and URLs say).
type Deployment struct {
	Config *config.Config
	// IngressURLs is each route's public URL, by route name.
	IngressURLs map[string]string
	// APIID and Stage are the HTTP API stage serving the routes; empty
	// where there is no API Gateway (the local twin).
	APIID, Stage string
	// DeployCommand and AccessLogCommand are the module's commands for an
	// existing stage (its outputs), quoted in fixes.
	DeployCommand, AccessLogCommand string
	// MappingUUID is the queue → forward event source mapping.
	MappingUUID string
	// ProbeKey is the KMS HMAC key probes are MACed with.
	ProbeKey string
	// FunctionNames is each Lambda's name (forward, deliver, notify).
	FunctionNames map[string]string
	// TerraformDir is where fixes say to run terraform; empty for the twin.
	TerraformDir string
}

// Local reports whether the deployment is the local twin (no API Gateway,
// no alarms).
func (d Deployment) Local() bool { return d.APIID == "" }

// The AWS operations the check reads with (the SDK clients' methods).
type (
	// Mappings reads the event source mapping.
	Mappings interface {
		GetEventSourceMapping(ctx context.Context, in *lambda.GetEventSourceMappingInput, opts ...func(*lambda.Options)) (*lambda.GetEventSourceMappingOutput, error)
	}
	// Stages reads the API's stage.
	Stages interface {
		GetStage(ctx context.Context, in *apigatewayv2.GetStageInput, opts ...func(*apigatewayv2.Options)) (*apigatewayv2.GetStageOutput, error)
	}
	// Logs reads the functions' log groups.
	Logs interface {
		DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
		FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
	}
	// Alarms reads the deployment's alarms.
	Alarms interface {
		DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	}
	// Secrets reads a route's verification secret, to sign its probe as
	// the provider would (secret.Resolver).
	Secrets interface {
		Resolve(ctx context.Context, ref config.SecretRef) (string, error)
	}
)

// Clients are what the check reads and calls. Stages and Alarms are unused
// for the local twin.
type Clients struct {
	Mappings Mappings
	Stages   Stages
	Logs     Logs
	Alarms   Alarms
	// MACs makes probe MACs (kms:GenerateMac on the probe key).
	MACs    probe.MacMaker
	Secrets Secrets
	// HTTP posts the probes to the public URLs.
	HTTP *http.Client
}

// Options tune a run.
type Options struct {
	// Routes limits the probes to these routes; empty probes every route.
	Routes []string
	// Wait bounds how long a probe's answer is waited for; 0 is DefaultWait.
	Wait time.Duration
	// Poll is how often the logs are read while waiting; 0 is DefaultPoll.
	Poll time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Progress receives a line as each check starts waiting; nil is quiet.
	Progress func(string)
}

// DefaultWait and DefaultPoll: a probe normally comes back within seconds;
// two minutes covers a cold start of every function and a busy queue.
const (
	DefaultWait = 2 * time.Minute
	DefaultPoll = 2 * time.Second
)

// Status is how one check came out.
type Status string

// The statuses; a run fails when any check fails.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Result is one check: what was checked, how it came out, what was seen
// and, when it is not a pass, what to do.
type Result struct {
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Run checks d and returns every result, in a stable order: the
// infrastructure first, then each route's probe and its target's
// reachability.
func Run(ctx context.Context, d Deployment, c Clients, o Options) []Result {
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	var results []Result
	results = append(results, checkMapping(ctx, d, c))
	results = append(results, checkStage(ctx, d, c)...)
	results = append(results, checkAlarms(ctx, d, c))
	results = append(results, checkLogGroups(ctx, d, c))
	return append(results, probeRoutes(ctx, d, c, o)...)
}

// Failed reports whether any result is a failure.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Status == Fail {
			return true
		}
	}
	return false
}
