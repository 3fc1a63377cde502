// Package delivery is the deliver function's core: one HTTP attempt to hand a
// webhook to its target, byte for byte, with the stable webhook id, optional
// inbound signature verification before and Standard Webhooks signing of the
// request, and a typed outcome the workflow's retry policy acts on.
package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/lambda/probe"
	"github.com/webhookq/webhookq/internal/lambda/secret"
	"github.com/webhookq/webhookq/internal/lambda/signature"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Limits of what is read from a target's answer.
const (
	// ExcerptBytes bounds the response body excerpt kept for the execution history.
	ExcerptBytes = webhook.MaxExcerptBytes
	// drainBytes bounds what is read past the excerpt so the connection can be
	// reused; a larger answer just closes the connection.
	drainBytes = 64 << 10
	// deadlineMargin is kept free before the Lambda deadline for reporting.
	deadlineMargin = 500 * time.Millisecond
	// userAgent is sent unless the webhook carries its own.
	userAgent = "webhookq-deliver"
)

// SecretResolver reads a referenced secret (secret.Resolver, cached per
// container), and reads a verification secret anew when a signature does not
// verify with a stale copy (signature.Secrets).
type SecretResolver = signature.Secrets

// Config is what a Deliverer needs: the routes, the secrets (as the narrow
// interface above) and optional knobs with defaults.
type Config struct {
	// Routes is the loaded routes.yaml (required).
	Routes *config.Config
	// Secrets resolves the signing, verification and header secrets
	// (required).
	Secrets SecretResolver
	// HTTPClient sends the deliveries; nil is NewHTTPClient().
	HTTPClient *http.Client
	// Now is the clock (signing timestamps, inbound tolerance, Retry-After
	// dates); nil is time.Now.
	Now func() time.Time
	// Sleep waits for d or until ctx ends; nil is a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one line per attempt; nil is slog.Default().
	Logger *slog.Logger
	// Metrics records each attempt's FailedAttempts and TargetResponseTime
	// (metrics.NewEMF on AWS); nil records nothing.
	Metrics metrics.Recorder
	// Probes checks post-deploy probes (probe.go); the zero value refuses
	// every probe as unverifiable.
	Probes Probes
}

// Deliverer makes delivery attempts for the routes of one configuration.
type Deliverer struct {
	cfg     *config.Config
	client  *http.Client
	secrets SecretResolver
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	log     *slog.Logger
	metrics metrics.Recorder
	probes  Probes
}

// New checks the configuration and builds a Deliverer.
func New(c *Config) (*Deliverer, error) {
	switch {
	case c == nil || c.Routes == nil:
		return nil, errors.New("delivery: no routes configuration (Config.Routes)")
	case c.Secrets == nil:
		return nil, errors.New("delivery: no secret resolver (Config.Secrets)")
	}
	d := &Deliverer{cfg: c.Routes, client: c.HTTPClient, secrets: c.Secrets, now: c.Now, sleep: c.Sleep, log: c.Logger, metrics: c.Metrics, probes: c.Probes}
	if d.client == nil {
		d.client = NewHTTPClient()
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.sleep == nil {
		d.sleep = sleepTimer
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.metrics == nil {
		d.metrics = metrics.Discard
	}
	return d, nil
}

// NewHTTPClient is the client deliveries use: no overall timeout (each
// attempt has its own), redirects returned as answers, a bounded header wait.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Handle is the Lambda handler: Deliver, logged and counted, with failures
// turned into the function errors the workflow matches by name. A panic is
// logged and reported as a permanent failure with a bounded message: the
// Lambda runtime would report it with its stack trace, unbounded, into the
// workflow's state data, which Step Functions limits in size.
func (d *Deliverer) Handle(ctx context.Context, req webhook.DeliverRequest) (res webhook.DeliverResult, err error) {
	log := d.log
	attrs := []any{"webhook_id", req.Webhook.WebhookID, "route", req.Webhook.Route, "group", req.Webhook.Group, "attempt", req.Attempt()}
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic while delivering; reported as a permanent failure", append(attrs, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))...)
			res, err = webhook.DeliverResult{}, LambdaError(&Failure{Message: fmt.Sprintf("attempt %d: internal error: %v", req.Attempt(), p)})
		}
	}()
	res, err = d.Deliver(ctx, req)
	if err != nil {
		var f *Failure
		name, class := webhook.ErrPermanent, metrics.ClassNotSent
		if errors.As(err, &f) {
			name, class = f.Name(), f.MetricsClass()
		}
		d.metrics.Record(metrics.Point{Metric: metrics.FailedAttempts, Value: 1, Route: req.Webhook.Route, Class: class})
		log.Warn("delivery failed", append(attrs, "error", name, "cause", err.Error())...)
	} else if res.Probe == "" { // a probe's answer is logged by answerProbe
		log.Info("delivered", append(attrs, "status", res.Status, "latency_ms", res.LatencyMS)...)
	}
	return res, LambdaError(err)
}

