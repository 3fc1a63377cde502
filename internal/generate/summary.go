package generate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/generate/tfgen"
)

// Summary is what cmd/generate prints after generating: where each route's
// webhooks enter and go, the derived time budgets, and what a million
// webhooks cost at these settings.
type Summary struct {
	Service string
	Region  string
	// API is the HTTP API's name and whether webhookq creates it.
	API        string
	CreatesAPI bool
	// Signs: deliveries carry webhookq's outbound signature.
	Signs bool
	// HighThroughput: the queue is in FIFO high-throughput mode.
	HighThroughput bool
	// ThrottleCommand sets the routes' throttles on an existing API's stage
	// (ExistingStageThrottleCommand); empty when webhookq creates the API.
	ThrottleCommand string
	Routes          []RouteSummary
	// Secrets are the SSM parameters and Secrets Manager secrets the
	// configuration references: they must exist before the first apply.
	Secrets []config.Secret
	Budget  config.Budget
	// Finality is the retry policy's numbers: the window, SQS's backstop.
	Finality config.Finality
	// Cost is the estimate, nil when the region has no prices (CostErr says
	// so).
	Cost    *Cost
	CostErr error

	// ParallelInvocations is config.ParallelInvocations (queue.max_concurrency
	// × batch_size).
	ParallelInvocations int
	// QueueSendQuota is config.QueueSendQuota: SendMessage calls a second
	// the queue takes.
	QueueSendQuota int
}

// RouteSummary is one route's line of the summary.
type RouteSummary struct {
	Name        string
	IngressPath string
	// Group is the message group as routes.yaml writes it ("header:X-Id").
	Group  string
	Target string
	// Verify names the inbound signature check ("hmac X-Workflow-Signature"),
	// or is "none" with Unverified saying why.
	Verify     string
	Unverified string
	Throttle   config.Throttle
	Attempts   int
	Budget     config.RouteBudget
	// Limits are the size limits derived from the route's workflow.
	Limits asl.RouteLimits
}

// Summarize derives the summary of cfg. Lambda memory sizes are read back
// from the generated Terraform locals, so the cost is priced at what
// Terraform deploys, with the prices of the config's region.
func Summarize(cfg *config.Config) (Summary, error) {
	memory, err := lambdaMemory(cfg)
	if err != nil {
		return Summary{}, err
	}
	budget := config.ComputeBudget(cfg)
	s := Summary{
		Service:        cfg.Service,
		Region:         cfg.Region,
		API:            cfg.Ingress.HTTPAPIName,
		CreatesAPI:     cfg.Ingress.CreatesAPI(),
		Signs:          cfg.Target.Signing != nil,
		HighThroughput: cfg.Queue.HighThroughput,
		Budget:         budget,
		Finality:       config.ComputeFinality(cfg),
		Secrets:        cfg.Secrets(),
	}
	if prices, err := PricesFor(cfg.Region); err != nil {
		s.CostErr = err
	} else {
		c := EstimateCost(cfg, memory, prices, DefaultCostAssumptions)
		s.Cost = &c
	}
	s.ParallelInvocations, s.QueueSendQuota = cfg.ParallelInvocations(), cfg.QueueSendQuota()
	if s.CreatesAPI {
		s.API = cfg.Service
	}
	if s.ThrottleCommand, err = ExistingStageThrottleCommand(cfg, DefaultExistingStage); err != nil {
		return Summary{}, err
	}
	limits, err := asl.AllLimits(cfg)
	if err != nil {
		return Summary{}, err
	}
	for i, r := range cfg.Routes {
		s.Routes = append(s.Routes, RouteSummary{
			Limits:      limits[r.Name],
			Name:        r.Name,
			IngressPath: cfg.IngressPath(r),
			Group:       string(r.Group.Source) + ":" + r.Group.Value,
			Target:      r.TargetURL,
			Verify:      verifySummary(r),
			Unverified:  r.Unverified,
			Throttle:    r.Throttle,
			Attempts:    r.Retry.MaxAttempts,
			Budget:      budget.Routes[i],
		})
	}
	return s, nil
}

