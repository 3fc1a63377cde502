package generate

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/tfgen"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/webhook"
)

// CostAssumptions are the traffic the estimate prices. They are printed with it.
type CostAssumptions struct {
	// BodyBytes is the average webhook body.
	BodyBytes int
	// DeliveryLatency is how long the target takes to answer a delivery.
	DeliveryLatency time.Duration
	// GroupsPerBatch is how many message groups a full batch holds: the
	// forwarder runs different groups concurrently and one group's records
	// one after another. 0 means as many as the batch has records.
	GroupsPerBatch int
}

// DefaultCostAssumptions: a few-KiB JSON event, a target answering in 300 ms,
// every delivery succeeding on its first attempt, and steady traffic over
// many message groups (every receive finds a full batch, each record of
// another group).
var DefaultCostAssumptions = CostAssumptions{BodyBytes: 4 << 10, DeliveryLatency: 300 * time.Millisecond}

// Fixed sizes and overheads of the cost model, stated in the output.
const (
	// attributeBytes is the SQS message attributes and the envelope fields
	// around the body (webhook id, route, carried headers).
	attributeBytes = 1 << 10
	// workflowOverhead is the state machine's own time beyond the deliver
	// invocation: Step Functions' state transitions and its Lambda call,
	// which only AWS can measure.
	workflowOverhead = 100 * time.Millisecond
	// workflowMemoryMB is an Express execution's billed memory: definition and
	// payload are far below the first 64 MB unit.
	workflowMemoryMB = 64
	// expressBillingStep is Express's duration rounding.
	expressBillingStep = 100 * time.Millisecond
	million            = 1e6
)

// CostLine is one service's share of the estimate, per million webhooks,
// batched as the assumptions say and with one message per forward
// invocation (the upper bound).
type CostLine struct {
	Service string
	// Usage describes what is billed, batched.
	Usage    string
	USD      float64
	UpperUSD float64
}

// FixedCost is a monthly charge that does not grow with traffic.
type FixedCost struct {
	What        string
	USDPerMonth float64
}

// Saving is what changing one setting would save per million webhooks.
type Saving struct {
	// Change says what to change, e.g. "logging.level: ALL → ERROR"; Why
	// what the change gives up, if anything.
	Change, Why string
	USD         float64
}

// Cost is the estimated AWS bill for one million webhooks.
type Cost struct {
	Lines         []CostLine
	TotalUSD      float64
	UpperTotalUSD float64
	Fixed         []FixedCost
	Prices        Prices
	Assumptions   CostAssumptions
	// BatchSize and GroupsPerBatch are the batching the batched figures
	// assume.
	BatchSize, GroupsPerBatch int
	// MemoryMB is each Lambda's memory as generated.tf.json configures it.
	MemoryMB map[string]int
	// Overhead is what forward (per batch) and deliver add to the time they
	// wait for, and the memory size it was measured at.
	Overhead   map[string]time.Duration
	OverheadAt map[string]int
	// Savings are the settings whose change would save at least a tenth of
	// the batched total, largest first.
	Savings []Saving
}

// EstimateCost prices one million webhooks that each succeed on their first
// delivery attempt, batched as a says (and, as an upper bound, one message
// per forward invocation). memoryMB is each Lambda's memory as Terraform
// deploys it. Fixed costs that do not grow with traffic are listed apart;
// the event source mapping's empty long polls, log storage and data transfer
// are left out.
func EstimateCost(cfg *config.Config, memoryMB map[string]int, p Prices, a CostAssumptions) Cost {
	c := estimate(cfg, memoryMB, p, a)
	for _, l := range levers {
		changed, mem, sv, ok := l(cfg, memoryMB)
		if !ok {
			continue
		}
		if sv.USD = c.TotalUSD - estimate(changed, mem, p, a).TotalUSD; sv.USD >= c.TotalUSD/10 {
			c.Savings = append(c.Savings, sv)
		}
	}
	slices.SortStableFunc(c.Savings, func(x, y Saving) int { return cmp.Compare(y.USD, x.USD) })
	return c
}