// Deliver makes one attempt. A nil error means the target answered 2xx; any
// error is a *Failure.
func (d *Deliverer) Deliver(ctx context.Context, req webhook.DeliverRequest) (webhook.DeliverResult, error) {
	env := req.Webhook
	route, ok := d.cfg.Route(env.Route)
	if !ok {
		return webhook.DeliverResult{}, &Failure{Message: fmt.Sprintf("attempt %d: unknown route %q", req.Attempt(), webhook.Bound(env.Route, 64))}
	}
	a := attempt{d: d, route: route, req: req, end: stateEnd(ctx, d.now(), route)}
	return a.run(ctx)
}

type attempt struct {
	d     *Deliverer
	route config.Route
	req   webhook.DeliverRequest
	// end is when the attempt must have answered (stateEnd).
	end time.Time
}

// stateEnd is when an attempt that starts now must have answered, so that it
// never outlives its Task state. Step Functions does not stop the function
// when the state times out: it starts the next attempt, and an attempt still
// running then (a slow answer, a Retry-After wait) would deliver the same
// webhook twice at once. The deliver function's own timeout is the largest
// route's, so the route's share is used instead: config.DeliverTimeout, 2 s
// short of the state's TimeoutSeconds (config.TaskTimeout) for the time the
// invocation took to reach the function, less deadlineMargin to report the
// outcome; and never past the Lambda's own deadline.
func stateEnd(ctx context.Context, now time.Time, route config.Route) time.Time {
	left := config.DeliverTimeout(route.Timeout)
	if dl, ok := ctx.Deadline(); ok {
		left = min(left, time.Until(dl))
	}
	return now.Add(left - deadlineMargin)
}

// left is how long the attempt may still take.
func (a attempt) left() time.Duration { return a.end.Sub(a.d.now()) }

func (a attempt) prefix() string {
	return fmt.Sprintf("attempt %d/%d", a.req.Attempt(), a.route.Retry.MaxAttempts)
}

func (a attempt) permanent(format string, args ...any) *Failure {
	return &Failure{Message: a.prefix() + ": " + fmt.Sprintf(format, args...)}
}

func (a attempt) run(ctx context.Context) (webhook.DeliverResult, error) {
	env := a.req.Webhook
	if env.WebhookID == "" {
		return webhook.DeliverResult{}, a.permanent("the webhook has no id")
	}
	body, err := env.RawBody()
	if err != nil {
		// The message quotes the envelope's encoding field: bound it.
		return webhook.DeliverResult{}, a.permanent("%s", webhook.Bound(err.Error(), 200))
	}
	target, err := url.Parse(a.route.TargetURL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return webhook.DeliverResult{}, a.permanent("invalid target URL %q", webhook.Bound(redact(a.route.TargetURL), 200))
	}
	where := "POST " + webhook.Bound(redactURL(target), 300)

	if v := a.route.Verify; v != nil {
		if err := a.verifyInbound(ctx, *v, env.Headers, body); err != nil {
			return webhook.DeliverResult{}, err
		}
	}
	// A post-deploy probe (verified like any webhook up to here) is
	// answered, never delivered.
	if p, ok, err := probe.Find(body); ok {
		return a.answerProbe(ctx, p, err)
	}

	// Headers first: reading a secret on a cold start is not the target's time.
	header := http.Header{}
	if err := a.setHeaders(ctx, header, body); err != nil {
		return webhook.DeliverResult{}, err
	}
	timeout := a.route.Timeout
	if timeout <= 0 {
		timeout = config.DefaultTargetTimeout
	}
	// The request gets the route's timeout, or what is left of the
	// attempt's time if that is less (a slow secret read, the Lambda's own
	// deadline).
	wait, byDeadline := timeout, false
	if left := a.left(); left < wait {
		wait, byDeadline = max(left, 0), true
	}
	actx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return webhook.DeliverResult{}, a.permanent("%s: %v", where, err)
	}
	hreq.Header = header

	start := time.Now()
	resp, err := a.d.client.Do(hreq)
	if err != nil {
		return webhook.DeliverResult{}, a.transportFailure(actx, byDeadline, where, timeout, err)
	}
	excerpt := readExcerpt(resp.Body)
	resp.Body.Close()
	latency := time.Since(start)
	a.d.metrics.Record(metrics.Point{Metric: metrics.TargetResponseTime, Value: float64(latency) / float64(time.Millisecond), Route: a.route.Name})

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return webhook.DeliverResult{
			Status:    resp.StatusCode,
			Attempt:   a.req.Attempt(),
			LatencyMS: latency.Milliseconds(),
			Excerpt:   excerpt,
		}, nil
	}
	return webhook.DeliverResult{}, a.statusFailure(ctx, where, resp)
}