// verifySummary names a route's inbound check and the headers it reads.
func verifySummary(r config.Route) string {
	if r.Verify == nil {
		return string(config.VerifyNone)
	}
	return strings.TrimSpace(string(r.Verify.Scheme) + " " + strings.Join(r.Verify.Headers(), ", "))
}

func lambdaMemory(cfg *config.Config) (map[string]int, error) {
	locals, err := tfgen.Locals(cfg, workflowRefs(cfg))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Locals struct {
			Webhookq struct {
				Functions map[string]struct {
					MemoryMB int `json:"memory_mb"`
				} `json:"functions"`
			} `json:"webhookq"`
		} `json:"locals"`
	}
	if err := json.Unmarshal(locals, &doc); err != nil {
		return nil, fmt.Errorf("read generated locals: %w", err)
	}
	memory := map[string]int{}
	for _, fn := range config.Functions {
		f, ok := doc.Locals.Webhookq.Functions[fn]
		if !ok || f.MemoryMB <= 0 {
			return nil, fmt.Errorf("generated locals: no memory size for the %s function", fn)
		}
		memory[fn] = f.MemoryMB
	}
	return memory, nil
}

// WriteText renders the summary for a terminal.
func (s Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	api := "existing HTTP API " + strconv.Quote(s.API)
	if s.CreatesAPI {
		api = "new HTTP API " + strconv.Quote(s.API)
	}
	fmt.Fprintf(&b, "%s in %s, %s\n", s.Service, s.Region, api)
	if !s.CreatesAPI {
		// The stage is the API owner's: webhookq cannot see how it deploys
		// or whether it logs (docs/deploy.md#an-existing-api).
		fmt.Fprint(&b, "  The routes go live only when its stage deploys: set existing_api_stage and\n"+
			"  existing_api_stage_auto_deploy in terraform/terraform.tfvars (plan asks).\n"+
			"  Requests API Gateway refuses show only in the stage's access log; to turn it on, after apply run\n"+
			"  the command printed by: terraform -chdir=terraform output -raw ingress_access_log_command\n")
	}
	fmt.Fprintln(&b)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tINGRESS\tGROUP\tTARGET")
	for _, r := range s.Routes {
		fmt.Fprintf(tw, "%s\tPOST %s\t%s\t%s\n", r.Name, r.IngressPath, r.Group, r.Target)
	}
	tw.Flush()

	s.writeSecrets(&b)

	fmt.Fprintf(&b, "\nIngress protection\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tVERIFY\tRATE/S\tBURST")
	for _, r := range s.Routes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", r.Name, r.Verify, formatFloat(r.Throttle.Rate), r.Throttle.Burst)
	}
	tw.Flush()
	s.writeThrottleNotes(&b)
	deliver := "deliver"
	if s.Signs {
		deliver = "deliver, and sign,"
	}
	for _, r := range s.Routes {
		if r.Verify == string(config.VerifyNone) {
			fmt.Fprintf(&b, "  %s verifies nothing (%s): anyone who knows its URL can have webhookq %s what they post\n", r.Name, r.Unverified, deliver)
		}
	}

	fmt.Fprintf(&b, "\nTime budget (Express limit %s)\n", config.ExpressMaxDuration)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tATTEMPTS\tTASK TIMEOUT\tBACKOFF\tLAMBDA RETRIES\tWORST-CASE EXECUTION")
	for _, r := range s.Routes {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.Name, r.Attempts, r.Budget.TaskTimeout, r.Budget.Backoff, r.Budget.LambdaRetries, r.Budget.WorstExecution)
	}
	tw.Flush()
	fmt.Fprintln(&b, "  (worst case: every attempt times out and waits its capped backoff, Lambda's own errors (throttling,\n"+
		"   service faults) are retried to their limits on Deliver and on Notify, then Notify times out)")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  worst-case execution\t%s\n", s.Budget.WorstExecution)
	fmt.Fprintf(tw, "  forward Lambda timeout\t%s\n", s.Budget.ForwardTimeout)
	fmt.Fprintf(tw, "  StartSyncExecution SDK timeout\t%s\n", s.Budget.SDKTimeout)
	fmt.Fprintf(tw, "  queue visibility timeout\t%s\n", s.Budget.VisibilityTimeout)
	tw.Flush()

	s.writeLimits(&b)

	f := s.Finality
	fmt.Fprintf(&b, "\nRetry policy: %s\n", config.RetryPolicy)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  retry window\t%s\n", f.Window)
	fmt.Fprintf(tw, "  SQS maxReceiveCount (backstop)\t%s\n", f.Explain())
	fmt.Fprintf(tw, "  longest wait behind a failing head\t%s (window + last redelivery delay + %s of final executions)\n", f.FollowerWait, f.FinalRun)
	tw.Flush()

	writeCost(&b, s)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSecrets lists the secrets to create before the first apply, each with
