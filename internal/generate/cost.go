package generate

import (
	"math"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// Prices are AWS on-demand list prices in US dollars, first pricing tier,
// free tiers ignored.
type Prices struct {
	// Source says where and when the prices were read.
	Source string
	// HTTPAPIPerMillion is API Gateway HTTP API, per million requests (each
	// request metered in 512 KB increments).
	HTTPAPIPerMillion float64
	// SQSFIFOPerMillion is SQS FIFO, per million requests; every 64 KB chunk of
	// a request's payload is one request.
	SQSFIFOPerMillion float64
	// LambdaPerMillion is Lambda, per million requests.
	LambdaPerMillion float64
	// LambdaArmPerGBSecond is Lambda duration on arm64.
	LambdaArmPerGBSecond float64
	// ExpressPerMillion is Step Functions Express, per million executions.
	ExpressPerMillion float64
	// ExpressPerGBSecond is Step Functions Express duration, billed in 64 MB
	// memory units and 100 ms steps.
	ExpressPerGBSecond float64
	// LogsIngestionPerGB is CloudWatch Logs ingestion (standard class,
	// vended logs' first tier).
	LogsIngestionPerGB float64
}

// ListPrices are the us-east-1 list prices the cost estimate uses, read on
// 2026-11-28 from:
//   - API Gateway HTTP API $1.00/M requests, 512 KB metering:
//     https://aws.amazon.com/api-gateway/pricing/ as tabled at
//     https://www.apigatewaycost.com/aws and in AWS's whitepaper
//     "Best practices for designing Amazon API Gateway private APIs and
//     private integrations", cost optimization (docs.aws.amazon.com).
//   - SQS FIFO $0.50/M requests, 64 KB chunks; sends, receives, deletes and
//     change-visibility all count: https://cloudburn.io/blog/amazon-sqs-pricing
//     (us-east-1, March 2026), matching https://aws.amazon.com/sqs/pricing/.
//   - Lambda $0.20/M requests, arm64 $0.0000133334 per GB-second (first
//     7.5 billion GB-s): https://aws.amazon.com/lambda/pricing/ as tabled at
//     https://cloudchipr.com/blog/aws-lambda-pricing.
//   - Step Functions Express $1.00/M requests, $0.06 per GB-hour for the first
//     1,000 GB-hours (= $0.00001667/GB-s), 64 MB units, 100 ms rounding:
//     https://aws.amazon.com/step-functions/pricing/.
//   - CloudWatch Logs ingestion $0.50/GB: https://c3x.dev/blog/cloudwatch-logs-cost-optimization
//     (us-east-1, June 2026), https://aws.amazon.com/cloudwatch/pricing/.
var ListPrices = Prices{
	Source:               "us-east-1 list prices read 2026-11-28",
	HTTPAPIPerMillion:    1.00,
	SQSFIFOPerMillion:    0.50,
	LambdaPerMillion:     0.20,
	LambdaArmPerGBSecond: 0.0000133334,
	ExpressPerMillion:    1.00,
	ExpressPerGBSecond:   0.06 / 3600,
	LogsIngestionPerGB:   0.50,
}

// CostAssumptions are the traffic the estimate prices. They are printed with it.
type CostAssumptions struct {
	// BodyBytes is the average webhook body.
	BodyBytes int
	// DeliveryLatency is how long the target takes to answer a delivery.
	DeliveryLatency time.Duration
}

// DefaultCostAssumptions: a few-KiB JSON event, a target answering in 300 ms,
// every delivery succeeding on its first attempt.
var DefaultCostAssumptions = CostAssumptions{BodyBytes: 4 << 10, DeliveryLatency: 300 * time.Millisecond}

// Fixed sizes and overheads of the cost model; rough, stated in the output.
const (
	// attributeBytes is the SQS message attributes and the envelope fields
	// around the body (webhook id, route, carried headers).
	attributeBytes = 1 << 10
	// lambdaOverhead is a warm invocation's time beyond the work it waits for.
	lambdaOverhead = 20 * time.Millisecond
	// workflowOverhead is the state machine's own time beyond the Deliver invoke.
	workflowOverhead = 100 * time.Millisecond
	// workflowMemoryMB is an Express execution's billed memory: definition and
	// payload are far below the first 64 MB unit.
	workflowMemoryMB = 64
	// sfnLogEventBytes is one Step Functions history event in CloudWatch Logs,
	// without execution data; a successful execution writes sfnLogEvents of them.
	sfnLogEventBytes = 600
	sfnLogEvents     = 9
	// sfnDataEvents are the events that carry the input (and so the body) when
	// include_execution_data is on.
	sfnDataEvents = 4
	// lambdaLogBytes is one invocation's START/END/REPORT lines and one line of
	// its own log.
	lambdaLogBytes = 600
)

// CostLine is one service's share of the estimate.
type CostLine struct {
	Service string
	// Usage describes what is billed, per million webhooks.
	Usage string
	USD   float64
}

// Cost is the estimated AWS bill for one million webhooks.
type Cost struct {
	Lines       []CostLine
	TotalUSD    float64
	Prices      Prices
	Assumptions CostAssumptions
	// MemoryMB is each Lambda's memory as generated.tf.json configures it.
	MemoryMB map[string]int
}

// EstimateCost prices one million webhooks that each succeed on their first
// delivery attempt. It is an upper estimate for the queue side (every message
// received and deleted on its own, one forward invocation each) and leaves out
// fixed costs that do not grow with traffic (the event source mapping's empty
// long polls, the alarm, storage of logs and the DLQ).
func EstimateCost(cfg *config.Config, memoryMB map[string]int, p Prices, a CostAssumptions) Cost {
	const million = 1e6
	messageBytes := a.BodyBytes + attributeBytes
	sqsChunks := chunks(messageBytes, 64<<10)
	// send (API Gateway integration) + receive + delete, each per 64 KB chunk
	// except the delete, which carries only a receipt handle.
	sqsRequests := float64(2*sqsChunks + 1)

	deliverSeconds := (a.DeliveryLatency + lambdaOverhead).Seconds()
	execution := a.DeliveryLatency + lambdaOverhead + workflowOverhead
	forwardSeconds := (execution + lambdaOverhead).Seconds()
	billedExecution := math.Ceil(execution.Seconds()*10) / 10

	gb := func(fn string) float64 { return float64(memoryMB[fn]) / 1024 }
	lambdaGBs := gb("forward")*forwardSeconds + gb("deliver")*deliverSeconds

	logBytes := 2 * lambdaLogBytes // forward and deliver
	switch cfg.Logging.Level {
	case config.LogAll:
		logBytes += sfnLogEvents * sfnLogEventBytes
		if cfg.Logging.IncludeExecutionData {
			logBytes += sfnDataEvents * messageBytes
		}
	}

	lines := []CostLine{
		{"API Gateway HTTP API", "1M requests", p.HTTPAPIPerMillion * float64(chunks(a.BodyBytes, 512<<10))},
		{"SQS FIFO", formatMillions(sqsRequests) + " requests (send, receive, delete)", p.SQSFIFOPerMillion * sqsRequests},
		{"Lambda requests", "2M (forward, deliver)", p.LambdaPerMillion * 2},
		{"Lambda arm64 duration", formatFloat(lambdaGBs*million) + " GB-s", p.LambdaArmPerGBSecond * lambdaGBs * million},
		{"Step Functions Express", "1M executions", p.ExpressPerMillion},
		{"Express duration", formatFloat(billedExecution*workflowMemoryMB/1024*million) + " GB-s", p.ExpressPerGBSecond * billedExecution * workflowMemoryMB / 1024 * million},
		{"CloudWatch Logs ingestion", formatFloat(float64(logBytes)*million/1e9) + " GB", p.LogsIngestionPerGB * float64(logBytes) * million / 1e9},
	}
	c := Cost{Lines: lines, Prices: p, Assumptions: a, MemoryMB: memoryMB}
	for _, l := range lines {
		c.TotalUSD += l.USD
	}
	return c
}

func chunks(n, size int) int { return max(1, (n+size-1)/size) }