// verifyInbound checks the inbound signature again. The forwarder refuses a
// webhook that does not verify before any execution starts, so this catches
// only an execution started some other way (by hand, with a crafted input):
// defence in depth, with the same rules and the same secret reread.
func (a attempt) verifyInbound(ctx context.Context, v config.Verify, headers map[string]string, body []byte) error {
	err := signature.VerifyRoute(ctx, a.d.secrets, v, headers, body, a.receivedAt())
	switch {
	case err == nil:
		return nil
	case signature.IsSecretError(err):
		return &Failure{Retryable: true, Message: fmt.Sprintf("%s: inbound signature (%s): %v", a.prefix(), v.Scheme, err)}
	}
	f := a.permanent("inbound signature (%s) is invalid: %v%s", v.Scheme, err, a.uncarried(v))
	f.Class = metrics.ClassSignature
	return f
}

// uncarried names the signature headers the route does not carry: ingress
// drops them, so verification can never succeed until they are added.
func (a attempt) uncarried(v config.Verify) string {
	var missing []string
	for _, h := range v.Headers() {
		if !a.route.Carries(h) {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("; the route does not carry %s: add it to the route's headers", strings.Join(missing, ", "))
}

// receivedAt is when ingress accepted the webhook (the envelope's RFC 3339
// or epoch-millis receivedAt), else now: a timestamped signature's age is
// checked at receipt, so a webhook that waited in the queue or the DLQ
// still verifies.
func (a attempt) receivedAt() time.Time {
	if t, ok := webhook.ParseReceivedAt(a.req.Webhook.ReceivedAt); ok {
		return t
	}
	return a.d.now()
}

// hopByHop are headers that describe one connection, not the webhook; the
// HTTP client sets its own.
var hopByHop = []string{"Connection", "Content-Length", "Host", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// setHeaders layers the request headers: carried, then static, then secret
// headers, then the webhook id and (with signing) the signature, each layer
// overriding the one before. Carried means carried by the route: the forwarder
// leaves any other header out of the envelope already; an execution started
// by hand with a crafted input does not get one past deliver either.
func (a attempt) setHeaders(ctx context.Context, h http.Header, body []byte) error {
	env := a.req.Webhook
	for k, v := range env.Headers {
		ck := http.CanonicalHeaderKey(k)
		if slices.Contains(hopByHop, ck) || !a.route.Carries(k) {
			continue
		}
		h.Set(ck, v)
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", userAgent)
	}
	t := a.d.cfg.Target
	for k, v := range t.Headers {
		h.Set(k, v)
	}
	for _, k := range sortedKeys(t.SecretHeaders) {
		v, err := a.d.secrets.Resolve(ctx, t.SecretHeaders[k])
		if err != nil {
			return &Failure{Retryable: true, Message: fmt.Sprintf("%s: header %s: cannot read the secret: %v", a.prefix(), k, err)}
		}
		h.Set(k, v)
	}
	if h.Get("Content-Type") == "" && json.Valid(body) {
		// Ingress keeps only the configured headers; a JSON body without its
		// Content-Type would go unparsed by most web frameworks.
		h.Set("Content-Type", "application/json")
	}
	h.Set(webhook.HeaderWebhookID, env.WebhookID)
	// With Idempotency-Key set, net/http may replay the POST on a kept-alive
	// connection that died while the Lambda was frozen, instead of failing.
	h.Set(webhook.HeaderIdempotencyKey, env.WebhookID)
	if t.Signing != nil {
		sec, err := a.d.secrets.Resolve(ctx, *t.Signing)
		if err != nil {
			return &Failure{Retryable: true, Message: fmt.Sprintf("%s: outbound signing: cannot read the secret: %v", a.prefix(), err)}
		}
		key, err := signature.SigningKey(sec)
		if err != nil {
			return a.permanent("outbound signing (%s): %v", secret.Describe(*t.Signing), err)
		}
		now := a.d.now()
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(webhook.HeaderSignature, signature.Sign(key, env.WebhookID, now, body))
	}
	return nil
}

// classify applies the route's retry.on to an outcome.
func (a attempt) classify(o config.Outcome, msg string) *Failure {
	class, _ := metrics.ClassOf(o)
	if slices.Contains(a.route.Retry.On, o) {
		return &Failure{Retryable: true, Outcome: o, Class: class, Message: msg}
	}
	return &Failure{Outcome: o, Class: class, Message: msg + " (" + string(o) + " is not in retry.on)"}
}

func (a attempt) transportFailure(actx context.Context, byDeadline bool, where string, timeout time.Duration, err error) *Failure {
	var ne net.Error
	switch {
	case actx.Err() != nil && byDeadline:
		return a.classify(config.OutcomeTimeout, fmt.Sprintf("%s: %s: the attempt ran out of time (its Task state's or the function's) before the target answered", a.prefix(), where))
	case actx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()):
		return a.classify(config.OutcomeTimeout, fmt.Sprintf("%s: %s: no answer within %s", a.prefix(), where, timeout))
	}
	return a.classify(config.OutcomeConnection, fmt.Sprintf("%s: %s: %s", a.prefix(), where, connectionCause(err)))
}

// connectionCause describes a transport error without the URL the http
// client repeats (it may carry a query string).
func connectionCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "connection failed: " + webhook.Bound(err.Error(), 200)
}

func (a attempt) statusFailure(ctx context.Context, where string, resp *http.Response) *Failure {
	msg := fmt.Sprintf("%s: %s: target answered %s", a.prefix(), where, statusText(resp.StatusCode))
	switch code := resp.StatusCode; {
	case code >= 500:
		return a.classify(config.OutcomeServerError, msg)
	case code == http.StatusRequestTimeout:
		return a.classify(config.OutcomeTimeout, msg)
	case code == http.StatusTooManyRequests:
		f := a.classify(config.OutcomeThrottled, msg)
		if f.Retryable {
			f.Message += a.honourRetryAfter(ctx, resp.Header.Get("Retry-After"))
		}
		return f
	case code >= 300 && code < 400:
		f := a.permanent("%s: target answered %s; redirects are not followed, fix the target URL", where, statusText(code))
		f.Class = metrics.ClassRedirect
		return f
	}
	return &Failure{Class: metrics.ClassClientError, Message: msg}
}

// honourRetryAfter waits out a short Retry-After inside the function when
// the attempt's remaining time allows (the wait must end before its Task
// state times out, see stateEnd), so the workflow's next attempt comes no
// sooner than the target asked; a longer one is left to the workflow's
// backoff. It returns what it did, for the cause.
func (a attempt) honourRetryAfter(ctx context.Context, value string) string {
	if value == "" {
		return ""
	}
	wait, ok := parseRetryAfter(value, a.d.now())
	if !ok {
		return fmt.Sprintf("; Retry-After %q not understood", webhook.Bound(value, 40))
	}
	if wait <= 0 {
		return ""
	}
	if wait > a.route.Timeout {
		return fmt.Sprintf("; Retry-After %s exceeds the attempt timeout %s, left to the workflow's backoff", wait, a.route.Timeout)
	}
	if left := a.left(); wait > left {
		return fmt.Sprintf("; Retry-After %s exceeds the %s the attempt has left before its Task state times out, left to the workflow's backoff", wait, max(left, 0).Truncate(time.Second))
	}
	if err := a.d.sleep(ctx, wait); err != nil {
		return fmt.Sprintf("; Retry-After %s interrupted", wait)
	}
	return fmt.Sprintf("; waited Retry-After %s", wait)
}

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 1<<31)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return t.Sub(now), true
}

// sleepTimer waits for wait or until ctx ends.
func sleepTimer(ctx context.Context, wait time.Duration) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readExcerpt reads the first ExcerptBytes of a body as valid UTF-8 (a rune
// cut at the end is dropped, invalid bytes replaced) and drains a bounded
// remainder so the connection can be reused.
func readExcerpt(body io.Reader) string {
	buf := make([]byte, ExcerptBytes)
	n, _ := io.ReadFull(body, buf)
	_, _ = io.CopyN(io.Discard, body, drainBytes)
	b := buf[:n]
	if n == ExcerptBytes {
		// Drop a rune the limit cut in two (at most utf8.UTFMax-1 bytes).
		for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// redactURL prints a target without user info or query (either may hold a token).
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	c.Fragment = ""
	return c.String()
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return redactURL(u)
	}
	if i := strings.IndexAny(raw, "?@"); i >= 0 {
		return raw[:i] + "…"
	}
	return raw
}

func sortedKeys(m map[string]config.SecretRef) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