// what reads it and the command that creates it: SSM parameters as
// SecureString (docs.aws.amazon.com/systems-manager/latest/userguide/param-create-cli.html),
// Secrets Manager secrets by name (an ARN names one that exists already).
func (s Summary) writeSecrets(b *strings.Builder) {
	if len(s.Secrets) == 0 {
		return
	}
	fmt.Fprintf(b, "\nSecrets to create before the first apply (read at run time, never in routes.yaml or Terraform;\n"+
		"a missing one fails what reads it until it exists)\n")
	for _, sec := range s.Secrets {
		uses := useLines(sec.Uses)
		ref := sec.Ref
		switch {
		case ref.SSMParameter != "":
			fmt.Fprintf(b, "  SSM parameter %s — %s\n", ref.SSMParameter, strings.Join(uses, "; "))
			fmt.Fprintf(b, "    aws ssm put-parameter --region %s --type SecureString --name %s --value '<the value>'\n", s.Region, ref.SSMParameter)
		case strings.HasPrefix(ref.SecretsManager, "arn:"):
			fmt.Fprintf(b, "  Secrets Manager secret %s — %s\n    (an ARN: the secret exists already; check it holds the value)\n", ref.SecretsManager, strings.Join(uses, "; "))
		case ref.SecretsManager != "":
			fmt.Fprintf(b, "  Secrets Manager secret %s — %s\n", ref.SecretsManager, strings.Join(uses, "; "))
			fmt.Fprintf(b, "    aws secretsmanager create-secret --region %s --name %s --secret-string '<the value>'\n", s.Region, ref.SecretsManager)
		default:
			fmt.Fprintf(b, "  environment variable %s — %s (read by the local twin only; AWS has no such secret)\n", ref.Env, strings.Join(uses, "; "))
		}
	}
}

// useLines writes each use as "function: use", one use read by several
// functions once ("forward, deliver: route …": a route's verification
// secret), in the order the uses come.
func useLines(uses []config.SecretUse) []string {
	var order []string
	readers := map[string][]string{}
	for _, u := range uses {
		if _, seen := readers[u.Use]; !seen {
			order = append(order, u.Use)
		}
		readers[u.Use] = append(readers[u.Use], u.Function)
	}
	out := make([]string, len(order))
	for i, use := range order {
		out[i] = strings.Join(readers[use], ", ") + ": " + use
	}
	return out
}

