package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/webhookq/webhookq/internal/webhook"
)

// Defaults of every optional setting (docs/config.md lists them).
const (
	DefaultTargetTimeout      = 10 * time.Second
	DefaultRetention          = 4 * day
	DefaultDLQRetention       = 14 * day
	DefaultBatchSize          = 10
	DefaultMaxConcurrency     = 10
	DefaultRedeliveryDelay    = 30 * time.Second
	DefaultMaxRedeliveryDelay = 15 * time.Minute
	DefaultMaxAttempts        = 3
	DefaultInterval           = 2 * time.Second
	DefaultBackoffRate        = 2.0
	DefaultMaxDelay           = 30 * time.Second
	DefaultLogLevel           = LogError
	DefaultRetentionDays      = 30
	DefaultVerifyTolerance    = 5 * time.Minute
)

// DefaultPath is where the commands look for routes.yaml unless told
// otherwise (their -config flag), relative to the repository root.
const DefaultPath = "config/routes.yaml"

// Load reads path and returns its validated Config, or Diagnostics listing
// every problem in it.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// LoadBundled loads the routes.yaml a Lambda runs with: $WEBHOOKQ_CONFIG,
// else the copy cmd/generate bundles next to the bootstrap in $LAMBDA_TASK_ROOT.
func LoadBundled() (*Config, error) {
	path := os.Getenv(webhook.EnvConfig)
	if path == "" {
		path = filepath.Join(os.Getenv("LAMBDA_TASK_ROOT"), "routes.yaml")
	}
	return Load(path)
}

// Parse validates data, the contents of the routes.yaml named path. Any
// problem yields Diagnostics (every problem, in file order) and no Config.
func Parse(path string, data []byte) (*Config, error) {
	d := &decoder{file: path}
	c := d.document(data)
	if len(d.diags) > 0 {
		sortDiagnostics(d.diags)
		return nil, d.diags
	}
	sortDiagnostics(d.warnings)
	c.Warnings = d.warnings
	return c, nil
}

func defaultConfig(path string) *Config {
	return &Config{
		Path:    path,
		Ingress: Ingress{Throttle: Throttle{Rate: DefaultThrottleRate, Burst: DefaultThrottleBurst}},
		Target:  Target{Timeout: DefaultTargetTimeout},
		Queue: Queue{
			RetryWindow:        DefaultRetryWindow,
			Retention:          DefaultRetention,
			DLQRetention:       DefaultDLQRetention,
			BatchSize:          DefaultBatchSize,
			MaxConcurrency:     DefaultMaxConcurrency,
			HighThroughput:     true,
			RedeliveryDelay:    DefaultRedeliveryDelay,
			MaxRedeliveryDelay: DefaultMaxRedeliveryDelay,
		},
		Retry: Retry{
			MaxAttempts: DefaultMaxAttempts,
			Interval:    DefaultInterval,
			BackoffRate: DefaultBackoffRate,
			MaxDelay:    DefaultMaxDelay,
			Jitter:      JitterFull,
			On:          slices.Clone(AllOutcomes),
		},
		Logging: Logging{Level: DefaultLogLevel, RetentionDays: DefaultRetentionDays},
		Lambdas: defaultLambdas(),
		Alarms:  defaultAlarms(),
	}
}

// routeNodes keeps where a route's settings are, for checks across routes.
type routeNodes struct {
	node, name, path, group, dedup *yaml.Node
	targetURL                      *yaml.Node // nil: the route's URL is target.base_url + target_path
	notifyWhen                     *yaml.Node // overrides.notify.when
	budgetInputsBad                bool       // an override the budget depends on was invalid
}