func estimate(cfg *config.Config, memoryMB map[string]int, p Prices, a CostAssumptions) Cost {
	batch := max(cfg.Queue.BatchSize, 1)
	groups := a.GroupsPerBatch
	if groups <= 0 || groups > batch {
		groups = batch
	}
	c := Cost{Prices: p, Assumptions: a, BatchSize: batch, GroupsPerBatch: groups, MemoryMB: memoryMB,
		Overhead: map[string]time.Duration{}, OverheadAt: map[string]int{}}
	for _, fn := range []string{"forward", "deliver"} {
		c.Overhead[fn], c.OverheadAt[fn] = overhead(fn, memoryMB[fn])
	}

	messageBytes := a.BodyBytes + attributeBytes
	deliverTime := a.DeliveryLatency + c.Overhead["deliver"]
	execution := deliverTime + workflowOverhead
	billedExecution := time.Duration(math.Ceil(float64(execution)/float64(expressBillingStep))) * expressBillingStep
	// Records of one group run one after another in the batch; groups run
	// side by side.
	chain := (batch + groups - 1) / groups
	batchTime := time.Duration(chain)*execution + c.Overhead["forward"]
	singleTime := execution + c.Overhead["forward"]
	gb := func(fn string) float64 { return float64(memoryMB[fn]) / 1024 }

	// SQS: the API Gateway integration's SendMessage, per 64 KB chunk; the
	// event source mapping's ReceiveMessage of a batch (per 64 KB chunk of
	// the batch) and its DeleteMessageBatch (receipt handles only).
	send := float64(chunks(messageBytes, 64<<10))
	sqs := send + (float64(chunks(batch*messageBytes, 64<<10))+1)/float64(batch)
	sqsUpper := send + send + 1

	forwardGBs := gb("forward") * batchTime.Seconds() / float64(batch)
	forwardUpperGBs := gb("forward") * singleTime.Seconds()
	deliverGBs := gb("deliver") * deliverTime.Seconds()
	lambdaUSD := func(invocations, gbs float64) float64 {
		return p.LambdaPerMillion*invocations + p.LambdaArmPerGBSecond*gbs*million
	}

	fwdLog, dlvLog := lambdaLog["forward"], lambdaLog["deliver"]
	lambdaLogBytes := float64(fwdLog.PerInvocation.bytes())/float64(batch) + float64(fwdLog.PerRecord.bytes()) +
		float64(dlvLog.PerInvocation.bytes()+dlvLog.PerRecord.bytes())
	lambdaUpperBytes := float64(fwdLog.PerInvocation.bytes()+fwdLog.PerRecord.bytes()) +
		float64(dlvLog.PerInvocation.bytes()+dlvLog.PerRecord.bytes())
	sfnBytes := stepFunctionsLogBytes(cfg, a)
	// An API webhookq creates logs every request (terraform/ingress.tf); an
	// existing API's stage logs as its owner set it up.
	var accessBytes float64
	if cfg.Ingress.CreatesAPI() {
		for _, r := range cfg.Routes {
			accessBytes = max(accessBytes, float64(len(accessLogRecord("POST "+cfg.IngressPath(r)))+logEventOverhead))
		}
	}
	logsUSD := func(bytesPerWebhook float64) float64 { return p.LogsIngestionPerGB * bytesPerWebhook * million / 1e9 }

	expressGBs := billedExecution.Seconds() * workflowMemoryMB / 1024
	httpRequests := float64(chunks(a.BodyBytes, 512<<10))
	c.Lines = []CostLine{
		{"API Gateway HTTP API", formatMillions(httpRequests) + " requests",
			p.HTTPAPIPerMillion * httpRequests, p.HTTPAPIPerMillion * httpRequests},
		{"SQS FIFO", formatMillions(sqs) + " requests (send; receive, delete per batch)",
			p.SQSFIFOPerMillion * sqs, p.SQSFIFOPerMillion * sqsUpper},
		{fmt.Sprintf("Lambda forward %d MB", memoryMB["forward"]),
			fmt.Sprintf("%s invocations, %s GB-s", formatMillions(1/float64(batch)), formatCount(forwardGBs*million)),
			lambdaUSD(1/float64(batch), forwardGBs), lambdaUSD(1, forwardUpperGBs)},
		{fmt.Sprintf("Lambda deliver %d MB", memoryMB["deliver"]),
			fmt.Sprintf("1M invocations, %s GB-s", formatCount(deliverGBs*million)),
			lambdaUSD(1, deliverGBs), lambdaUSD(1, deliverGBs)},
		{"Step Functions Express", "1M executions", p.ExpressPerMillion, p.ExpressPerMillion},
		{"Express duration", fmt.Sprintf("%s GB-s (%s billed at %d MB)", formatCount(expressGBs*million), billedExecution, workflowMemoryMB),
			p.ExpressPerGBSecond * expressGBs * million, p.ExpressPerGBSecond * expressGBs * million},
		{"CloudWatch Logs, Lambda", formatFloat(lambdaLogBytes*million/1e9) + " GB",
			logsUSD(lambdaLogBytes), logsUSD(lambdaUpperBytes)},
		{"CloudWatch Logs, Step Functions", fmt.Sprintf("%s GB (level %s%s)", formatFloat(sfnBytes*million/1e9), cfg.Logging.Level, withData(cfg)),
			logsUSD(sfnBytes), logsUSD(sfnBytes)},
	}
	if accessBytes > 0 {
		c.Lines = append(c.Lines, CostLine{"CloudWatch Logs, API access log", formatFloat(accessBytes*million/1e9) + " GB",
			logsUSD(accessBytes), logsUSD(accessBytes)})
	}
	for _, l := range c.Lines {
		c.TotalUSD += l.USD
		c.UpperTotalUSD += l.UpperUSD
	}
	c.Fixed = fixedCosts(cfg, p)
	return c
}