// writeThrottleNotes says where the throttles apply and what the queue takes.
func (s Summary) writeThrottleNotes(b *strings.Builder) {
	if s.CreatesAPI {
		fmt.Fprintf(b, "  API Gateway throttles each route on the new API's $default stage (429 beyond the limit)\n")
	} else {
		fmt.Fprintf(b, "  The existing API's stage is not the module's: set the limits on it yourself (for a stage other\n"+
			"  than %s, change --stage-name; see terraform/README.md, Existing API):\n", DefaultExistingStage)
		for _, line := range strings.Split(s.ThrottleCommand, "\n") {
			fmt.Fprintf(b, "    %s\n", line)
		}
	}
	s.writeIngressCeiling(b)
}

func formatBytes(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

func formatMillions(n float64) string { return formatFloat(n) + "M" }

// formatCount prints a whole number with thousands separators.
func formatCount(f float64) string {
	digits := strconv.FormatInt(int64(math.Round(f)), 10)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

// formatFloat prints at most two decimals, without trailing zeros.
func formatFloat(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// writeCost renders the cost estimate, or why there is none.
func writeCost(b *strings.Builder, s Summary) {
	if s.Cost == nil {
		fmt.Fprintf(b, "\nEstimated AWS cost per million webhooks: not available: %v\n", s.CostErr)
		return
	}
	c := s.Cost
	fmt.Fprintf(b, "\nEstimated AWS cost per million webhooks in %s: $%.2f batched, $%.2f at one message per forward invocation\n",
		c.Prices.Region, c.TotalUSD, c.UpperTotalUSD)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  SERVICE\tUSAGE, BATCHED\t BATCHED\tONE PER INVOCATION")
	for _, l := range c.Lines {
		fmt.Fprintf(tw, "  %s\t%s\t%8s\t%18s\n", l.Service, l.Usage, fmt.Sprintf("$%.2f", l.USD), fmt.Sprintf("$%.2f", l.UpperUSD))
	}
	tw.Flush()
	a := c.Assumptions
	fmt.Fprintf(b, "  Prices: %s list prices read %s (internal/generate/prices.go), first tier, free tier ignored.\n", c.Prices.Region, PriceDate)
	fmt.Fprintf(b, "  Assumes: %s average body; the target answers in %s; every delivery succeeds at the first attempt\n"+
		"    (each retry adds a deliver invocation and execution time); batched: every receive finds a full batch\n"+
		"    of %d messages (queue.batch_size) of %d message groups, run side by side in one forward invocation;\n"+
		"    forward adds %s per batch at %d MB, deliver %s per delivery at %d MB (fresh TLS), as measured\n"+
		"    (docs/generate.md); Step Functions' own time %s per execution, billed in %s steps at %d MB;\n"+
		"    SQS messages of the body plus %s of attributes, one DeleteMessageBatch per batch;\n"+
		"    log bytes per invocation and per execution as measured, plus %d bytes per CloudWatch event.\n",
		formatBytes(a.BodyBytes), a.DeliveryLatency, c.BatchSize, c.GroupsPerBatch,
		c.Overhead["forward"], c.OverheadAt["forward"], c.Overhead["deliver"], c.OverheadAt["deliver"],
		workflowOverhead, expressBillingStep, workflowMemoryMB, formatBytes(attributeBytes), logEventOverhead)
	fmt.Fprintln(b, "  Not included: empty long polls of the event source mapping, log storage, data transfer.")
	var fixed []string
	var total float64
	for _, f := range c.Fixed {
		fixed = append(fixed, fmt.Sprintf("%s $%.2f", f.What, f.USDPerMonth))
		total += f.USDPerMonth
	}
	fmt.Fprintf(b, "  Fixed per month, whatever the traffic: $%.2f (%s).\n", total, strings.Join(fixed, "; "))
	for _, sv := range c.Savings {
		fmt.Fprintf(b, "  To save: %s saves $%.2f per million (%.0f%% of the batched total).\n", sv.Change, sv.USD, 100*sv.USD/c.TotalUSD)
		if sv.Why != "" {
			fmt.Fprintf(b, "    %s\n", sv.Why)
		}
	}
}