func (d *decoder) document(data []byte) *Config {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.report(nil, "", "the file is empty; start from config/routes.yaml")
		} else {
			d.syntaxError(err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.report(&extra, "", "a second YAML document (after ---); keep one document per file")
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(err)
	}
	if len(doc.Content) == 0 {
		d.report(nil, "", "the file is empty; start from config/routes.yaml")
		return nil
	}
	root := resolve(doc.Content[0])
	if root == nil || root.Kind != yaml.MappingNode {
		d.report(doc.Content[0], "", "the file must be a mapping (service: …, region: …, routes: …); start from config/routes.yaml")
		return nil
	}

	c := defaultConfig(d.file)
	f := d.mapping(root, "", "")
	serviceNode := f.str("service", &c.Service)
	f.require("service", "name the deployment, e.g. service: sales-approvals (it prefixes every AWS resource name)")
	if serviceNode != nil {
		d.checkService(serviceNode, c)
	}
	if n := f.str("region", &c.Region); n != nil && !regionPattern.MatchString(c.Region) {
		d.report(n, "region", "%q is not an AWS region name; write it like ap-northeast-1 or us-east-1", c.Region)
	}
	f.require("region", "set the AWS region to deploy to, e.g. region: ap-northeast-1")

	d.ingress(f.sub("ingress"), &c.Ingress, c.Region)
	target := f.sub("target")
	timeoutOK := d.target(target, &c.Target)
	queue := f.sub("queue")
	queueSet := d.queue(queue, &c.Queue)
	retryOK := d.retry(f.sub("retry"), &c.Retry)
	notify := f.sub("notify")
	d.notify(notify, &c.Notify)
	d.logging(f.sub("logging"), &c.Logging)
	d.functions(f.sub("functions"), c)
	d.alarms(f.sub("alarms"), c, queue.vals["retention"])

	routes := d.routes(f, c)
	if f.require("routes", "add at least one route (name, path, group); see config/routes.yaml") && len(routes) == 0 && f.vals["routes"].Kind == yaml.SequenceNode {
		d.report(f.vals["routes"], "routes", "no routes; add at least one route (name, path, group)")
	}

	d.crossChecks(c, f, target, notify, routes)
	d.warnPrivateTargets(c, target.vals["base_url"], routes)
	if timeoutOK && retryOK && d.checkBudgets(c, routes) && queueSet.ok {
		d.checkFinality(c, queueSet)
	}
	return c
}

func (d *decoder) ingress(f fields, in *Ingress, region string) {
	if n := f.str("http_api_name", &in.HTTPAPIName); n != nil && (in.HTTPAPIName == "" || len(in.HTTPAPIName) > 128) {
		d.report(n, f.child("http_api_name"), "API Gateway API names are 1 to 128 characters; fix the name, or remove the key to let webhookq create its own API")
	}
	if n := f.str("base_path", &in.BasePath); n != nil && !routePathPattern.MatchString(in.BasePath) {
		d.report(n, f.child("base_path"), "%q is not a usable base path; %s, with no trailing slash, e.g. /hooks", in.BasePath, pathRule)
	}
	f.intRange("max_body_bytes", &in.MaxBodyBytes, 1, StatePayloadMax,
		fmt.Sprintf("no larger body can reach a workflow, whose input Step Functions limits to %d bytes; leave the key out to accept bodies up to the limit derived from the workflows (cmd/generate prints it)", StatePayloadMax))
	d.throttle(f.sub("throttle"), &in.Throttle, region)
}

// target decodes the target section; it reports whether timeout, which the
// budgets depend on, was valid.
func (d *decoder) target(f fields, t *Target) (timeoutOK bool) {
	if n := f.str("base_url", &t.BaseURL); n != nil {
		if msg := checkURL(t.BaseURL, false); msg != "" {
			d.report(n, f.child("base_url"), "%s", msg)
		}
		t.BaseURL = strings.TrimSuffix(t.BaseURL, "/")
	}
	timeoutOK = f.timeout(&t.Timeout)

	keys, vals := d.pairs(f.vals["headers"], f.child("headers"))
	for i, k := range keys {
		path := childPath(f.child("headers"), k.Value)
		name := textproto.CanonicalMIMEHeaderKey(k.Value)
		if !d.checkHeaderName(k, path, k.Value) {
			continue
		}
		if looksLikeCredential(k.Value) {
			d.report(k, path, "header %q looks like a credential; put it in target.secret_headers (a secret reference), never in routes.yaml", k.Value)
			continue
		}
		if reservedDeliveryHeader(name) {
			d.report(k, path, "header %q is set by webhookq on every delivery; remove it", k.Value)
			continue
		}
		v := vals[i]
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
			d.report(v, path, "must be a string, not %s; quote it", describe(v))
			continue
		}
		if strings.ContainsFunc(v.Value, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			d.report(v, path, "header values cannot contain line breaks or control characters; remove them")
			continue
		}
		if t.Headers == nil {
			t.Headers = map[string]string{}
		}
		t.Headers[name] = v.Value
	}

	skeys, svals := d.pairs(f.vals["secret_headers"], f.child("secret_headers"))
	for i, k := range skeys {
		path := childPath(f.child("secret_headers"), k.Value)
		name := textproto.CanonicalMIMEHeaderKey(k.Value)
		ref, ok := d.secretRef(svals[i], path, "target.secret_headers.*")
		if !d.checkHeaderName(k, path, k.Value) || !ok {
			continue
		}
		if reservedDeliveryHeader(name) {
			d.report(k, path, "header %q is set by webhookq on every delivery; remove it", k.Value)
			continue
		}
		if _, dup := t.Headers[name]; dup {
			d.report(k, path, "header %q is also in target.headers; keep it in one of the two", k.Value)
			continue
		}
		if t.SecretHeaders == nil {
			t.SecretHeaders = map[string]SecretRef{}
		}
		t.SecretHeaders[name] = ref
	}

	if f.has("signing_secret") {
		if ref, ok := d.secretRef(f.vals["signing_secret"], f.child("signing_secret"), "target.signing_secret"); ok {
			t.Signing = &ref
		}
	}
	if f.has("vpc") {
		t.VPC = d.vpc(f.sub("vpc"))
	}
	return timeoutOK
}

