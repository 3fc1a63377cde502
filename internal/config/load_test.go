package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const examplePath = "../../config/routes.yaml"

func TestBadConfigs(t *testing.T) {
	t.Parallel()
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("bad.yaml", []byte(tc.yaml))
			if c != nil {
				t.Errorf("Parse returned a Config along with the error")
			}
			var diags Diagnostics
			if !errors.As(err, &diags) {
				t.Fatalf("Parse error = %v (%T), want Diagnostics", err, err)
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", got, want)
			}
			if len(diags) != len(tc.want) {
				t.Errorf("%d diagnostics, want %d", len(diags), len(tc.want))
			}
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	t.Parallel()
	const src = `service: shop
regon: us-east-1
target:
  base_url: http://app.example.com
  timeout: 10
queue:
  batch_size: 20
retry:
  jitter: sometimes
routes:
  - name: orders
    path: orders
    group: static:orders
    verify: {scheme: none, reason: the sender signs nothing}
  - name: orders
    path: /refunds
    group: header:X-Id
    dedup: request-id
logging:
  retention_days: 2
`
	_, err := Parse("all.yaml", []byte(src))
	want := strings.Join([]string{
		`all.yaml:1:1: region: required; set the AWS region to deploy to, e.g. region: ap-northeast-1`,
		`all.yaml:2:1: regon: unknown key "regon"; did you mean "region"?`,
		`all.yaml:4:13: target.base_url: "http://app.example.com" uses http; use https (http is allowed only for localhost, 127.0.0.1 and [::1])`,
		`all.yaml:5:12: target.timeout: must be a duration like 30s, 5m, 1h30m or 4d, not a number; add a unit`,
		`all.yaml:7:15: queue.batch_size: batch_size is 20; it must be between 1 and 10 (a FIFO event source mapping takes at most 10 messages a batch)`,
		`all.yaml:9:11: retry.jitter: "sometimes" is not one of full, none; use one of them`,
		`all.yaml:12:11: routes[0].path: "orders" is not a usable ingress path; start with / and use only letters, digits and . _ ~ - between single slashes (a static API Gateway route path), e.g. /approval-progress`,
		`all.yaml:15:5: routes[1].verify: ` + missingVerify,
		`all.yaml:15:11: routes[1].name: route name "orders" is already used on line 11; route names must be unique`,
		`all.yaml:18:12: routes[1].dedup: "request-id" is not a dedup source; use content, request_id or header:NAME (a provider's delivery-id header)`,
		`all.yaml:20:19: logging.retention_days: CloudWatch Logs keeps logs for one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 days; pick one of those`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("diagnostics:\n%v\nwant:\n%s", err, want)
	}
}

func TestDiagnosticsPrintInFileOrder(t *testing.T) {
	t.Parallel()
	ds := Diagnostics{
		{File: "r.yaml", Line: 9, Col: 3, Path: "retry.interval", Message: "b"},
		{File: "r.yaml", Line: 2, Col: 9, Path: "region", Message: "a"},
		{File: "r.yaml", Line: 9, Col: 1, Path: "retry", Message: "c"},
		{File: "r.yaml", Line: 1, Col: 1, Message: "d"},
	}
	want := "r.yaml:1:1: d\nr.yaml:2:9: region: a\nr.yaml:9:1: retry: c\nr.yaml:9:3: retry.interval: b"
	if got := ds.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	if ds[0].Line != 9 {
		t.Errorf("Error() reordered the receiver")
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "routes.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestExampleLoads(t *testing.T) {
	t.Parallel()
	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("the example config does not load:\n%v", err)
	}
	if c.Service != "sales-approvals" || c.Region != "ap-northeast-1" || c.Ingress.HTTPAPIName != "sales-support-api" || c.Ingress.BasePath != "/hooks" {
		t.Errorf("service/region/ingress = %q %q %+v", c.Service, c.Region, c.Ingress)
	}
	if c.Target.Signing == nil || c.Target.Signing.SSMParameter != "/sales-approvals/outbound-signing-secret" {
		t.Errorf("signing secret = %+v", c.Target.Signing)
	}
	if len(c.Routes) < 2 {
		t.Fatalf("%d routes, the example needs at least two", len(c.Routes))
	}
	progress, completed := c.Routes[0], c.Routes[1]
	if progress.Group == completed.Group || progress.TargetURL == completed.TargetURL {
		t.Errorf("the example's routes share a group or target: %+v %+v", progress.Group, completed.Group)
	}
	if want := "https://sales-support.internal.example.com/api/webhooks/approval-progress"; progress.TargetURL != want {
		t.Errorf("TargetURL = %q, want %q", progress.TargetURL, want)
	}
	if progress.Verify == nil || progress.Verify.Scheme != VerifyHMAC || progress.Verify.Header != "X-Workflow-Signature" || progress.Verify.Tolerance != DefaultVerifyTolerance {
		t.Errorf("verify = %+v", progress.Verify)
	}
	if completed.Verify == nil || *completed.Verify != *progress.Verify || completed.Unverified != "" {
		t.Errorf("approval-completed must verify as approval-progress does (the same sender): %+v", completed.Verify)
	}
	if completed.Timeout != 20*time.Second || completed.Retry.MaxAttempts != 4 || completed.Retry.Interval != 5*time.Second || completed.Notify.When != NotifyEveryFailure {
		t.Errorf("approval-completed overrides not merged: timeout %v retry %+v notify %v", completed.Timeout, completed.Retry, completed.Notify.When)
	}
	if completed.Retry.MaxDelay != c.Retry.MaxDelay || completed.Notify.SlackWebhookURL != c.Notify.SlackWebhookURL {
		t.Errorf("approval-completed lost the top-level values it does not override")
	}
	for _, rb := range ComputeBudget(c).Routes {
		if rb.WorstExecution >= ExpressMaxDuration {
			t.Errorf("route %s: worst case %v does not fit Express", rb.Route, rb.WorstExecution)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	const path = "testdata/minimal.yaml"
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Path:    path,
		Service: "shop",
		Region:  "us-east-1",
		Ingress: Ingress{Throttle: Throttle{Rate: 100, Burst: 200}},
		Target:  Target{BaseURL: "https://app.example.com", Timeout: 10 * time.Second},
		Queue: Queue{RetryWindow: time.Hour, Retention: 4 * 24 * time.Hour, DLQRetention: 14 * 24 * time.Hour, BatchSize: 10,
			MaxConcurrency: 10, HighThroughput: true, RedeliveryDelay: 30 * time.Second, MaxRedeliveryDelay: 15 * time.Minute},
		Retry:   Retry{MaxAttempts: 3, Interval: 2 * time.Second, BackoffRate: 2, MaxDelay: 30 * time.Second, Jitter: JitterFull, On: AllOutcomes},
		Notify:  Notify{When: NotifyNever},
		Logging: Logging{Level: LogError, RetentionDays: 30},
		Lambdas: map[string]Lambda{"forward": {MemoryMB: 128}, "deliver": {MemoryMB: 128}, "notify": {MemoryMB: 128}},
		Alarms: map[Alarm]int{AlarmBacklogAge: 600, AlarmParked: 1, AlarmDLQDepth: 1, AlarmExecutionFailures: 3,
			AlarmDeliverThrottles: 1, AlarmRejectedSignatures: 1},
	}
	want.Routes = []Route{{
		Name: "orders", Path: "/orders", Group: Group{Source: GroupStatic, Value: "orders"},
		TargetURL: "https://app.example.com", Dedup: Dedup{Source: DedupContent},
		Unverified: "the shop's test sender signs nothing",
		Timeout:    want.Target.Timeout, Retry: want.Retry, Notify: want.Notify, Throttle: want.Ingress.Throttle,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if got.IngressPath(got.Routes[0]) != "/orders" || !got.Ingress.CreatesAPI() {
		t.Errorf("without ingress settings webhookq creates its API and routes sit at the root")
	}
}

func TestNotifyDefaultsToFinalWithAChannel(t *testing.T) {
	t.Parallel()
	c, err := Parse("n.yaml", []byte(base+"notify:\n  slack_webhook_url: {env: SLACK_URL}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Notify.When != NotifyFinal || c.Routes[0].Notify.When != NotifyFinal {
		t.Errorf("notify.when = %q (route %q), want final once a channel is set", c.Notify.When, c.Routes[0].Notify.When)
	}
}

// A route's target_url is its URL as written, whatever the case of its scheme
// (url.Parse accepts HTTPS://); only routes without one take target.base_url.
func TestTargetURLIsNotJoinedToTheBaseURL(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		head + "    target_url: HTTPS://other.example.com/hook\n",
		base + "    target_url: HTTPS://other.example.com/hook\n",
	} {
		c, err := Parse("u.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%v\n%s", err, src)
		}
		if got := c.Routes[0].TargetURL; got != "HTTPS://other.example.com/hook" {
			t.Errorf("TargetURL = %q, want the target_url as written\n%s", got, src)
		}
	}
}

func TestOverridesMergeOverTopLevel(t *testing.T) {
	t.Parallel()
	c, err := Load("testdata/overrides.yaml")
	if err != nil {
		t.Fatal(err)
	}
	top := Retry{MaxAttempts: 4, Interval: time.Second, BackoffRate: 1.5, MaxDelay: 10 * time.Second, Jitter: JitterNone, On: []Outcome{OutcomeServerError, OutcomeTimeout}}
	if !reflect.DeepEqual(c.Retry, top) {
		t.Errorf("top-level retry = %+v, want %+v", c.Retry, top)
	}
	invoices, refunds := c.Routes[0], c.Routes[1]
	wantInvoicesRetry := top
	wantInvoicesRetry.MaxAttempts, wantInvoicesRetry.On = 2, []Outcome{OutcomeConnection}
	if !reflect.DeepEqual(invoices.Retry, wantInvoicesRetry) {
		t.Errorf("invoices retry = %+v, want %+v", invoices.Retry, wantInvoicesRetry)
	}
	if !reflect.DeepEqual(refunds.Retry, top) {
		t.Errorf("refunds retry = %+v, want the top level %+v", refunds.Retry, top)
	}
	if invoices.Timeout != 30*time.Second || refunds.Timeout != 5*time.Second {
		t.Errorf("timeouts = %v, %v; want 30s (override), 5s (top level)", invoices.Timeout, refunds.Timeout)
	}
	if c.Notify.When != NotifyFinal || invoices.Notify.When != NotifyEveryFailure || refunds.Notify.When != NotifyNever {
		t.Errorf("notify.when = %q, %q, %q; want final, every_failure, never", c.Notify.When, invoices.Notify.When, refunds.Notify.When)
	}
	if c.MemoryMB("deliver") != 512 || c.MemoryMB("forward") != 128 || c.MemoryMB("notify") != 128 {
		t.Errorf("memory forward/deliver/notify = %d/%d/%d MB; want 128 (default), 512 (set), 128 (empty mapping: default)",
			c.MemoryMB("forward"), c.MemoryMB("deliver"), c.MemoryMB("notify"))
	}
	if c.Ingress.Throttle != (Throttle{Rate: 20, Burst: 40}) || invoices.Throttle != (Throttle{Rate: 2.5, Burst: 40}) || refunds.Throttle != c.Ingress.Throttle {
		t.Errorf("throttle top/invoices/refunds = %+v %+v %+v; want 20/40, 2.5/40 (rate overridden), the top level",
			c.Ingress.Throttle, invoices.Throttle, refunds.Throttle)
	}
	if c.Alarms[AlarmBacklogAge] != 5400 || c.Alarms[AlarmExecutionFailures] != 10 || c.Alarms[AlarmParked] != 1 {
		t.Errorf("alarms = %v; want backlog_age 5400 s and execution_failures 10 (set), parked 1 (default)", c.Alarms)
	}
	if invoices.Notify.SNSTopicARN != c.Notify.SNSTopicARN {
		t.Errorf("the override of notify.when dropped the topic")
	}
	// Overriding a route's retry must not alias the top-level slice.
	c.Routes[0].Retry.On[0] = OutcomeThrottled
	if c.Retry.On[0] != OutcomeServerError || c.Routes[1].Retry.On[0] != OutcomeServerError {
		t.Errorf("routes share the retry.on slice with the top level")
	}

	wantTargets := []string{"http://localhost:8080/hooks/invoices?source=stripe", "https://refunds.example.org/api/in"}
	for i, w := range wantTargets {
		if c.Routes[i].TargetURL != w {
			t.Errorf("route %d TargetURL = %q, want %q", i, c.Routes[i].TargetURL, w)
		}
	}
	if invoices.Group != (Group{Source: GroupHeader, Value: "X-Customer-Id"}) || refunds.Group != (Group{Source: GroupBody, Value: "refund.charge.id"}) {
		t.Errorf("groups = %+v, %+v", invoices.Group, refunds.Group)
	}
	if invoices.Dedup != (Dedup{Source: DedupRequestID}) || refunds.Dedup != (Dedup{Source: DedupHeader, Header: "Idempotency-Token"}) {
		t.Errorf("dedup = %+v, %+v", invoices.Dedup, refunds.Dedup)
	}
	if !reflect.DeepEqual(invoices.Headers, []string{"Stripe-Signature"}) {
		t.Errorf("carried headers = %q, want canonical names", invoices.Headers)
	}
	if v := invoices.Verify; v == nil || v.Scheme != VerifyStripe || v.Tolerance != 10*time.Minute || v.Secret.SSMParameter != "/billing/stripe-signing-secret" {
		t.Errorf("invoices verify = %+v", v)
	}
	wantSecrets := map[string]SecretRef{"Authorization": {SecretsManager: "billing/target-token"}, "X-Tenant-Key": {Env: "TENANT_KEY"}}
	if !reflect.DeepEqual(c.Target.SecretHeaders, wantSecrets) {
		t.Errorf("secret headers = %+v, want %+v", c.Target.SecretHeaders, wantSecrets)
	}
	wantQueue := Queue{RetryWindow: 0, Retention: 36 * time.Hour, DLQRetention: 7 * 24 * time.Hour, BatchSize: 1, MaxConcurrency: 2, HighThroughput: true, MaxRedeliveryDelay: time.Hour}
	if c.Queue != wantQueue {
		t.Errorf("queue = %+v, want %+v", c.Queue, wantQueue)
	}
	if c.Logging != (Logging{Level: LogOff, IncludeExecutionData: true, RetentionDays: 7}) || c.Ingress.MaxBodyBytes != 65536 || c.Ingress.BasePath != "/webhooks" {
		t.Errorf("logging %+v ingress %+v", c.Logging, c.Ingress)
	}
}

func TestAliasesResolve(t *testing.T) {
	t.Parallel()
	const src = `service: shop
region: us-east-1
target:
  base_url: https://app.example.com
  signing_secret: &s {ssm_parameter: /shop/secret}
routes:
  - name: orders
    path: /orders
    group: static:orders
    headers: [X-Hub-Signature-256]
    verify: {scheme: github, secret: *s}
`
	c, err := Parse("alias.yaml", []byte(src))
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if c.Routes[0].Verify.Secret != *c.Target.Signing {
		t.Errorf("alias not resolved: %+v vs %+v", c.Routes[0].Verify.Secret, c.Target.Signing)
	}
}

func TestAliasFanOutIsBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("service: shop\nregion: us-east-1\ntarget:\n  base_url: https://app.example.com\n")
	b.WriteString("routes:\n  - &r {name: a, path: /a, group: static:a, headers: [X-A, X-B, X-C, X-D, X-E]}\n")
	for range 50_000 {
		b.WriteString("  - *r\n")
	}
	_, err := Parse("fan.yaml", []byte(b.String()))
	var diags Diagnostics
	if !errors.As(err, &diags) || !strings.Contains(err.Error(), "document too large or too deeply aliased") {
		t.Fatalf("a document that expands past the node budget must be refused; got %.300v", err)
	}
	// Every alias repeats the route name: the report stops at its cap.
	if len(diags) > maxDiagnostics+2 || !strings.Contains(err.Error(), "fan.yaml:1:1: more than 1000 problems; fix these and run again") {
		t.Errorf("%d diagnostics; want the cap of %d, a closing note and the size note", len(diags), maxDiagnostics)
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"30s", 30 * time.Second, false},
		{"1h30m", 90 * time.Minute, false},
		{"4d", 96 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"0d", 0, false},
		{"500ms", 500 * time.Millisecond, false},
		{"", 0, true},
		{"-5s", 0, true},
		{"1d-5s", 0, true},
		{"1.5d", 0, true},
		{"d", 0, true},
		{"4", 0, true},
		{"1h1d", 0, true},
		{"106752d", 0, true},
		{"106751d24h", 0, true},
	} {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		word string
		want string
		ok   bool
	}{
		{"retyr", "retry", true},
		{"max_attemps", "max_attempts", true},
		{"Region", "region", true},
		{"targets", "target", true},
		{"colour", "", false},
		{"x", "", false},
		{strings.Repeat("region", 20), "", false},
	} {
		got, ok := suggest(tc.word, keysAt[""])
		if tc.word == "max_attemps" {
			got, ok = suggest(tc.word, keysAt["retry"])
		}
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("suggest(%q) = %q, %v; want %q, %v", tc.word, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidTestdataLoads(t *testing.T) {
	t.Parallel()
	for _, path := range validConfigs(t) {
		if _, err := Load(path); err != nil {
			t.Errorf("%s:\n%v", path, err)
		}
	}
}

// validConfigs are the example and every config in testdata (all valid).
func validConfigs(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no testdata configs: %v", err)
	}
	return append(paths, examplePath)
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(examplePath, data); err != nil {
			b.Fatal(err)
		}
	}
}

// High-throughput FIFO is the default; routes.yaml can opt out.
func TestHighThroughputOptOut(t *testing.T) {
	t.Parallel()
	base := "service: shop\nregion: ap-northeast-1\ntarget:\n  base_url: https://app.example.com\nroutes:\n  - name: orders\n    path: /orders\n    group: static:orders\n    verify: {scheme: none, reason: the test sender signs nothing}\n"
	for _, tc := range []struct {
		yaml  string
		want  bool
		quota int
	}{
		{base, true, HighThroughputSendQuota("ap-northeast-1")},
		{base + "queue:\n  high_throughput: false\n", false, FIFOSendQuota},
	} {
		c, err := Parse("routes.yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if c.Queue.HighThroughput != tc.want || c.QueueSendQuota() != tc.quota {
			t.Errorf("high_throughput %v with quota %d, want %v and %d", c.Queue.HighThroughput, c.QueueSendQuota(), tc.want, tc.quota)
		}
	}
}