// fixedCosts are the monthly charges that do not grow with traffic, all
// from the config and the tables the module is generated from:
//   - the alarms of config.AlarmSpecs (one per route where PerRoute), each
//     billed per metric it reads (alarmMetrics): "an alarm based on a metric
//     math expression is charged per metric in the expression"
//     (https://aws.amazon.com/cloudwatch/pricing/);
//   - the service's dashboards, as many as its routes need
//     (tfgen.RoutesPerDashboard, terraform/dashboard.tf);
//   - custom metrics: the series forward and deliver publish as EMF lines
//     (metrics.Table's dimension sets over the routes, failure classes and park
//     reasons) and, on an API webhookq creates, API Gateway's detailed
//     per-route metrics (terraform/ingress.tf), at most: a series is billed
//     only in the hours it is published.
func fixedCosts(cfg *config.Config, p Prices) []FixedCost {
	values := dimensionValues(cfg)
	series := 0
	for _, m := range metrics.Table {
		if m.Source != metrics.SourceForward && m.Source != metrics.SourceDeliver {
			continue
		}
		for _, set := range m.DimensionSets {
			n := 1
			for _, d := range set {
				n *= values[d]
			}
			series += n
		}
	}
	if cfg.Ingress.CreatesAPI() {
		series += len(cfg.Routes) * len(httpAPIRouteMetrics)
	}
	alarms, alarmMetricCount := 0, 0
	for _, a := range config.AlarmSpecs {
		n := 1
		if a.PerRoute {
			n = len(cfg.Routes)
		}
		alarms += n
		alarmMetricCount += n * alarmMetrics(a.Alarm)
	}
	dashboards := (len(cfg.Routes) + tfgen.RoutesPerDashboard - 1) / tfgen.RoutesPerDashboard
	what := "a dashboard"
	if dashboards > 1 {
		what = fmt.Sprintf("%d dashboards", dashboards)
	}
	return []FixedCost{
		{fmt.Sprintf("%d CloudWatch alarms reading %d metrics", alarms, alarmMetricCount), float64(alarmMetricCount) * p.AlarmPerMonth},
		{what, float64(dashboards) * p.DashboardPerMonth},
		{fmt.Sprintf("up to %d custom metrics", series), float64(series) * p.MetricPerMonth},
	}
}

// httpAPIRouteMetrics are the metrics an HTTP API publishes per route with
// detailed metrics on, billed as custom metrics
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html).
var httpAPIRouteMetrics = []string{"4xx", "5xx", "Count", "IntegrationLatency", "Latency", "DataProcessed"}

// alarmMetrics is how many metrics an alarm of kind a reads, as
// terraform/alarms.tf's alarm_watches has it: parked adds up Parked of
// every reason but signature; execution_failures ExecutionsFailed and
// ExecutionsTimedOut; the others watch one metric.
func alarmMetrics(a config.Alarm) int {
	switch a {
	case config.AlarmParked:
		return len(webhook.Reasons) - 1
	case config.AlarmExecutionFailures:
		return 2
	}
	return 1
}