// timeout decodes a delivery attempt's timeout; false when it is set but invalid.
func (f fields) timeout(dst *time.Duration) bool {
	return f.durationRange("timeout", dst, time.Second, LambdaMaxTimeout-deliverOverhead, false,
		fmt.Sprintf("one delivery attempt; the deliver Lambda's timeout adds %s and may not pass %s", formatDuration(deliverOverhead), formatDuration(LambdaMaxTimeout))) != nil || !f.has("timeout")
}

// queueNodes keeps where the queue's settings are, for the retry policy's
// checks (checkFinality); ok is false when any of them was invalid.
type queueNodes struct {
	node, retryWindow, retention, redeliveryDelay, maxRedeliveryDelay *yaml.Node
	path                                                              string
	ok                                                                bool
}

func (d *decoder) queue(f fields, q *Queue) queueNodes {
	before := len(d.diags)
	qn := queueNodes{node: f.node, path: f.path}
	qn.retryWindow = f.durationRange("retry_window", &q.RetryWindow, 0, 14*day, false, "how long after it was queued a webhook is retried; SQS keeps a message at most 14d")
	qn.retention = f.durationRange("retention", &q.Retention, time.Minute, 14*day, true, "SQS MessageRetentionPeriod")
	dlq := f.durationRange("dlq_retention", &q.DLQRetention, time.Minute, 14*day, true, "SQS MessageRetentionPeriod")
	f.intRange("batch_size", &q.BatchSize, 1, 10, "a FIFO event source mapping takes at most 10 messages a batch")
	f.intRange("max_concurrency", &q.MaxConcurrency, 2, 1000, "the event source mapping's MaximumConcurrency")
	f.boolean("high_throughput", &q.HighThroughput)
	first := f.durationRange("redelivery_delay", &q.RedeliveryDelay, 0, SQSMaxVisibility, true, "ChangeMessageVisibility takes at most 12h")
	last := f.durationRange("max_redelivery_delay", &q.MaxRedeliveryDelay, 0, SQSMaxVisibility, true, "ChangeMessageVisibility takes at most 12h")
	qn.redeliveryDelay, qn.maxRedeliveryDelay = first, last

	if q.DLQRetention < q.Retention {
		d.report(cmpNode(dlq, f.vals["retention"], f.node), f.child("dlq_retention"),
			"dlq_retention (%s) is shorter than retention (%s): the DLQ is where failed webhooks wait for an operator, and for FIFO queues SQS restarts the retention clock when a message moves there, so dlq_retention is all the time an operator has to redrive it; raise dlq_retention to at least %s",
			formatDuration(q.DLQRetention), formatDuration(q.Retention), formatDuration(q.Retention))
	}
	if q.MaxRedeliveryDelay < q.RedeliveryDelay {
		d.report(cmpNode(last, first, f.node), f.child("max_redelivery_delay"),
			"max_redelivery_delay (%s) is shorter than redelivery_delay (%s), the first wait it caps; raise max_redelivery_delay or lower redelivery_delay",
			formatDuration(q.MaxRedeliveryDelay), formatDuration(q.RedeliveryDelay))
	}
	qn.ok = len(d.diags) == before
	return qn
}

