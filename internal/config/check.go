package config

import (
	"fmt"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/webhookq/webhookq/internal/webhook"
	"gopkg.in/yaml.v3"
)

var (
	regionPattern = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)
	// namePattern is what SQS queue names, Lambda function names and state
	// machine names (with logging on) all accept.
	namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// routePathPattern is a static API Gateway route path: no {parameters},
	// no empty segments, no trailing slash.
	routePathPattern     = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)
	headerTokenPattern   = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$") // RFC 7230 token
	attributeNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	// static group: an SQS MessageGroupId, 1–128 printable ASCII characters.
	messageGroupPattern = regexp.MustCompile(`^[!-~]{1,128}$`)
	bodyPathPattern     = regexp.MustCompile(`^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$`)
	snsTopicARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
	// ssmParameterPattern: a plain name, or a hierarchy, which SSM requires
	// to start with / ("a/b" is refused, "/a/b" is fine).
	ssmParameterPattern      = regexp.MustCompile(`^([A-Za-z0-9_.-]+|(/[A-Za-z0-9_.-]+)+)$`)
	secretsManagerPattern    = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)
	secretsManagerARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$`)
	envPattern               = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

const pathRule = "start with / and use only letters, digits and . _ ~ - between single slashes (a static API Gateway route path)"

// SQS message attributes: ingress uses some for the webhook's identity and
// carries each configured request header in one more.
const (
	sqsMaxMessageAttributes = webhook.MaxMessageAttributes
	attrHeaderPrefix        = webhook.AttrHeaderPrefix
	// MaxCarriedHeaders is how many request headers a route can carry to its target.
	MaxCarriedHeaders = webhook.MaxMessageAttributes - webhook.ReservedAttributes
)

// derivedName is an AWS resource name built from the service (and route) name.
type derivedName struct {
	kind string
	name string
	max  int
}

// serviceNames lists the names the service name flows into, with AWS's limits.
func (c *Config) serviceNames() []derivedName {
	names := []derivedName{
		{"SQS queue name", c.QueueName(), 80},
		{"SQS dead-letter queue name", c.DLQName(), 80},
	}
	for _, fn := range Functions {
		names = append(names,
			derivedName{"Lambda function name", c.FunctionName(fn), 64},
			derivedName{"CloudWatch log group name", c.FunctionLogGroup(fn), 512})
	}
	// The IAM roles the generator names after the service: one per Lambda,
	// named like it, and ingress's (per-route roles it shortens with a hash).
	for _, fn := range Functions {
		names = append(names, derivedName{"IAM role name", c.FunctionName(fn), 64})
	}
	names = append(names, derivedName{"IAM role name", c.Service + "-ingress", 64})
	return names
}

// routeNames lists the names a route's name flows into.
func (c *Config) routeNames(r Route) []derivedName {
	return []derivedName{
		{"state machine name", c.StateMachineName(r), 80},
		{"CloudWatch log group name", c.StateMachineLogGroup(r), 512},
	}
}

// tightest returns the derived name that leaves least room, when one is too long.
func tightest(names []derivedName) (derivedName, bool) {
	var worst derivedName
	over := 0
	for _, n := range names {
		if excess := len(n.name) - n.max; excess > over {
			worst, over = n, excess
		}
	}
	return worst, over > 0
}

func (d *decoder) checkService(n *yaml.Node, c *Config) {
	if !namePattern.MatchString(c.Service) {
		d.report(n, "service", "%q is not a usable service name; use letters, digits, - and _ (it prefixes queue, Lambda and role names)", c.Service)
		return
	}
	if worst, over := tightest(c.serviceNames()); over {
		d.report(n, "service", "the %s %q would be %d characters, over AWS's %d; shorten service to at most %d characters",
			worst.kind, worst.name, len(worst.name), worst.max, len(c.Service)-(len(worst.name)-worst.max))
	}
}

func (d *decoder) checkHeaderName(n *yaml.Node, path, name string) bool {
	if !headerTokenPattern.MatchString(name) {
		d.report(n, path, "%q is not a valid header name (RFC 7230 token: letters, digits and !#$%%&'*+-.^_`|~); fix the name", name)
		return false
	}
	return true
}

// looksLikeCredential says whether a header name suggests its value is a secret.
func looksLikeCredential(name string) bool {
	switch textproto.CanonicalMIMEHeaderKey(name) {
	case "Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key":
		return true
	}
	lower := strings.ToLower(name)
	for _, word := range []string{"token", "secret", "password"} {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return false
}

// reservedDeliveryHeader says whether webhookq (or HTTP itself) sets a header on every delivery.
func reservedDeliveryHeader(canonical string) bool {
	switch canonical {
	case webhook.HeaderWebhookID, webhook.HeaderIdempotencyKey, webhook.HeaderTimestamp, webhook.HeaderSignature,
		"Host", "Content-Length", "Transfer-Encoding", "Connection":
		return true
	}
	return false
}

func isLocalHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// checkURL returns what is wrong with a target URL, or "".
func checkURL(raw string, allowQuery bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("not a URL (%v); write it like https://app.example.com/webhooks", err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http" || u.Opaque != "":
		return fmt.Sprintf("%q is not an http(s) URL; write it like https://app.example.com", raw)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Sprintf("%q has no host; write it like https://app.example.com", raw)
	case u.User != nil:
		return "URLs must not carry credentials (user:password@); remove them and use target.secret_headers"
	case u.Scheme == "http" && !isLocalHost(u.Hostname()):
		return fmt.Sprintf("%q uses http; use https (http is allowed only for localhost, 127.0.0.1 and [::1])", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Sprintf("%q has a #fragment, which is never sent; remove it", raw)
	case !allowQuery && (u.RawQuery != "" || strings.HasSuffix(raw, "?")):
		return fmt.Sprintf("%q has a ?query; put queries in each route's target_path", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port %q is not between 1 and 65535; fix the port", p)
		}
	}
	return ""
}

// checkTargetPath returns what is wrong with a route's target_path, or "".
func checkTargetPath(p string) string {
	u, err := url.Parse(p)
	switch {
	case !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//"):
		return fmt.Sprintf("%q must start with a single / (it is appended to target.base_url); for another host use target_url", p)
	case err != nil:
		return fmt.Sprintf("not a URL path (%v); write it like /api/webhooks/orders", err)
	case u.Fragment != "" || strings.Contains(p, "#"):
		return fmt.Sprintf("%q has a #fragment, which is never sent; remove it", p)
	case strings.ContainsAny(p, " \t"):
		return fmt.Sprintf("%q contains spaces; percent-encode them as %%20", p)
	}
	return ""
}

// parseGroup reads "static:NAME", "header:NAME" or "body:dotted.path".
func parseGroup(s string) (Group, string) {
	source, value, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return Group{}, fmt.Sprintf("%q is not a group; write static:NAME, header:NAME or body:path.to.field", s)
	case source == string(GroupStatic):
		if !messageGroupPattern.MatchString(value) {
			return Group{}, "a static group is an SQS message group id: 1 to 128 printable ASCII characters without spaces; fix the name after static:"
		}
	case source == string(GroupHeader):
		if !headerTokenPattern.MatchString(value) {
			return Group{}, fmt.Sprintf("%q is not a valid header name (RFC 7230 token); fix the name after header:", value)
		}
		value = textproto.CanonicalMIMEHeaderKey(value)
	case source == string(GroupBody):
		if !bodyPathPattern.MatchString(value) {
			return Group{}, fmt.Sprintf("%q is not a JSON field path; write field names joined by dots after body:, e.g. body:account.id", value)
		}
	default:
		hint := ""
		if s, ok := suggest(source, []string{"static", "header", "body"}); ok {
			hint = fmt.Sprintf(" (did you mean %s:%s?)", s, value)
		}
		return Group{}, fmt.Sprintf("unknown group source %q%s; write static:NAME, header:NAME or body:path.to.field", source, hint)
	}
	return Group{Source: GroupSource(source), Value: value}, ""
}

// parseDedup reads "content", "request_id" or "header:NAME".
func parseDedup(s string) (Dedup, string) {
	if s == string(DedupContent) || s == string(DedupRequestID) {
		return Dedup{Source: DedupSource(s)}, ""
	}
	if name, ok := strings.CutPrefix(s, "header:"); ok {
		if !headerTokenPattern.MatchString(name) {
			return Dedup{Source: DedupContent}, fmt.Sprintf("%q is not a valid header name (RFC 7230 token); fix the name after header:", name)
		}
		return Dedup{Source: DedupHeader, Header: textproto.CanonicalMIMEHeaderKey(name)}, ""
	}
	return Dedup{Source: DedupContent}, fmt.Sprintf("%q is not a dedup source; use content, request_id or header:NAME (a provider's delivery-id header)", s)
}

// crossChecks are the rules that span sections or routes.
func (d *decoder) crossChecks(c *Config, root, target, notify fields, routes []routeNodes) {
	needBase := false
	names := map[string]*yaml.Node{}
	paths := map[string]*yaml.Node{}
	groups := map[string]*yaml.Node{}
	for i := range c.Routes {
		r, rn := &c.Routes[i], routes[i]
		path := indexPath("routes", i)
		if rn.name != nil {
			if first, dup := names[r.Name]; dup {
				d.report(rn.name, path+".name", "route name %q is already used on line %d; route names must be unique", r.Name, first.Line)
			} else {
				names[r.Name] = rn.name
				if root.has("service") && namePattern.MatchString(c.Service) {
					if worst, over := tightest(c.routeNames(*r)); over {
						d.report(rn.name, path+".name", "the %s %q would be %d characters, over AWS's %d; shorten the route name to at most %d characters",
							worst.kind, worst.name, len(worst.name), worst.max, len(r.Name)-(len(worst.name)-worst.max))
					}
				}
			}
		}
		if rn.path != nil {
			full := c.IngressPath(*r)
			if first, dup := paths[strings.ToLower(full)]; dup {
				d.report(rn.path, path+".path", "ingress path %s is already used on line %d; give each route its own path", full, first.Line)
			} else {
				paths[strings.ToLower(full)] = rn.path
			}
		}
		if rn.group != nil && r.Group.Source == GroupStatic {
			if first, dup := groups[r.Group.Value]; dup {
				d.report(rn.group, path+".group", "static group %q is already used on line %d; routes sharing a group hold each other's messages back, so give each route its own", r.Group.Value, first.Line)
			} else {
				groups[r.Group.Value] = rn.group
			}
		}
		if rn.targetURL == nil {
			needBase = true
			r.TargetURL = c.Target.BaseURL + r.TargetURL
		}
		if r.Notify.When != NotifyNever && !r.Notify.hasChannel() {
			switch {
			case rn.notifyWhen != nil:
				d.report(rn.notifyWhen, path+".overrides.notify.when", "notify.when is %s but notify has no channel; set notify.sns_topic_arn or notify.slack_webhook_url", r.Notify.When)
			case notify.has("when"):
				d.report(notify.vals["when"], "notify.when", "notify.when is %s but notify has no channel; set notify.sns_topic_arn or notify.slack_webhook_url, or when: never", r.Notify.When)
			}
		}
	}
	// The notify Lambda publishes through an SNS client of its own region, and
	// a CloudWatch alarm notifies only a topic in its region: a topic elsewhere
	// would lose every failure notification.
	if topic := c.Notify.SNSTopicARN; snsTopicARNPattern.MatchString(topic) && regionPattern.MatchString(c.Region) {
		if region := strings.Split(topic, ":")[3]; region != c.Region {
			d.report(notify.vals["sns_topic_arn"], "notify.sns_topic_arn",
				"the topic is in %s, but webhookq deploys to %s; the notify Lambda publishes in its own region and the alarms can notify only a topic there, so use a topic in %s", region, c.Region, c.Region)
		}
	}
	if needBase && !target.has("base_url") {
		d.report(target.node, "target.base_url", "required unless every route has its own target_url; set the application's URL, e.g. base_url: https://app.example.com")
	}
}

// checkBudgets reports each route whose worst-case execution does not fit in
// an Express workflow.
// checkBudgets reports the routes whose worst case does not fit the Express
// limit; it reports whether every route's budget is valid and fits.
func (d *decoder) checkBudgets(c *Config, routes []routeNodes) bool {
	b := ComputeBudget(c)
	fits := true
	for i, rb := range b.Routes {
		r := c.Routes[i]
		if routes[i].budgetInputsBad {
			fits = false
			continue
		}
		if rb.WorstExecution < ExpressMaxDuration {
			continue
		}
		fits = false
		notify := ""
		if r.Notify.When != NotifyNever {
			notify = " + " + seconds(notifyWorst(r)) + " notify"
		}
		d.report(routes[i].node, indexPath("routes", i),
			"worst case %s = %d attempts × %s + %s backoff + %s Lambda retries%s, not under the %s Express limit; lower retry.max_attempts, retry.max_delay or target.timeout",
			seconds(rb.WorstExecution), r.Retry.MaxAttempts, seconds(rb.TaskTimeout), seconds(rb.Backoff), seconds(rb.LambdaRetries), notify, seconds(ExpressMaxDuration))
	}
	return fits
}

// seconds writes d as seconds, e.g. "312s" or "2.5s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}