// dimensionValues is how many values each metric dimension takes.
func dimensionValues(cfg *config.Config) map[metrics.Dimension]int {
	return map[metrics.Dimension]int{
		metrics.DimRoute:  len(cfg.Routes),
		metrics.DimClass:  len(metrics.Classes),
		metrics.DimReason: len(webhook.Reasons),
	}
}

// stepFunctionsLogBytes is what one execution logs at cfg's level, scaled
// from the measured reference execution to cfg's execution ARN and a's body.
func stepFunctionsLogBytes(cfg *config.Config, a CostAssumptions) float64 {
	l, ok := executionLogs[executionLogKey{cfg.Logging.Level, cfg.Logging.IncludeExecutionData}]
	if !ok {
		return 0
	}
	arn := 0
	for _, r := range cfg.Routes {
		arn = max(arn, len(executionARN(cfg, r)))
	}
	return float64(l.Log.bytes()+l.Log.Events*(arn-executionLogARNBytes)) + l.BytesPerBodyByte*float64(a.BodyBytes-executionLogBodyBytes)
}

// executionARN is an execution ARN of route's state machine as AWS names a
// forwarded message's execution: a 12-digit account, and a name of the
// message id (a UUID) and the receive count (forwarder.ExecutionName).
func executionARN(cfg *config.Config, r config.Route) string {
	const account, name, executionID = "123456789012", "00000000-0000-0000-0000-000000000000-1", "00000000-0000-0000-0000-000000000000"
	return "arn:aws:states:" + cfg.Region + ":" + account + ":express:" + cfg.StateMachineName(r) + ":" + name + ":" + executionID
}

func withData(cfg *config.Config) string {
	if cfg.Logging.IncludeExecutionData {
		return ", with execution data"
	}
	return ""
}

// lever is one setting the summary may suggest changing: it returns the
// changed config and memory, and says what changed, when the setting is not
// already at its cheaper value.
type lever func(cfg *config.Config, memoryMB map[string]int) (changed *config.Config, memory map[string]int, change Saving, ok bool)

// levers are the settings the summary weighs, one table.
var levers = []lever{
	func(cfg *config.Config, mem map[string]int) (*config.Config, map[string]int, Saving, bool) {
		if cfg.Logging.Level != config.LogAll {
			return nil, nil, Saving{}, false
		}
		c := *cfg
		c.Logging.Level, c.Logging.IncludeExecutionData = config.LogError, false
		return &c, mem, Saving{Change: "logging.level: ALL → ERROR", Why: "A success then logs nothing from Step Functions; failures still log their events."}, true
	},
	func(cfg *config.Config, mem map[string]int) (*config.Config, map[string]int, Saving, bool) {
		if !cfg.Logging.IncludeExecutionData || cfg.Logging.Level != config.LogAll {
			return nil, nil, Saving{}, false
		}
		c := *cfg
		c.Logging.IncludeExecutionData = false
		return &c, mem, Saving{Change: "logging.include_execution_data: true → false", Why: "The logs then keep the events without the webhook bodies."}, true
	},
	memoryLever("forward"),
	memoryLever("deliver"),
	func(cfg *config.Config, mem map[string]int) (*config.Config, map[string]int, Saving, bool) {
		if cfg.Queue.BatchSize >= config.DefaultBatchSize {
			return nil, nil, Saving{}, false
		}
		c := *cfg
		c.Queue.BatchSize = config.DefaultBatchSize
		return &c, mem, Saving{Change: fmt.Sprintf("queue.batch_size: %d → %d", cfg.Queue.BatchSize, config.DefaultBatchSize)}, true
	},
}

// memoryLever suggests the default memory for fn when more is configured.
func memoryLever(fn string) lever {
	return func(cfg *config.Config, mem map[string]int) (*config.Config, map[string]int, Saving, bool) {
		def := config.DefaultMemoryMB[fn]
		if mem[fn] <= def {
			return nil, nil, Saving{}, false
		}
		m := maps.Clone(mem)
		m[fn] = def
		return cfg, m, Saving{Change: fmt.Sprintf("functions.%s.memory_mb: %d → %d", fn, mem[fn], def), Why: "The default is sized from measurements (docs/generate.md, \"Lambda memory\")."}, true
	}
}

func chunks(n, size int) int { return max(1, (n+size-1)/size) }