// cmpNode is the first non-nil node, for reporting a cross-field problem where the user wrote it.
func cmpNode(ns ...*yaml.Node) *yaml.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

// retry decodes the keys present in f over r (the defaults, or the
// top-level policy for a route's overrides). It reports whether all were valid.
func (d *decoder) retry(f fields, r *Retry) bool {
	before := len(d.diags)
	f.intRange("max_attempts", &r.MaxAttempts, 1, maxASLCount+1, "every attempt counts, the first included; Step Functions allows MaxAttempts up to 99999999 retries")
	f.durationRange("interval", &r.Interval, time.Second, maxASLCount*time.Second, true, "Step Functions IntervalSeconds")
	f.durationRange("max_delay", &r.MaxDelay, time.Second, maxDelayLimit, true, "Step Functions MaxDelaySeconds")
	if n := f.number("backoff_rate", &r.BackoffRate); n != nil && r.BackoffRate < 1 {
		d.report(n, f.child("backoff_rate"), "backoff_rate is %g; Step Functions requires at least 1.0 (1 keeps the interval constant, 2 doubles it)", r.BackoffRate)
	}
	var jitter string
	if f.enum("jitter", []string{"full", "none"}, &jitter) != nil {
		r.Jitter = Jitter(strings.ToUpper(jitter))
	}
	if f.has("on") {
		r.On = d.outcomes(f.vals["on"], f.child("on"))
	}
	if (f.has("interval") || f.has("max_delay")) && r.MaxDelay < r.Interval {
		d.report(cmpNode(f.vals["max_delay"], f.vals["interval"]), f.child("max_delay"),
			"max_delay (%s) is shorter than interval (%s), so it caps every wait; raise max_delay or lower interval",
			formatDuration(r.MaxDelay), formatDuration(r.Interval))
	}
	return len(d.diags) == before
}

const (
	maxASLCount   = 99999999               // Step Functions' largest MaxAttempts and IntervalSeconds
	maxDelayLimit = 31622400 * time.Second // MaxDelaySeconds must be below 31622401
)

func (d *decoder) outcomes(n *yaml.Node, path string) []Outcome {
	allowed := make([]string, len(AllOutcomes))
	for i, o := range AllOutcomes {
		allowed[i] = string(o)
	}
	vals, nodes := d.strList(n, path, "outcomes ("+strings.Join(allowed, ", ")+")", "an outcome ("+strings.Join(allowed, ", ")+")")
	out := []Outcome{}
	for i, v := range vals {
		switch {
		case !slices.Contains(allowed, v):
			d.report(nodes[i], path, "%s", enumMessage(v, allowed))
		case slices.Contains(out, Outcome(v)):
			d.report(nodes[i], path, "%q is listed twice; keep one", v)
		default:
			out = append(out, Outcome(v))
		}
	}
	if n := resolve(n); len(vals) == 0 && n != nil && n.Kind == yaml.SequenceNode {
		d.report(n, path, "lists no outcome; to turn retries off set max_attempts: 1 instead")
	}
	return out
}

func (d *decoder) notify(f fields, n *Notify) {
	var when string
	whenNode := f.enum("when", notifyWhens, &when)
	if n := f.str("sns_topic_arn", &n.SNSTopicARN); n != nil && !snsTopicARNPattern.MatchString(n.Value) {
		d.report(n, f.child("sns_topic_arn"), "%q is not an SNS topic ARN; write it like arn:aws:sns:ap-northeast-1:123456789012:webhook-failures", n.Value)
	}
	if f.has("slack_webhook_url") {
		if ref, ok := d.secretRef(f.vals["slack_webhook_url"], f.child("slack_webhook_url"), "notify.slack_webhook_url"); ok {
			n.SlackWebhookURL = &ref
		}
	}
	switch {
	case whenNode != nil:
		n.When = NotifyWhen(when)
	case n.hasChannel():
		n.When = NotifyFinal
	default:
		n.When = NotifyNever
	}
}

var notifyWhens = []string{string(NotifyFinal), string(NotifyEveryFailure), string(NotifyNever)}

