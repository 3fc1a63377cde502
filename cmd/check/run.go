package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/webhookq/webhookq/internal/awssdk"
	"github.com/webhookq/webhookq/internal/check"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/secret"
	"github.com/webhookq/webhookq/internal/tfrun"
	"github.com/webhookq/webhookq/internal/twin"
)

// Exit statuses (the package comment and docs/deploy.md list them).
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	exitCannot = 3
)

const usage = `check: prove a deployed webhookq works end to end, sending the application nothing

Usage:
  check [--terraform-dir terraform] [--config config/routes.yaml] [--route NAME]... [--wait 2m] [--json]
  check --local http://127.0.0.1:8081 [--ingress-url http://127.0.0.1:8080] [...]

For each route it posts a probe webhook to the route's public URL and waits
for the deliver function to answer it (deliver answers probes itself and
reports whether it can reach the target: DNS, TCP, TLS); it also checks the
event source mapping, the API stage and its access log, the alarms and the
log groups. Every failure is printed with what to do.

It reads the deployment from the module's outputs (--terraform-dir, with the
AWS credentials of the environment), or from the local twin (--local, its
control-plane URL). It needs kms:GenerateMac on the probe key and read access
to the routes' verification secrets (it signs each probe as the provider
would), logs:FilterLogEvents on the functions' log groups, and read access to
the mapping, the stage and the alarms.

Exit status: 0 every check passed, 1 a check failed, 2 usage, 3 could not run.
'go run' reports every non-zero status as 1: to tell them apart in a script,
build the tool (go build -o bin/ ./cmd/...) and run bin/check.

Flags:
`

type options struct {
	terraformDir, cfgPath string
	local, ingressURL     string
	routes                multiFlag
	wait                  time.Duration
	jsonOut               bool
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.terraformDir, "terraform-dir", "terraform", "the applied Terraform module whose outputs describe the deployment")
	fs.StringVar(&o.cfgPath, "config", "config/routes.yaml", "routes.yaml, as generated and applied")
	fs.StringVar(&o.local, "local", "", "check the local twin instead: its control-plane URL (go run ./cmd/local prints it)")
	fs.StringVar(&o.ingressURL, "ingress-url", "http://127.0.0.1:8080", "with --local: the twin's ingress URL")
	fs.Var(&o.routes, "route", "probe only this route (repeatable); default every route")
	fs.DurationVar(&o.wait, "wait", check.DefaultWait, "how long to wait for each probe's answer")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON lines")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.wait < time.Second {
		return nil, errors.New("--wait must be at least 1s")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return exitUsage
	}
	cfg, err := config.Load(o.cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "check: %v\n", err)
		return exitCannot
	}
	var d check.Deployment
	var c check.Clients
	if o.local != "" {
		d, c, err = localDeployment(ctx, cfg, o)
	} else {
		d, c, err = awsDeployment(ctx, cfg, o)
	}
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return exitCannot
	}
	results := check.Run(ctx, d, c, check.Options{
		Routes:   o.routes,
		Wait:     o.wait,
		Progress: func(line string) { fmt.Fprintln(stderr, line) },
	})
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return exitCannot
			}
		}
	} else if err := check.WriteText(stdout, results); err != nil {
		return exitCannot
	}
	if check.Failed(results) {
		return exitFailed
	}
	return exitOK
}

// outputs are the module outputs the check reads (terraform/outputs.tf).
type outputs struct {
	APIID            string            `json:"api_id"`
	IngressStage     string            `json:"ingress_stage"`
	IngressURLs      map[string]string `json:"ingress_urls"`
	DeployCommand    string            `json:"ingress_deploy_command"`
	AccessLogCommand string            `json:"ingress_access_log_command"`
	MappingUUID      string            `json:"forward_event_source_mapping_uuid"`
	ProbeKeyARN      string            `json:"probe_key_arn"`
	FunctionNames    map[string]string `json:"function_names"`
}

