package config

import (
	"fmt"
	"slices"
	"strconv"
)

// Throttle is API Gateway's throttling of one route: a token bucket that
// refills at Rate requests per second and holds Burst. A request that finds
// the bucket empty is answered 429 and never reaches the queue.
type Throttle struct {
	// Rate is the steady-state requests per second.
	Rate float64
	// Burst is how many requests may arrive at once above the rate.
	Burst int
}

// The default per-route throttle: well above what a SaaS sends one route in
// normal operation (a sender that is refused retries, or — GitHub — does not,
// so the limit must not bite legitimate traffic), low enough that a flood on
// one public URL costs little and leaves the account's quota to the rest.
const (
	DefaultThrottleRate  = 100
	DefaultThrottleBurst = 200
)

// API Gateway's default account-level throttle quota, per Region, shared by
// every API of the account there; a route's limit cannot exceed it. Most
// Regions have 10,000 requests per second with a 5,000-request bucket; the
// Regions in reducedThrottleRegions have 2,500 and 1,250. (Amazon API Gateway
// quotas, "API Gateway account-level quotas, per Region":
// https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html)
var (
	accountThrottle        = Throttle{Rate: 10000, Burst: 5000}
	reducedAccountThrottle = Throttle{Rate: 2500, Burst: 1250}
	reducedThrottleRegions = []string{
		"af-south-1",     // Africa (Cape Town)
		"eu-south-1",     // Europe (Milan)
		"ap-southeast-3", // Asia Pacific (Jakarta)
		"me-central-1",   // Middle East (UAE)
		"ap-south-2",     // Asia Pacific (Hyderabad)
		"ap-southeast-4", // Asia Pacific (Melbourne)
		"eu-south-2",     // Europe (Spain)
		"eu-central-2",   // Europe (Zurich)
		"il-central-1",   // Israel (Tel Aviv)
		"ca-west-1",      // Canada West (Calgary)
		"ap-southeast-5", // Asia Pacific (Malaysia)
		"ap-southeast-7", // Asia Pacific (Thailand)
		"mx-central-1",   // Mexico (Central)
	}
)

// AccountThrottle is API Gateway's default account-level throttle in region.
func AccountThrottle(region string) Throttle {
	if slices.Contains(reducedThrottleRegions, region) {
		return reducedAccountThrottle
	}
	return accountThrottle
}

// FIFOSendQuota is how many SendMessage calls a second a FIFO queue takes
// without high-throughput mode; ingress sends one per webhook, so past it
// SQS refuses the surplus and API Gateway answers it with an error. (Amazon
// SQS, "Troubleshoot FIFO throttling issues":
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/troubleshooting-fifo-throttling-issues.html)
const FIFOSendQuota = 300

// throttle decodes rate and burst over t (the defaults, or the ingress
// section's for a route's overrides), within the region's account quota.
func (d *decoder) throttle(f fields, t *Throttle, region string) {
	quota := AccountThrottle(region)
	var rate float64
	if n := f.number("rate", &rate); n != nil {
		switch {
		case rate <= 0:
			d.report(n, f.child("rate"), "rate is %s; it must be above 0 requests per second (0 would refuse every webhook)", formatRate(rate))
		case rate > quota.Rate:
			d.report(n, f.child("rate"), "rate is %s; API Gateway's account-level quota in %s is %s requests per second for all APIs of the account, and a route's limit cannot exceed it", formatRate(rate), regionName(region), formatRate(quota.Rate))
		default:
			t.Rate = rate
		}
	}
	f.intRange("burst", &t.Burst, 1, quota.Burst, fmt.Sprintf("requests accepted at once above the rate; API Gateway's account-level bucket in %s holds %d", regionName(region), quota.Burst))
}

func regionName(region string) string {
	if region == "" {
		return "this region"
	}
	return region
}

// formatRate writes a rate without trailing zeros: 100, 0.5.
func formatRate(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }
