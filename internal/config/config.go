// Package config is the typed form of config/routes.yaml: what a route is, where
// its webhooks go, and the retry, queue, notify and logging policy around it.
//
// Load parses and validates a file and reports every problem at once; the other
// packages only ever see a Config that passed validation, with defaults applied
// and per-route overrides resolved into each Route.
package config

import (
	"slices"
	"strings"
	"time"
)

// Config is a validated routes.yaml.
type Config struct {
	// Path is the file the config was loaded from, for messages.
	Path string

	Service string
	Region  string
	Ingress Ingress
	Target  Target
	Queue   Queue
	Retry   Retry
	Notify  Notify
	Logging Logging
	// Lambdas holds the settings of each function in Functions, by name.
	Lambdas map[string]Lambda
	// Alarms holds each alarm's threshold (AlarmSpecs): seconds for an
	// age, else a count.
	Alarms map[Alarm]int
	Routes []Route

	// Warnings are what the config allows but will likely not work as
	// meant on AWS (a private target host without a VPC), in file order.
	Warnings Diagnostics
}

// Ingress says where webhooks enter on AWS.
type Ingress struct {
	// HTTPAPIName names an existing API Gateway HTTP API to add the routes to.
	// Empty means webhookq creates its own API.
	HTTPAPIName string
	// BasePath is prepended to every route path, e.g. "/hooks".
	BasePath string
	// MaxBodyBytes, when set, lowers the largest body accepted below the
	// limit derived from the workflows (asl.RouteLimits); 0 leaves that
	// limit. The local twin answers 413 beyond it, the forwarder parks a
	// larger body as too_large.
	MaxBodyBytes int
	// Throttle is every route's throttle unless its overrides say otherwise.
	Throttle Throttle
}

// CreatesAPI reports whether webhookq creates the HTTP API itself.
func (i Ingress) CreatesAPI() bool { return i.HTTPAPIName == "" }

// Target is the application the webhooks are forwarded to.
type Target struct {
	BaseURL string
	// Timeout bounds one delivery attempt.
	Timeout time.Duration
	// Headers are static headers added to every delivery. Values are plain
	// strings; secrets never go here (use Signing).
	Headers map[string]string
	// SecretHeaders are headers whose values are secrets (an Authorization
	// token, say), read from SSM or Secrets Manager at run time.
	SecretHeaders map[string]SecretRef
	// Signing, when set, signs every delivery (Standard Webhooks HMAC-SHA256)
	// with the secret it references.
	Signing *SecretRef
	// VPC, when set, attaches the deliver function to subnets of the VPC the
	// target lives in; nil runs it outside any VPC (public targets only).
	VPC *VPC
}

// VPC places the deliver function in a VPC: Lambda gives it network
// interfaces in SubnetIDs, with SecurityGroupIDs applied to them.
type VPC struct {
	SubnetIDs        []string
	SecurityGroupIDs []string
}

// SecretRef points at a secret; routes.yaml never holds a secret's value.
// Exactly one field is set.
type SecretRef struct {
	SSMParameter   string // parameter name, e.g. /sales/webhook-secret
	SecretsManager string // secret name or ARN
	Env            string // environment variable (local twin only)
}

// Queue is the SQS FIFO queue, its dead-letter queue and the event source mapping.
type Queue struct {
	// RetryWindow is how long after it was queued (SQS's SentTimestamp) a
	// webhook is retried; see RetryPolicy. SQS's maxReceiveCount is derived
	// from it (ComputeFinality).
	RetryWindow    time.Duration
	Retention      time.Duration
	DLQRetention   time.Duration
	BatchSize      int
	MaxConcurrency int
	// HighThroughput is FIFO high-throughput mode: deduplication and
	// throughput quotas per message group (DeduplicationScope messageGroup,
	// FifoThroughputLimit perMessageGroupId). On by default; the queue then
	// takes HighThroughputSendQuota(region) webhooks a second instead of
	// FIFOSendQuota.
	HighThroughput bool
	// RedeliveryDelay is the first wait before SQS hands a failed message back
	// (the forwarder sets it with ChangeMessageVisibility); it doubles per receive
	// up to MaxRedeliveryDelay.
	RedeliveryDelay    time.Duration
	MaxRedeliveryDelay time.Duration
}

// Outcome is a class of failed delivery attempt that the retry policy can name.
type Outcome string

const (
	OutcomeServerError Outcome = "server_error" // 5xx
	OutcomeThrottled   Outcome = "throttled"    // 429
	OutcomeTimeout     Outcome = "timeout"      // 408, or no answer within the attempt timeout
	OutcomeConnection  Outcome = "connection"   // refused, reset, DNS
)

// AllOutcomes lists every retryable outcome, in documentation order.
var AllOutcomes = []Outcome{OutcomeServerError, OutcomeThrottled, OutcomeTimeout, OutcomeConnection}

// Jitter is the Step Functions JitterStrategy.
type Jitter string

const (
	JitterFull Jitter = "FULL"
	JitterNone Jitter = "NONE"
)

// Retry is the in-workflow retry of the Deliver task.
type Retry struct {
	// MaxAttempts counts every attempt, the first included (ASL MaxAttempts is
	// this minus one).
	MaxAttempts int
	Interval    time.Duration
	BackoffRate float64
	MaxDelay    time.Duration
	Jitter      Jitter
	// On lists the outcomes that are retried; the others are permanent.
	On []Outcome
}

// NotifyWhen says when the notify step runs.
type NotifyWhen string

const (
	// NotifyFinal notifies once, when the message is headed for the DLQ.
	NotifyFinal NotifyWhen = "final"
	// NotifyEveryFailure notifies after every failed execution.
	NotifyEveryFailure NotifyWhen = "every_failure"
	// NotifyNever turns notification off.
	NotifyNever NotifyWhen = "never"
)

// Notify is the failure notification policy and its channels.
type Notify struct {
	When        NotifyWhen
	SNSTopicARN string
	// SlackWebhookURL references the Slack-compatible incoming webhook URL.
	SlackWebhookURL *SecretRef
}

// LogLevel is the Step Functions logging level.
type LogLevel string

const (
	LogAll   LogLevel = "ALL"
	LogError LogLevel = "ERROR"
	LogFatal LogLevel = "FATAL"
	LogOff   LogLevel = "OFF"
)

// Logging is the state machines' and Lambdas' log policy.
type Logging struct {
	Level                LogLevel
	IncludeExecutionData bool
	RetentionDays        int
}

// GroupSource says where a route's SQS message group id comes from.
type GroupSource string

const (
	GroupStatic GroupSource = "static" // the same group for every message
	GroupHeader GroupSource = "header" // a request header
	GroupBody   GroupSource = "body"   // a top-level-or-dotted field of a JSON body
)

// Group is a route's message group, written "static:NAME", "header:NAME" or
// "body:path.to.field" in routes.yaml.
type Group struct {
	Source GroupSource
	Value  string
}

// DedupSource says where a message's FIFO deduplication id comes from.
type DedupSource string

const (
	DedupContent   DedupSource = "content"    // SHA-256 of the body (queue content-based dedup)
	DedupHeader    DedupSource = "header"     // a provider delivery-id header
	DedupRequestID DedupSource = "request_id" // the ingress request id (no dedup of retries by the sender)
)

// Dedup is a route's deduplication policy, written "content", "request_id" or
// "header:NAME" in routes.yaml.
type Dedup struct {
	Source DedupSource
	Header string // with DedupHeader
}

// Verify is a route's inbound signature verification (a scheme of Schemes
// other than none).
type Verify struct {
	Scheme VerifyScheme
	Secret SecretRef
	// Header names the signature header of a NamedHeader scheme (hmac).
	Header string
	// Tolerance bounds the age of a Timestamped scheme's signature.
	Tolerance time.Duration
}

// Route is one webhook source: an ingress path, a message group, a target.
// Retry, Timeout and Notify are the effective values, the route's overrides
// already merged over the top-level ones.
type Route struct {
	Name string
	// Path is the ingress path below Ingress.BasePath, e.g. "/approval-progress".
	Path  string
	Group Group
	// TargetURL is the absolute URL deliveries are POSTed to (base_url joined
	// with target_path, or the route's own target_url).
	TargetURL string
	Dedup     Dedup
	// Headers are the request headers carried to the target, canonical form.
	Headers []string
	// Verify is the inbound signature check; nil when the route verifies
	// nothing (verify: {scheme: none}), and then Unverified says why.
	Verify     *Verify
	Unverified string

	Timeout  time.Duration
	Retry    Retry
	Notify   Notify
	Throttle Throttle
}

// Carries reports whether the route carries the request header name to the
// target, names compared as HTTP compares them.
func (r Route) Carries(name string) bool {
	return slices.ContainsFunc(r.Headers, func(c string) bool { return strings.EqualFold(c, name) })
}

// IngressPath is the full ingress path, base path included.
func (c *Config) IngressPath(r Route) string { return c.Ingress.BasePath + r.Path }

// StateMachineName is the Express state machine's name, "<service>-<route>".
func (c *Config) StateMachineName(r Route) string { return c.Service + "-" + r.Name }

// QueueName is the FIFO queue's name.
func (c *Config) QueueName() string { return c.Service + ".fifo" }

// DLQName is the FIFO dead-letter queue's name.
func (c *Config) DLQName() string { return c.Service + "-dlq.fifo" }

// Functions names the three Lambdas.
var Functions = []string{"forward", "deliver", "notify"}

// FunctionName is the name of one of the three Lambdas ("forward", "deliver", "notify").
func (c *Config) FunctionName(function string) string { return c.Service + "-" + function }

// FunctionLogGroup is a Lambda's CloudWatch log group.
func (c *Config) FunctionLogGroup(function string) string {
	return "/aws/lambda/" + c.FunctionName(function)
}

// StateMachineLogGroup is a route's state machine log group (vended logs, so
// the log delivery resource policy stays small).
func (c *Config) StateMachineLogGroup(r Route) string {
	return "/aws/vendedlogs/states/" + c.StateMachineName(r)
}

// Route returns the route with the given name.
func (c *Config) Route(name string) (Route, bool) {
	for _, r := range c.Routes {
		if r.Name == name {
			return r, true
		}
	}
	return Route{}, false
}
