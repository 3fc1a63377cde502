package generate

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// PriceDate is when the prices below were read.
const PriceDate = "2026-12-06"

// Prices are one region's AWS on-demand list prices in US dollars, first
// pricing tier, free tiers ignored.
type Prices struct {
	Region string
	// HTTPAPIPerMillion is API Gateway HTTP API, per million requests (each
	// request metered in 512 KB increments).
	HTTPAPIPerMillion float64
	// SQSFIFOPerMillion is SQS FIFO, per million requests; every 64 KB chunk
	// of a request's payload is one request.
	SQSFIFOPerMillion float64
	// LambdaPerMillion is Lambda, per million requests (arm64).
	LambdaPerMillion float64
	// LambdaArmPerGBSecond is Lambda duration on arm64, first tier.
	LambdaArmPerGBSecond float64
	// ExpressPerMillion is Step Functions Express, per million executions.
	ExpressPerMillion float64
	// ExpressPerGBSecond is Express duration (billed in 64 MB memory units
	// and 100 ms steps), first 1,000 GB-hours.
	ExpressPerGBSecond float64
	// LogsIngestionPerGB is CloudWatch Logs ingestion, Standard class; vended
	// logs (Step Functions, Lambda) pay the same in their first tier.
	LogsIngestionPerGB float64
	// AlarmPerMonth is one standard-resolution metric alarm a month.
	AlarmPerMonth float64
	// DashboardPerMonth is one custom dashboard a month.
	DashboardPerMonth float64
	// MetricPerMonth is one custom metric a month, first tier (EMF metrics
	// are custom metrics).
	MetricPerMonth float64
}

// regionPrices is the one price table of the cost model, read on PriceDate.
// Sources, by column:
//   - HTTP API: https://aws.amazon.com/api-gateway/pricing/ (HTTP APIs, by
//     region; us-east-1 also in AWS's whitepaper "Best Practices for
//     Designing Amazon API Gateway Private APIs and Private Integration",
//     Cost optimization, table 4: $1.00/M, 512 KB metering).
//   - SQS FIFO: https://aws.amazon.com/sqs/pricing/ ($0.50/M FIFO
//     requests; sends, receives, deletes and visibility changes all count;
//     64 KB chunks).
//   - Lambda: https://aws.amazon.com/lambda/pricing/ (arm64: $0.20/M
//     requests, $0.0000133334 per GB-second for the first 7.5 billion
//     GB-seconds; the same in all six regions).
//   - Step Functions Express: https://aws.amazon.com/step-functions/pricing/
//     ($1.00/M requests, $0.06 per GB-hour = $0.00001667/GB-s for the first
//     1,000 GB-hours; 64 MB units, 100 ms rounding; its region table lists
//     the six regions at the us-east-1 rate).
//   - CloudWatch: https://aws.amazon.com/cloudwatch/pricing/ (Logs
//     ingestion, Standard class and vended logs' first tier; $0.10 per
//     standard-resolution alarm metric, $3.00 per dashboard, $0.30 per custom
//     metric, first tier).
//
// docs/generate.md ("Prices") lists which figures were checked against a
// second copy on PriceDate.
var regionPrices = map[string]Prices{
	"us-east-1": {
		HTTPAPIPerMillion: 1.00, SQSFIFOPerMillion: 0.50, LogsIngestionPerGB: 0.50,
	},
	"us-west-2": {
		HTTPAPIPerMillion: 1.00, SQSFIFOPerMillion: 0.50, LogsIngestionPerGB: 0.50,
	},
	"eu-west-1": {
		HTTPAPIPerMillion: 1.11, SQSFIFOPerMillion: 0.50, LogsIngestionPerGB: 0.57,
	},
	"eu-central-1": {
		HTTPAPIPerMillion: 1.20, SQSFIFOPerMillion: 0.50, LogsIngestionPerGB: 0.63,
	},
	"ap-northeast-1": {
		HTTPAPIPerMillion: 1.29, SQSFIFOPerMillion: 0.50, LogsIngestionPerGB: 0.76,
	},
	"ap-southeast-1": {
		HTTPAPIPerMillion: 1.20, SQSFIFOPerMillion: 0.50, LogsIngestionPerGB: 0.70,
	},
}

// The prices that are the same in every region of the table.
const (
	lambdaPerMillion     = 0.20
	lambdaArmPerGBSecond = 0.0000133334
	expressPerMillion    = 1.00
	expressPerGBSecond   = 0.06 / 3600
	alarmPerMonth        = 0.10
	dashboardPerMonth    = 3.00
	metricPerMonth       = 0.30
)

// PriceRegions lists the regions the cost model has prices for, sorted.
func PriceRegions() []string { return slices.Sorted(maps.Keys(regionPrices)) }

// PricesFor returns region's prices, or an error saying which regions have
// them and what to do.
func PricesFor(region string) (Prices, error) {
	p, ok := regionPrices[region]
	if !ok {
		return Prices{}, fmt.Errorf("no prices for region %s: the cost model has prices for %s (read %s); add a row for %s to regionPrices in internal/generate/prices.go from the AWS pricing pages cited there (generation itself is not affected)",
			region, strings.Join(PriceRegions(), ", "), PriceDate, region)
	}
	p.Region = region
	p.LambdaPerMillion, p.LambdaArmPerGBSecond = lambdaPerMillion, lambdaArmPerGBSecond
	p.ExpressPerMillion, p.ExpressPerGBSecond = expressPerMillion, expressPerGBSecond
	p.AlarmPerMonth, p.DashboardPerMonth, p.MetricPerMonth = alarmPerMonth, dashboardPerMonth, metricPerMonth
	return p, nil
}