func (n Notify) hasChannel() bool { return n.SNSTopicARN != "" || n.SlackWebhookURL != nil }

func (d *decoder) logging(f fields, l *Logging) {
	var level string
	if f.enum("level", []string{string(LogAll), string(LogError), string(LogFatal), string(LogOff)}, &level) != nil {
		l.Level = LogLevel(level)
	}
	f.boolean("include_execution_data", &l.IncludeExecutionData)
	var days int
	if n := f.integer("retention_days", &days); n != nil {
		if !slices.Contains(LogRetentionDays, days) {
			d.report(n, f.child("retention_days"), "CloudWatch Logs keeps logs for one of %s days; pick one of those", joinInts(LogRetentionDays))
		} else {
			l.RetentionDays = days
		}
	}
}

// LogRetentionDays are the retention periods CloudWatch Logs accepts (PutRetentionPolicy).
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

func (d *decoder) routes(root fields, c *Config) []routeNodes {
	var out []routeNodes
	for i, item := range d.list(root.vals["routes"], "routes", "routes (mappings with name, path, group)") {
		if d.aborted {
			break
		}
		path := indexPath("routes", i)
		if item == nil || item.Kind != yaml.MappingNode {
			if item != nil {
				d.report(item, path, "must be a mapping (name, path, group, …), not %s", describe(item))
			}
			continue
		}
		f := d.mapping(item, path, "routes[]")
		r := Route{Timeout: c.Target.Timeout, Retry: c.Retry, Notify: c.Notify, Throttle: c.Ingress.Throttle, Dedup: Dedup{Source: DedupContent}}
		r.Retry.On = slices.Clone(c.Retry.On)
		rn := routeNodes{node: item}

		if rn.name = f.str("name", &r.Name); rn.name != nil && !namePattern.MatchString(r.Name) {
			d.report(rn.name, f.child("name"), "%q is not a usable route name; use letters, digits, - and _ (it names the state machine and its files)", r.Name)
			rn.name = nil
		}
		f.require("name", "give the route a name, e.g. name: approval-progress")
		if rn.path = f.str("path", &r.Path); rn.path != nil && !routePathPattern.MatchString(r.Path) {
			d.report(rn.path, f.child("path"), "%q is not a usable ingress path; %s, e.g. /approval-progress", r.Path, pathRule)
			rn.path = nil
		}
		f.require("path", "set the ingress path webhooks are POSTed to, e.g. path: /approval-progress")
		var group string
		if rn.group = f.str("group", &group); rn.group != nil {
			var msg string
			if r.Group, msg = parseGroup(group); msg != "" {
				d.report(rn.group, f.child("group"), "%s", msg)
				rn.group = nil
			}
		}
		f.require("group", "say how messages are ordered: static:NAME, header:NAME or body:path.to.field")

		var targetPath string
		tp := f.str("target_path", &targetPath)
		if tp != nil {
			if msg := checkTargetPath(targetPath); msg != "" {
				d.report(tp, f.child("target_path"), "%s", msg)
			}
		}
		if rn.targetURL = f.str("target_url", &r.TargetURL); rn.targetURL != nil {
			tu := rn.targetURL
			if msg := checkURL(r.TargetURL, true); msg != "" {
				d.report(tu, f.child("target_url"), "%s", msg)
			}
			if tp != nil {
				d.report(tu, f.child("target_url"), "set target_url or target_path, not both; target_url replaces target.base_url + target_path")
			}
		} else {
			// TargetURL is completed with the base URL in crossChecks.
			r.TargetURL = targetPath
		}

		var dedup string
		if rn.dedup = f.str("dedup", &dedup); rn.dedup != nil {
			var msg string
			if r.Dedup, msg = parseDedup(dedup); msg != "" {
				d.report(rn.dedup, f.child("dedup"), "%s", msg)
			}
		}
		r.Headers = d.carriedHeaders(f.vals["headers"], f.child("headers"))
		if f.has("verify") {
			r.Verify, r.Unverified = d.verify(f.sub("verify"))
			if r.Verify != nil {
				d.verifyHeadersCarried(f.vals["verify"], f.child("verify"), r)
			}
		} else {
			d.report(item, f.child("verify"), "%s", missingVerifyMessage(c.Target.Signing != nil))
		}
		rn.budgetInputsBad, rn.notifyWhen = d.overrides(f.sub("overrides"), &r, c.Region)
		c.Routes = append(c.Routes, r)
		out = append(out, rn)
	}
	return out
}