// awsDeployment reads the applied module's outputs and makes AWS clients
// from the environment's credentials in the config's region.
func awsDeployment(ctx context.Context, cfg *config.Config, o *options) (check.Deployment, check.Clients, error) {
	bin, err := tfrun.Find("--terraform-dir")
	if err != nil {
		return check.Deployment{}, check.Clients{}, err
	}
	var out outputs
	if err := tfrun.DecodeOutputs(ctx, bin, o.terraformDir, &out); err != nil {
		return check.Deployment{}, check.Clients{}, err
	}
	if out.APIID == "" || out.ProbeKeyARN == "" {
		return check.Deployment{}, check.Clients{}, fmt.Errorf("the outputs of %s have no api_id or probe_key_arn: apply the module first (terraform -chdir=%s apply)", o.terraformDir, o.terraformDir)
	}
	awsCfg, err := awssdk.LoadConfig(ctx, awsconfig.WithRegion(cfg.Region))
	if err != nil {
		return check.Deployment{}, check.Clients{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	d := check.Deployment{
		Config: cfg, IngressURLs: out.IngressURLs, APIID: out.APIID, Stage: out.IngressStage,
		DeployCommand: out.DeployCommand, AccessLogCommand: out.AccessLogCommand, MappingUUID: out.MappingUUID,
		ProbeKey: out.ProbeKeyARN, FunctionNames: out.FunctionNames, TerraformDir: o.terraformDir,
	}
	c := check.Clients{
		Mappings: lambda.NewFromConfig(awsCfg), Stages: apigatewayv2.NewFromConfig(awsCfg),
		Logs: cloudwatchlogs.NewFromConfig(awsCfg), Alarms: cloudwatch.NewFromConfig(awsCfg), MACs: kms.NewFromConfig(awsCfg),
		Secrets: &secret.Resolver{SSM: ssm.NewFromConfig(awsCfg), SecretsManager: secretsmanager.NewFromConfig(awsCfg)},
		HTTP:    &http.Client{},
	}
	return d, c, nil
}

// localDeployment describes the twin at o.local: its routes on the ingress
// URL, its mapping, log groups and probe key on the control plane, its
// secrets read as the twin reads them (twin.SecretEnvName).
func localDeployment(ctx context.Context, cfg *config.Config, o *options) (check.Deployment, check.Clients, error) {
	awsCfg := aws.Config{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(strings.TrimSuffix(o.local, "/")),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   awssdk.HTTPClient(),
	}
	mappings := lambda.NewFromConfig(awsCfg)
	list, err := mappings.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{})
	if err != nil {
		return check.Deployment{}, check.Clients{}, fmt.Errorf("the twin's control plane at %s: %w (is go run ./cmd/local running, and is this its control-plane URL?)", o.local, err)
	}
	d := check.Deployment{Config: cfg, IngressURLs: map[string]string{}, ProbeKey: twin.ProbeKeyAlias(cfg.Service), FunctionNames: map[string]string{}}
	for _, m := range list.EventSourceMappings {
		if strings.HasSuffix(aws.ToString(m.FunctionArn), ":function:"+cfg.FunctionName("forward")) {
			d.MappingUUID = aws.ToString(m.UUID)
		}
	}
	for _, r := range cfg.Routes {
		d.IngressURLs[r.Name] = strings.TrimSuffix(o.ingressURL, "/") + cfg.IngressPath(r)
	}
	for _, fn := range config.Functions {
		d.FunctionNames[fn] = cfg.FunctionName(fn)
	}
	c := check.Clients{
		Mappings: mappings, Logs: cloudwatchlogs.NewFromConfig(awsCfg), MACs: kms.NewFromConfig(awsCfg),
		Secrets: localSecrets{env: &secret.Resolver{}}, HTTP: &http.Client{},
	}
	return d, c, nil
}

// localSecrets reads a secret reference as the twin does: from the
// environment variable twin.SecretEnvName names.
type localSecrets struct{ env *secret.Resolver }

func (l localSecrets) Resolve(ctx context.Context, ref config.SecretRef) (string, error) {
	return l.env.Resolve(ctx, config.SecretRef{Env: twin.SecretEnvName(ref)})
}
