package generate

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/tfgen"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

func costLine(t *testing.T, c Cost, prefix string) CostLine {
	t.Helper()
	for _, l := range c.Lines {
		if strings.HasPrefix(l.Service, prefix) {
			return l
		}
	}
	t.Fatalf("no %q line in %+v", prefix, c.Lines)
	return CostLine{}
}

func prices(t *testing.T, region string) Prices {
	t.Helper()
	p, err := PricesFor(region)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// caseCost is the estimate of a golden case in region, at the memory its
// generated locals set.
func caseCost(t *testing.T, name, region string, a CostAssumptions) (Cost, *config.Config) {
	t.Helper()
	cfg := loadCase(t, name)
	cfg.Region = region
	memory, err := lambdaMemory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return EstimateCost(cfg, memory, prices(t, region), a), cfg
}

type pinnedLine struct {
	service    string
	usd, upper float64
}

// The cost model's lines for the minimal config (logging ERROR) and the
// example (logging ALL) in us-east-1 and ap-northeast-1, pinned: a change to
// a price, a measurement or the model shows up here, line by line. The
// minimal case in us-east-1, by hand (docs/generate.md walks through it):
//   - SQS: a 5 KiB message is one 64 KB chunk; send 1 + (receive 1 + delete 1)
//     per batch of 10 = 1.2M requests × $0.50; one per invocation 3M;
//   - forward: 0.1M invocations × $0.20 + 128/1024 GB × (458 ms execution +
//     82 ms) / 10 × 1M × $0.0000133334 = $0.02 + $0.0900;
//   - deliver: 1M × $0.20 + 0.125 GB × (300 + 58) ms × 1M × $0.0000133334;
//   - Express duration: 458 ms billed as 500 ms at 64 MB = 31,250 GB-s;
//   - Lambda logs: forward (260 B + 3 × 26) / 10 + (783 + 2 × 26) per record,
//     deliver 652 + 5 × 26 = 1,650.8 B a webhook, 1.6508 GB × $0.50;
//   - API access log (the minimal config creates its API): one record of
//     accessLogRecord for "POST /orders", 200 bytes, plus 26.
var pinnedCosts = []struct {
	name, region string
	lines        []pinnedLine
	total, upper float64
}{
	{"minimal", "us-east-1", []pinnedLine{
		{"API Gateway HTTP API", 1.0000, 1.0000},
		{"SQS FIFO", 0.6000, 1.5000},
		{"Lambda forward 128 MB", 0.1100, 1.1000},
		{"Lambda deliver 128 MB", 0.7967, 0.7967},
		{"Step Functions Express", 1.0000, 1.0000},
		{"Express duration", 0.5208, 0.5208},
		{"CloudWatch Logs, Lambda", 0.8254, 0.9775},
		{"CloudWatch Logs, Step Functions", 0.0000, 0.0000},
		{"CloudWatch Logs, API access log", 0.1015, 0.1015},
	}, 4.9544, 6.9965},
	{"minimal", "ap-northeast-1", []pinnedLine{
		{"API Gateway HTTP API", 1.2900, 1.2900},
		{"SQS FIFO", 0.6000, 1.5000},
		{"Lambda forward 128 MB", 0.1100, 1.1000},
		{"Lambda deliver 128 MB", 0.7967, 0.7967},
		{"Step Functions Express", 1.0000, 1.0000},
		{"Express duration", 0.5208, 0.5208},
		{"CloudWatch Logs, Lambda", 1.2546, 1.4858},
		{"CloudWatch Logs, Step Functions", 0.0000, 0.0000},
		{"CloudWatch Logs, API access log", 0.1543, 0.1543},
	}, 5.7264, 7.8476},
	{"example", "us-east-1", []pinnedLine{
		{"API Gateway HTTP API", 1.0000, 1.0000},
		{"SQS FIFO", 0.6000, 1.5000},
		{"Lambda forward 128 MB", 0.1100, 1.1000},
		{"Lambda deliver 128 MB", 0.7967, 0.7967},
		{"Step Functions Express", 1.0000, 1.0000},
		{"Express duration", 0.5208, 0.5208},
		{"CloudWatch Logs, Lambda", 0.8254, 0.9775},
		{"CloudWatch Logs, Step Functions", 1.6130, 1.6130},
	}, 6.4659, 8.5080},
	{"example", "ap-northeast-1", []pinnedLine{
		{"API Gateway HTTP API", 1.2900, 1.2900},
		{"SQS FIFO", 0.6000, 1.5000},
		{"Lambda forward 128 MB", 0.1100, 1.1000},
		{"Lambda deliver 128 MB", 0.7967, 0.7967},
		{"Step Functions Express", 1.0000, 1.0000},
		{"Express duration", 0.5208, 0.5208},
		{"CloudWatch Logs, Lambda", 1.2546, 1.4858},
		{"CloudWatch Logs, Step Functions", 2.4860, 2.4860},
	}, 8.0581, 10.1793},
}

func TestCostLinesPinned(t *testing.T) {
	t.Parallel()
	for _, pc := range pinnedCosts {
		c, _ := caseCost(t, pc.name, pc.region, DefaultCostAssumptions)
		var got []string
		mismatch := len(c.Lines) != len(pc.lines)
		for i, l := range c.Lines {
			got = append(got, fmt.Sprintf("\t\t{%q, %.4f, %.4f},", l.Service, l.USD, l.UpperUSD))
			if i < len(pc.lines) && (l.Service != pc.lines[i].service || !cents(l.USD, pc.lines[i].usd) || !cents(l.UpperUSD, pc.lines[i].upper)) {
				mismatch = true
			}
		}
		if mismatch || !cents(c.TotalUSD, pc.total) || !cents(c.UpperTotalUSD, pc.upper) {
			t.Errorf("%s in %s: lines\n%s\n\t}, %.4f, %.4f},", pc.name, pc.region, strings.Join(got, "\n"), c.TotalUSD, c.UpperTotalUSD)
		}
		var sum, upper float64
		for _, l := range c.Lines {
			sum, upper = sum+l.USD, upper+l.UpperUSD
		}
		if math.Abs(sum-c.TotalUSD) > 1e-9 || math.Abs(upper-c.UpperTotalUSD) > 1e-9 {
			t.Errorf("%s in %s: totals %.4f/%.4f, lines add up to %.4f/%.4f", pc.name, pc.region, c.TotalUSD, c.UpperTotalUSD, sum, upper)
		}
	}
}

// cents compares to a hundredth of a cent, the precision the pins are written in.
func cents(got, want float64) bool { return math.Abs(got-want) < 0.00005 }

// The minimal config at its defaults costs at most $5 per million webhooks
// in us-east-1, and the summary prints every assumption behind the figure.
func TestMinimalAtDefaultsWithinFiveDollars(t *testing.T) {
	t.Parallel()
	s, err := Summarize(loadCase(t, "minimal"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Cost == nil {
		t.Fatalf("no estimate: %v", s.CostErr)
	}
	if s.Cost.TotalUSD > 5.00 {
		t.Errorf("minimal config at defaults: $%.2f per million webhooks in us-east-1, want at most $5.00", s.Cost.TotalUSD)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("Estimated AWS cost per million webhooks in us-east-1: $%.2f batched, $%.2f at one message per forward invocation", s.Cost.TotalUSD, s.Cost.UpperTotalUSD),
		"us-east-1 list prices read " + PriceDate,
		"4 KiB average body",
		"the target answers in 300ms",
		"every delivery succeeds at the first attempt",
		"full batch\n    of 10 messages (queue.batch_size) of 10 message groups",
		"forward adds 82ms per batch at 128 MB, deliver 58ms per delivery at 128 MB",
		"Step Functions' own time 100ms per execution, billed in 100ms steps at 64 MB",
		"plus 1 KiB of attributes, one DeleteMessageBatch per batch",
		"plus 26 bytes per CloudWatch event",
		"Not included: empty long polls of the event source mapping, log storage, data transfer.",
		"Fixed per month, whatever the traffic: $13.40 (6 CloudWatch alarms reading 11 metrics $1.10; a dashboard $3.00; up to 31 custom metrics $9.30).",
		"Lambda forward 128 MB",
		"Lambda deliver 128 MB",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "To save") {
		t.Errorf("the minimal config at defaults has nothing to save, summary says:\n%s", text.String())
	}
}

// A region the price table does not have gives no estimate and a message
// naming the region, the regions it has, and what to do; generation goes on.
func TestRegionWithoutPrices(t *testing.T) {
	t.Parallel()
	_, err := PricesFor("sa-east-1")
	want := "no prices for region sa-east-1: the cost model has prices for ap-northeast-1, ap-southeast-1, eu-central-1, eu-west-1, us-east-1, us-west-2 (read " + PriceDate +
		"); add a row for sa-east-1 to regionPrices in internal/generate/prices.go from the AWS pricing pages cited there (generation itself is not affected)"
	if err == nil || err.Error() != want {
		t.Fatalf("PricesFor(sa-east-1) = %v, want %q", err, want)
	}
	cfg := loadCase(t, "minimal")
	cfg.Region = "sa-east-1"
	s, err := Summarize(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if s.Cost != nil || !strings.Contains(text.String(), "Estimated AWS cost per million webhooks: not available: "+want) {
		t.Errorf("summary for sa-east-1:\n%s", text.String())
	}
	for _, region := range []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1", "ap-southeast-1"} {
		if p, err := PricesFor(region); err != nil || p.Region != region || p.HTTPAPIPerMillion <= 0 || p.LogsIngestionPerGB <= 0 || p.LambdaArmPerGBSecond <= 0 {
			t.Errorf("%s: %+v, %v", region, p, err)
		}
	}
}

// Batching lowers the forward line as the model states: one invocation per
// batch of batch_size, running the batch's groups side by side (one group's
// records one after another), against one invocation per message.
func TestBatchingLowersTheForwardLine(t *testing.T) {
	t.Parallel()
	p := prices(t, "us-east-1")
	memory := map[string]int{"forward": 128, "deliver": 128, "notify": 128}
	cfg := func(batch int) *config.Config {
		return &config.Config{Service: "s", Region: "us-east-1", Queue: config.Queue{BatchSize: batch},
			Logging: config.Logging{Level: config.LogOff}, Routes: []config.Route{{Name: "r"}}}
	}
	execution := DefaultCostAssumptions.DeliveryLatency + functionOverhead["deliver"][128] + workflowOverhead
	fwd := functionOverhead["forward"][128]
	price := func(invocations float64, d time.Duration) float64 {
		return p.LambdaPerMillion*invocations + p.LambdaArmPerGBSecond*0.125*d.Seconds()*million
	}
	for _, tc := range []struct {
		name   string
		batch  int
		groups int
		want   float64
	}{
		{"one message a batch", 1, 0, price(1, execution+fwd)},
		{"10 messages of 10 groups", 10, 0, price(0.1, (execution+fwd)/10)},
		{"10 messages of 2 groups: 5 executions in a row", 10, 2, price(0.1, (5*execution+fwd)/10)},
		{"10 messages of one group", 10, 1, price(0.1, (10*execution+fwd)/10)},
	} {
		a := DefaultCostAssumptions
		a.GroupsPerBatch = tc.groups
		c := EstimateCost(cfg(tc.batch), memory, p, a)
		line := costLine(t, c, "Lambda forward")
		if math.Abs(line.USD-tc.want) > 1e-9 {
			t.Errorf("%s: forward $%.6f, want $%.6f", tc.name, line.USD, tc.want)
		}
		if upper := price(1, execution+fwd); math.Abs(line.UpperUSD-upper) > 1e-9 {
			t.Errorf("%s: forward upper bound $%.6f, want $%.6f (one invocation per message)", tc.name, line.UpperUSD, upper)
		}
	}
	one := EstimateCost(cfg(1), memory, p, DefaultCostAssumptions)
	ten := EstimateCost(cfg(10), memory, p, DefaultCostAssumptions)
	if a, b := costLine(t, one, "Lambda forward").USD, costLine(t, ten, "Lambda forward").USD; !(b < a/5) {
		t.Errorf("batch of 10: forward $%.4f, want well under a fifth of one message a batch ($%.4f)", b, a)
	}
	if a, b := costLine(t, one, "SQS FIFO").USD, costLine(t, ten, "SQS FIFO").USD; !(b < a) || one.TotalUSD != one.UpperTotalUSD {
		t.Errorf("SQS batched $%.2f vs $%.2f; a batch of one must price as the upper bound (%.4f vs %.4f)", b, a, one.TotalUSD, one.UpperTotalUSD)
	}
}

// The logs follow logging.level as measured: a success logs nothing from
// Step Functions below ALL, and execution data grows with the body.
func TestLogsFollowTheLevel(t *testing.T) {
	t.Parallel()
	p := prices(t, "us-east-1")
	memory := map[string]int{"forward": 128, "deliver": 128, "notify": 128}
	sfn := func(level config.LogLevel, data bool, body int) float64 {
		cfg := &config.Config{Service: "minimal", Region: "us-east-1", Queue: config.Queue{BatchSize: 10},
			Logging: config.Logging{Level: level, IncludeExecutionData: data}, Routes: []config.Route{{Name: "orders"}}}
		a := DefaultCostAssumptions
		a.BodyBytes = body
		return costLine(t, EstimateCost(cfg, memory, p, a), "CloudWatch Logs, Step Functions").USD
	}
	for _, level := range []config.LogLevel{config.LogOff, config.LogFatal, config.LogError} {
		if got := sfn(level, true, 4<<10); got != 0 {
			t.Errorf("%s: $%.4f, want nothing for a success", level, got)
		}
	}
	all, data := sfn(config.LogAll, false, 4<<10), sfn(config.LogAll, true, 4<<10)
	// The reference execution, exactly as measured: 9 events of 2,812 bytes
	// plus 26 bytes each.
	if want := p.LogsIngestionPerGB * float64(2812+9*26) * million / 1e9; math.Abs(all-want) > 1e-9 {
		t.Errorf("ALL: $%.4f, want $%.4f", all, want)
	}
	if !(data > 10*all) {
		t.Errorf("ALL with data $%.4f, want far above ALL's $%.4f: every event carries the body", data, all)
	}
	if bigger := sfn(config.LogAll, true, 8<<10); math.Abs(bigger-data-p.LogsIngestionPerGB*8.37*(4<<10)*million/1e9) > 1e-9 {
		t.Errorf("4 KiB more body: $%.4f → $%.4f, want 8.37 bytes more per body byte", data, bigger)
	}
}

// Where one setting dominates, the summary says what changing it saves.
func TestSavingsName(t *testing.T) {
	t.Parallel()
	c, _ := caseCost(t, "example", "us-east-1", DefaultCostAssumptions)
	if len(c.Savings) == 0 || c.Savings[0].Change != "logging.level: ALL → ERROR" {
		t.Fatalf("example (logging ALL) savings %+v, want logging.level first", c.Savings)
	}
	if want := costLine(t, c, "CloudWatch Logs, Step Functions").USD; math.Abs(c.Savings[0].USD-want) > 1e-9 {
		t.Errorf("ALL → ERROR saves $%.4f, want the Step Functions log line $%.4f", c.Savings[0].USD, want)
	}

	cfg := loadCase(t, "minimal")
	memory := map[string]int{"forward": 128, "deliver": 1024, "notify": 128}
	c = EstimateCost(cfg, memory, prices(t, "us-east-1"), DefaultCostAssumptions)
	if len(c.Savings) != 1 || c.Savings[0].Change != "functions.deliver.memory_mb: 1024 → 128" {
		t.Errorf("deliver at 1024 MB: savings %+v, want the deliver memory", c.Savings)
	}
	same := EstimateCost(cfg, map[string]int{"forward": 128, "deliver": 128, "notify": 128}, prices(t, "us-east-1"), DefaultCostAssumptions)
	if math.Abs(c.TotalUSD-c.Savings[0].USD-same.TotalUSD) > 1e-9 {
		t.Errorf("the saving $%.4f is not the difference to the default's $%.4f", c.Savings[0].USD, c.TotalUSD-same.TotalUSD)
	}
}

// The fixed costs are counted from the tables the module is generated from.
// Custom metrics: for one route, Delivered, DeliveryLatency, Attempts,
// Receives and TargetResponseTime by route (5), FailedAttempts by route and
// 8 classes (8), Parked by route and 6 reasons plus by reason (12): 25, and
// the 6 detailed metrics of the route on the API the minimal config creates;
// for the example's two routes on an existing API, 5×2 + 16 + 18 = 44.
// Alarms (terraform/alarms.tf): backlog_age 1 metric, parked 5 (every reason
// but signature), dlq_depth 1, execution_failures 2 per route,
// deliver_throttles 1, rejected_signatures 1.
func TestFixedCostsCountTheModule(t *testing.T) {
	t.Parallel()
	cfg := loadCase(t, "minimal")
	values := dimensionValues(cfg)
	for _, m := range metrics.Table {
		for _, set := range m.DimensionSets {
			for _, d := range set {
				if values[d] <= 0 {
					t.Errorf("metric %s: dimension %s has no value count in dimensionValues", m.Name, d)
				}
			}
		}
	}
	want := map[config.Alarm]int{config.AlarmBacklogAge: 1, config.AlarmParked: 5, config.AlarmDLQDepth: 1,
		config.AlarmExecutionFailures: 2, config.AlarmDeliverThrottles: 1, config.AlarmRejectedSignatures: 1}
	for _, a := range config.AlarmSpecs {
		if n, ok := want[a.Alarm]; !ok || alarmMetrics(a.Alarm) != n {
			t.Errorf("alarm %s reads %d metrics in the model; terraform/alarms.tf has %d (0: a new kind to count)", a.Alarm, alarmMetrics(a.Alarm), n)
		}
	}
	for name, want := range map[string][]FixedCost{
		"minimal": {{"6 CloudWatch alarms reading 11 metrics", 1.10}, {"a dashboard", 3.00}, {"up to 31 custom metrics", 31 * 0.30}},
		"example": {{"7 CloudWatch alarms reading 13 metrics", 1.30}, {"a dashboard", 3.00}, {"up to 44 custom metrics", 44 * 0.30}},
	} {
		c, _ := caseCost(t, name, "us-east-1", DefaultCostAssumptions)
		if len(c.Fixed) != len(want) {
			t.Fatalf("%s: fixed costs %+v, want %+v", name, c.Fixed, want)
		}
		for i, f := range c.Fixed {
			if f.What != want[i].What || math.Abs(f.USDPerMonth-want[i].USDPerMonth) > 1e-9 {
				t.Errorf("%s: fixed cost %+v, want %+v", name, f, want[i])
			}
		}
	}
}

// A service with more routes than one dashboard holds pays for each
// dashboard the module creates.
func TestFixedCostsCountTheDashboards(t *testing.T) {
	t.Parallel()
	cfg := loadCase(t, "minimal")
	for len(cfg.Routes) <= tfgen.RoutesPerDashboard {
		r := cfg.Routes[0]
		r.Name = fmt.Sprintf("r%d", len(cfg.Routes))
		cfg.Routes = append(cfg.Routes, r)
	}
	c := EstimateCost(cfg, map[string]int{"forward": 128, "deliver": 128, "notify": 128}, prices(t, "us-east-1"), DefaultCostAssumptions)
	if f := c.Fixed[1]; f.What != "2 dashboards" || f.USDPerMonth != 6.00 {
		t.Errorf("%d routes: %+v, want 2 dashboards at $3.00", len(cfg.Routes), f)
	}
}

// The access log record the model prices has the fields terraform/ingress.tf
// writes, each the $context variable it stands for.
func TestAccessLogFieldsMatchTheModule(t *testing.T) {
	t.Parallel()
	hcl, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "terraform", "ingress.tf"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)access_log_format\s*=\s*jsonencode\(\{(.*?)\}\)`).FindSubmatch(hcl)
	if block == nil {
		t.Fatal("terraform/ingress.tf has no access_log_format = jsonencode({…})")
	}
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+)\s*=\s*"([^"]*)"`).FindAllSubmatch(block[1], -1) {
		got[string(m[1])] = string(m[2])
	}
	if !maps.Equal(got, accessLogFields) {
		t.Errorf("terraform/ingress.tf's access log has %v; the cost model prices %v", got, accessLogFields)
	}
	var rec map[string]string
	if err := json.Unmarshal(accessLogRecord("POST /orders"), &rec); err != nil || !slices.Equal(slices.Sorted(maps.Keys(rec)), slices.Sorted(maps.Keys(accessLogFields))) {
		t.Errorf("accessLogRecord %v (%v) does not have the fields of accessLogFields", rec, err)
	}
}

// More memory is priced at its size, with the overhead measured at the
// largest measured size not above it.
func TestMemoryPricedAsMeasured(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		memory, measuredAt int
	}{{128, 128}, {200, 128}, {256, 256}, {511, 256}, {512, 512}, {10240, 512}} {
		if _, at := overhead("deliver", tc.memory); at != tc.measuredAt {
			t.Errorf("deliver at %d MB uses the overhead measured at %d MB, want %d", tc.memory, at, tc.measuredAt)
		}
	}
	p := prices(t, "us-east-1")
	cfg := loadCase(t, "minimal")
	at := func(mb int) float64 {
		c := EstimateCost(cfg, map[string]int{"forward": 128, "deliver": mb, "notify": 128}, p, DefaultCostAssumptions)
		return costLine(t, c, "Lambda deliver").USD - p.LambdaPerMillion
	}
	if want := 0.5 * (0.3 + functionOverhead["deliver"][512].Seconds()) * p.LambdaArmPerGBSecond * million; math.Abs(at(512)-want) > 1e-9 {
		t.Errorf("deliver duration at 512 MB $%.4f, want $%.4f", at(512), want)
	}
	if !(at(1024) > at(512)) {
		t.Errorf("deliver at 1024 MB ($%.4f) must cost more than at 512 MB ($%.4f)", at(1024), at(512))
	}
}