// overrides merges a route's overrides over the top-level values already in r.
func (d *decoder) overrides(f fields, r *Route, region string) (budgetInputsBad bool, notifyWhen *yaml.Node) {
	d.throttle(f.sub("ingress").sub("throttle"), &r.Throttle, region)
	timeoutOK := f.sub("target").timeout(&r.Timeout)
	retryOK := d.retry(f.sub("retry"), &r.Retry)
	budgetInputsBad = !timeoutOK || !retryOK
	var when string
	notifyWhen = f.sub("notify").enum("when", notifyWhens, &when)
	if notifyWhen != nil {
		r.Notify.When = NotifyWhen(when)
	}
	return budgetInputsBad, notifyWhen
}

// verifyHeadersCarried reports signature headers a route verifies but does
// not carry: ingress would drop them and every delivery would fail.
func (d *decoder) verifyHeadersCarried(n *yaml.Node, path string, r Route) {
	for _, h := range r.Verify.Headers() {
		if r.Carries(h) {
			continue
		}
		d.report(resolve(n), path, "scheme %s reads the header %s, which the route does not carry: add it to the route's headers", r.Verify.Scheme, h)
	}
}

func (d *decoder) carriedHeaders(n *yaml.Node, path string) []string {
	vals, nodes := d.strList(n, path, "header names", "a header name")
	var out []string
	for i, v := range vals {
		p := indexPath(path, i)
		if !d.checkHeaderName(nodes[i], p, v) {
			continue
		}
		if !attributeNamePattern.MatchString(v) {
			d.report(nodes[i], p, "header %q travels as the SQS message attribute %q, and attribute names allow only letters, digits, -, _ and .; carry a header without other characters", v, attrHeaderPrefix+v)
			continue
		}
		name := textproto.CanonicalMIMEHeaderKey(v)
		if slices.Contains(out, name) {
			d.report(nodes[i], p, "header %q is listed twice (header names ignore case); keep one", v)
			continue
		}
		out = append(out, name)
	}
	if len(out) > MaxCarriedHeaders {
		d.report(resolve(n), path, "%d headers carried; an SQS message holds at most %d attributes and webhookq uses %d, so carry at most %d headers", len(out), sqsMaxMessageAttributes, sqsMaxMessageAttributes-MaxCarriedHeaders, MaxCarriedHeaders)
	}
	return out
}

// verify decodes a route's verify section: the check, or (scheme none) nil
// and the reason the route gives for verifying nothing.
func (d *decoder) verify(f fields) (*Verify, string) {
	var name string
	schemeNode := f.enum("scheme", SchemeNames(), &name)
	f.require("scheme", "name the signature scheme: "+verifyingSchemeNames()+", or none with a reason")
	scheme, known := SchemeOf(VerifyScheme(name))
	if known && scheme.Name == VerifyNone {
		return nil, d.unverified(f)
	}
	if n := f.vals["reason"]; n != nil {
		d.report(n, f.child("reason"), "reason is for scheme: none; a route that verifies needs none, so remove it")
	}
	v := &Verify{Scheme: scheme.Name, Tolerance: DefaultVerifyTolerance}
	if f.has("secret") {
		if ref, ok := d.secretRef(f.vals["secret"], f.child("secret"), "routes[].verify.secret"); ok {
			v.Secret = ref
		}
	}
	f.require("secret", "reference the signing secret, e.g. secret: {ssm_parameter: /my-service/signing-secret}")
	if h := f.str("header", &v.Header); h != nil {
		if d.checkHeaderName(h, f.child("header"), v.Header) {
			v.Header = textproto.CanonicalMIMEHeaderKey(v.Header)
		}
		if schemeNode != nil && !scheme.NamedHeader {
			d.report(h, f.child("header"), "the %s scheme reads its own signature header (%s); remove header (it is for scheme: %s)", scheme.Name, scheme.SignatureHeader, namedHeaderSchemes())
		}
	} else if scheme.NamedHeader {
		f.require("header", fmt.Sprintf("scheme %s needs the signature header's name, e.g. header: X-Signature", scheme.Name))
	}
	if t := f.durationRange("tolerance", &v.Tolerance, time.Second, day, false, "the accepted age of a signature's timestamp"); t != nil && schemeNode != nil && !scheme.Timestamped {
		d.report(t, f.child("tolerance"), "%s signatures carry no timestamp; remove tolerance (it is for %s)", scheme.Name, timestampedSchemes())
	}
	return v, ""
}

// unverified decodes verify: {scheme: none, reason}: the reason is required,
// and the keys of a real check are refused (they would suggest one runs).
func (d *decoder) unverified(f fields) string {
	var reason string
	if n := f.str("reason", &reason); n != nil && strings.TrimSpace(reason) == "" {
		d.report(n, f.child("reason"), "the reason is empty; say why this route's webhooks cannot be verified")
	}
	f.require("reason", `scheme none needs a reason: say why this route's webhooks cannot be verified, e.g. reason: "the sender signs nothing; the route only triggers an idempotent refresh"`)
	for _, key := range []string{"secret", "header", "tolerance"} {
		if n := f.vals[key]; n != nil {
			d.report(n, f.child(key), "scheme none verifies nothing; remove %s, or name the scheme that uses it", key)
		}
	}
	return strings.TrimSpace(reason)
}

// missingVerifyMessage explains why a route must say how it verifies.
func missingVerifyMessage(signed bool) string {
	delivered := "webhookq would deliver a forgery like any other webhook, and the app could not tell it apart"
	if signed {
		delivered = "webhookq would deliver a forgery signed with target.signing_secret, so the app would receive it carrying a valid signature"
	}
	return "required: say how this route's webhooks are verified. Its ingress URL is public: anyone who learns it can post to it, and " + delivered +
		". Add verify: {scheme: SCHEME, secret: {…}} with SCHEME one of " + verifyingSchemeNames() +
		` (docs/config.md), or, when the sender signs nothing, verify: {scheme: none, reason: "why"}`
}

// namedHeaderSchemes and timestampedSchemes name the schemes a key is for.
func namedHeaderSchemes() string {
	return schemeNamesWhere(func(s Scheme) bool { return s.NamedHeader })
}

func timestampedSchemes() string {
	return schemeNamesWhere(func(s Scheme) bool { return s.Timestamped })
}

func schemeNamesWhere(keep func(Scheme) bool) string {
	var names []string
	for _, s := range Schemes {
		if keep(s) {
			names = append(names, string(s.Name))
		}
	}
	return strings.Join(names, " and ")
}

// secretRef decodes a reference to a secret: exactly one of ssm_parameter,
// secrets_manager and env. It never echoes values, which might be secrets
// pasted by mistake.
func (d *decoder) secretRef(n *yaml.Node, path, place string) (SecretRef, bool) {
	if r := resolve(n); r != nil && r.Kind != yaml.MappingNode {
		d.report(r, path, "must reference a secret: a mapping with one of ssm_parameter, secrets_manager or env; never the secret's value")
		return SecretRef{}, false
	}
	before := len(d.diags)
	f := d.mapping(n, path, place)
	var ref SecretRef
	set := 0
	if s := f.str("ssm_parameter", &ref.SSMParameter); s != nil {
		set++
		if !ssmParameterPattern.MatchString(ref.SSMParameter) || len(ref.SSMParameter) > 1011 {
			d.report(s, f.child("ssm_parameter"), "not an SSM parameter name; write a path like /my-service/secret-name (letters, digits, _ . - /)")
		}
	}
	if s := f.str("secrets_manager", &ref.SecretsManager); s != nil {
		set++
		if !secretsManagerPattern.MatchString(ref.SecretsManager) && !secretsManagerARNPattern.MatchString(ref.SecretsManager) {
			d.report(s, f.child("secrets_manager"), "not a Secrets Manager secret name or ARN; names use letters, digits and /_+=.@- (at most 512)")
		}
	}
	if s := f.str("env", &ref.Env); s != nil {
		set++
		if !envPattern.MatchString(ref.Env) {
			d.report(s, f.child("env"), "not an environment variable name; use letters, digits and _, not starting with a digit")
		}
	}
	if set != 1 && len(d.diags) == before {
		d.report(f.node, path, "set exactly one of ssm_parameter, secrets_manager or env (found %d)", set)
	}
	return ref, len(d.diags) == before
}
