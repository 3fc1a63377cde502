package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/secret"
	"github.com/webhookq/webhookq/internal/testkit/testclock"
	"github.com/webhookq/webhookq/internal/webhook"
)

// fakeSecrets is a SecretResolver over a map, counting reads.
type fakeSecrets struct {
	mu     sync.Mutex
	values map[config.SecretRef]string
	reads  int
}

func (f *fakeSecrets) Resolve(_ context.Context, ref config.SecretRef) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	v, ok := f.values[ref]
	if !ok {
		return "", errors.New("secret " + secret.Describe(ref) + ": not found")
	}
	return v, nil
}

// Reread serves the same map: these tests do not rotate secrets
// (signature.VerifyRoute's reread is tested with the real resolver).
func (f *fakeSecrets) Reread(ctx context.Context, ref config.SecretRef, _ time.Duration) (string, bool, error) {
	v, err := f.Resolve(ctx, ref)
	return v, false, err
}

// roundTrip is a fake transport: the target's answer without a network.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func answer(status int, header http.Header, body string) roundTrip {
	return func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		if header == nil {
			header = http.Header{}
		}
		return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
}

var allOutcomes = config.AllOutcomes

func testConfig(targetURL string, on []config.Outcome) *config.Config {
	return &config.Config{
		Service: "svc",
		Target:  config.Target{BaseURL: targetURL, Timeout: 2 * time.Second},
		Routes: []config.Route{{
			Name:      "orders",
			TargetURL: targetURL + "/hooks/orders",
			Headers:   []string{"X-Event-Type"},
			Timeout:   2 * time.Second,
			Retry:     config.Retry{MaxAttempts: 5, On: on},
		}},
	}
}

func request(body string, retryCount int) webhook.DeliverRequest {
	env := webhook.Envelope{WebhookID: "wh-123", Route: "orders", Group: "g1", Headers: map[string]string{"X-Event-Type": "order.created"}}
	env.EncodeBody([]byte(body))
	return webhook.DeliverRequest{Webhook: env, RetryCount: retryCount}
}

// newDeliverer is a Deliverer for cfg whose requests go to rt (nil: the
// network), that never sleeps, with tweaks applied to its Config.
func newDeliverer(t testing.TB, cfg *config.Config, rt http.RoundTripper, tweaks ...func(*Config)) *Deliverer {
	t.Helper()
	c := &Config{
		Routes:     cfg,
		Secrets:    &fakeSecrets{},
		HTTPClient: NewHTTPClient(),
		Sleep:      func(context.Context, time.Duration) error { return nil },
	}
	if rt != nil {
		c.HTTPClient.Transport = rt
	}
	for _, tweak := range tweaks {
		tweak(c)
	}
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// hang is a target that never answers: the attempt ends at its timeout.
var hang = roundTrip(func(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
})

// refused is what the transport reports when nothing listens.
var refused = &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}

func TestOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rt       http.RoundTripper
		on       []config.Outcome
		wantErr  string // "" for success, else webhook.ErrRetryable / ErrPermanent
		wantText string
	}{
		{"200", answer(200, nil, "ok"), allOutcomes, "", ""},
		{"204", answer(204, nil, ""), allOutcomes, "", ""},
		{"500", answer(500, nil, "boom"), allOutcomes, webhook.ErrRetryable, "attempt 2/5: POST https://target.test/hooks/orders: target answered 500 Internal Server Error"},
		{"503", answer(503, nil, ""), allOutcomes, webhook.ErrRetryable, "target answered 503 Service Unavailable"},
		{"599 unknown 5xx", answer(599, nil, ""), allOutcomes, webhook.ErrRetryable, "target answered 599"},
		{"503 without server_error in retry.on", answer(503, nil, ""), []config.Outcome{config.OutcomeThrottled}, webhook.ErrPermanent, "(server_error is not in retry.on)"},
		{"408", answer(408, nil, ""), allOutcomes, webhook.ErrRetryable, "target answered 408 Request Timeout"},
		{"408 without timeout in retry.on", answer(408, nil, ""), []config.Outcome{config.OutcomeServerError}, webhook.ErrPermanent, "(timeout is not in retry.on)"},
		{"429", answer(429, nil, ""), allOutcomes, webhook.ErrRetryable, "target answered 429 Too Many Requests"},
		{"429 without throttled in retry.on", answer(429, nil, ""), []config.Outcome{config.OutcomeServerError}, webhook.ErrPermanent, "(throttled is not in retry.on)"},
		{"400", answer(400, nil, "bad"), allOutcomes, webhook.ErrPermanent, "target answered 400 Bad Request"},
		{"401", answer(401, nil, ""), allOutcomes, webhook.ErrPermanent, "target answered 401 Unauthorized"},
		{"404", answer(404, nil, ""), allOutcomes, webhook.ErrPermanent, "target answered 404 Not Found"},
		{"422", answer(422, nil, ""), allOutcomes, webhook.ErrPermanent, "target answered 422 Unprocessable Entity"},
		{"302 is not followed", answer(302, http.Header{"Location": {"https://elsewhere.test/"}}, ""), allOutcomes, webhook.ErrPermanent, "redirects are not followed"},
		{"connection refused", roundTrip(func(*http.Request) (*http.Response, error) { return nil, refused }), allOutcomes, webhook.ErrRetryable, "connection failed: dial tcp: connect: connection refused"},
		{"connection refused without connection in retry.on", roundTrip(func(*http.Request) (*http.Response, error) { return nil, refused }), []config.Outcome{config.OutcomeServerError}, webhook.ErrPermanent, "(connection is not in retry.on)"},
		{"no answer in time", hang, allOutcomes, webhook.ErrRetryable, "no answer within 50ms"},
		{"no answer in time without timeout in retry.on", hang, []config.Outcome{config.OutcomeConnection}, webhook.ErrPermanent, "(timeout is not in retry.on)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig("https://target.test", tt.on)
			cfg.Routes[0].Timeout = 50 * time.Millisecond
			d := newDeliverer(t, cfg, tt.rt)
			res, err := d.Deliver(context.Background(), request(`{"id":1}`, 1))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Deliver: %v", err)
				}
				if res.Attempt != 2 || res.Status < 200 || res.Status > 299 {
					t.Fatalf("result = %+v", res)
				}
				return
			}
			var f *Failure
			if !errors.As(err, &f) {
				t.Fatalf("Deliver error = %v (%T), want a *Failure", err, err)
			}
			if f.Name() != tt.wantErr {
				t.Errorf("error name = %s, want %s (%s)", f.Name(), tt.wantErr, f.Message)
			}
			if !strings.Contains(f.Message, tt.wantText) {
				t.Errorf("message = %q, want it to contain %q", f.Message, tt.wantText)
			}
			if !strings.HasPrefix(f.Message, "attempt 2/5: ") {
				t.Errorf("message = %q, want the attempt first", f.Message)
			}
		})
	}
}

func TestInvalidTargetAndEnvelopeArePermanent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target string
		mutate func(*webhook.DeliverRequest)
		want   string
	}{
		{"ftp target", "ftp://files.test/x", nil, `invalid target URL "ftp://files.test/x"`},
		{"relative target", "/just/a/path", nil, "invalid target URL"},
		{"target with credentials is redacted", "mailto://user:pw@x", nil, "invalid target URL"},
		{"unknown route", "https://t.test", func(r *webhook.DeliverRequest) { r.Webhook.Route = "nope" }, `unknown route "nope"`},
		{"bad base64 body", "https://t.test", func(r *webhook.DeliverRequest) { r.Webhook.BodyEncoding, r.Webhook.Body = webhook.EncodingBase64, "!!" }, "envelope body"},
		{"no webhook id", "https://t.test", func(r *webhook.DeliverRequest) { r.Webhook.WebhookID = "" }, "the webhook has no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig("https://t.test", allOutcomes)
			cfg.Routes[0].TargetURL = tt.target
			called := false
			d := newDeliverer(t, cfg, roundTrip(func(r *http.Request) (*http.Response, error) {
				called = true
				return answer(200, nil, "")(r)
			}))
			req := request("{}", 0)
			if tt.mutate != nil {
				tt.mutate(&req)
			}
			_, err := d.Deliver(context.Background(), req)
			var f *Failure
			if !errors.As(err, &f) || f.Retryable {
				t.Fatalf("Deliver = %v, want a permanent failure", err)
			}
			if !strings.Contains(f.Message, tt.want) {
				t.Errorf("message = %q, want %q", f.Message, tt.want)
			}
			if strings.Contains(f.Message, "pw") {
				t.Errorf("message %q shows the URL's password", f.Message)
			}
			if called {
				t.Error("the target was called")
			}
		})
	}
}

// captured is what a test target saw.
type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

func captureTarget(t *testing.T, status int, reply string) (*httptest.Server, chan captured) {
	t.Helper()
	got := make(chan captured, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- captured{r.Method, r.URL.Path, r.Header.Clone(), b}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestRequestSent(t *testing.T) {
	t.Parallel()
	srv, got := captureTarget(t, 202, "accepted")
	cfg := testConfig(srv.URL, allOutcomes)
	signingRef := config.SecretRef{SSMParameter: "/svc/signing"}
	tokenRef := config.SecretRef{SecretsManager: "svc/token"}
	cfg.Target.Headers = map[string]string{"X-Forwarded-By": "webhookq", "X-Event-Type": "static-wins"}
	cfg.Target.SecretHeaders = map[string]config.SecretRef{"Authorization": tokenRef}
	cfg.Target.Signing = &signingRef
	cfg.Routes[0].Headers = []string{"X-Event-Type", "Content-Type", "Connection", "Host", "Content-Length"}
	secrets := &fakeSecrets{values: map[config.SecretRef]string{
		signingRef: "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")),
		tokenRef:   "Bearer s3cr3t",
	}}
	d, err := New(&Config{Routes: cfg, Secrets: secrets, Now: func() time.Time { return time.Unix(1_700_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}

	raw := []byte{0xff, 0xfe, 'a', 0x00, 0xc3, 0x28, '\n', 0x80} // not UTF-8: travels base64
	env := webhook.Envelope{WebhookID: "wh-raw", Route: "orders", Headers: map[string]string{
		"x-event-type": "order.created", "Content-Type": "application/octet-stream",
		"Connection": "close", "Host": "evil.test", "Content-Length": "1",
		"X-Internal-User": "admin", // not carried by the route: a crafted input's
	}}
	env.EncodeBody(raw)
	if env.BodyEncoding != webhook.EncodingBase64 {
		t.Fatalf("test body travels as %s, want base64", env.BodyEncoding)
	}
	res, err := d.Deliver(context.Background(), webhook.DeliverRequest{Webhook: env})
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if res.Status != 202 || res.Attempt != 1 || res.Excerpt != "accepted" {
		t.Errorf("result = %+v", res)
	}
	c := <-got
	if c.method != http.MethodPost || c.path != "/hooks/orders" {
		t.Errorf("request = %s %s", c.method, c.path)
	}
	if string(c.body) != string(raw) {
		t.Errorf("body = %x, want %x", c.body, raw)
	}
	want := map[string]string{
		"X-Event-Type":               "static-wins", // static headers override carried ones
		"Content-Type":               "application/octet-stream",
		"X-Forwarded-By":             "webhookq",
		"Authorization":              "Bearer s3cr3t",
		webhook.HeaderWebhookID:      "wh-raw",
		webhook.HeaderIdempotencyKey: "wh-raw",
		webhook.HeaderTimestamp:      "1700000000",
		"Content-Length":             strconv.Itoa(len(raw)),
		"User-Agent":                 userAgent,
	}
	for k, v := range want {
		if g := c.header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	if c.header.Get("Connection") == "close" {
		t.Error("hop-by-hop Connection header was carried")
	}
	if v := c.header.Get("X-Internal-User"); v != "" {
		t.Errorf("a header the route does not carry reached the target: X-Internal-User: %s", v)
	}
	// Standard Webhooks: v1,base64(hmac(key, id.ts.body)), computed here independently.
	m := hmac.New(sha256.New, []byte("0123456789abcdef"))
	m.Write([]byte("wh-raw.1700000000."))
	m.Write(raw)
	if sig, want := c.header.Get(webhook.HeaderSignature), "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
		t.Errorf("signature = %q, want %q", sig, want)
	}
}

func TestSecretFailureIsRetryableAndNamesTheReference(t *testing.T) {
	t.Parallel()
	cfg := testConfig("https://t.test", allOutcomes)
	ref := config.SecretRef{SSMParameter: "/svc/missing"}
	cfg.Target.Signing = &ref
	d := newDeliverer(t, cfg, answer(200, nil, ""))
	_, err := d.Deliver(context.Background(), request("{}", 0))
	var f *Failure
	if !errors.As(err, &f) || !f.Retryable || !strings.Contains(f.Message, "ssm:/svc/missing") {
		t.Fatalf("Deliver = %v, want a retryable failure naming ssm:/svc/missing", err)
	}
}

func TestBadSigningSecretIsPermanent(t *testing.T) {
	t.Parallel()
	cfg := testConfig("https://t.test", allOutcomes)
	ref := config.SecretRef{Env: "SIGNING"}
	cfg.Target.Signing = &ref
	d := newDeliverer(t, cfg, answer(200, nil, ""), func(c *Config) {
		c.Secrets = &fakeSecrets{values: map[config.SecretRef]string{ref: "not base64 at all!"}}
	})
	_, err := d.Deliver(context.Background(), request("{}", 0))
	var f *Failure
	if !errors.As(err, &f) || f.Retryable || strings.Contains(f.Message, "not base64 at all") {
		t.Fatalf("Deliver = %v, want a permanent failure that does not quote the secret", err)
	}
}

func githubSig(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestInboundVerification(t *testing.T) {
	t.Parallel()
	ref := config.SecretRef{SSMParameter: "/svc/github"}
	body := `{"action":"opened"}`
	tests := []struct {
		name    string
		headers map[string]string
		want    string // "" for delivered
	}{
		{"valid", map[string]string{"X-Hub-Signature-256": githubSig("gh-secret", body)}, ""},
		{"forged", map[string]string{"X-Hub-Signature-256": githubSig("other", body)}, "attempt 1/5: inbound signature (github) is invalid: X-Hub-Signature-256 does not match the body"},
		{"missing", map[string]string{}, "X-Hub-Signature-256 header is missing"},
		{"not carried", nil, "X-Hub-Signature-256 header is missing; the route does not carry X-Hub-Signature-256: add it to the route's headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			cfg := testConfig("https://t.test", allOutcomes)
			cfg.Routes[0].Verify = &config.Verify{Scheme: config.VerifyGitHub, Secret: ref}
			if tt.headers != nil {
				cfg.Routes[0].Headers = append(cfg.Routes[0].Headers, "X-Hub-Signature-256")
			}
			d := newDeliverer(t, cfg, roundTrip(func(r *http.Request) (*http.Response, error) {
				calls++
				return answer(200, nil, "")(r)
			}), func(c *Config) { c.Secrets = &fakeSecrets{values: map[config.SecretRef]string{ref: "gh-secret"}} })
			req := request(body, 0)
			req.Webhook.Headers = tt.headers
			_, err := d.Deliver(context.Background(), req)
			if tt.want == "" {
				if err != nil || calls != 1 {
					t.Fatalf("Deliver = %v with %d target calls, want delivered once", err, calls)
				}
				return
			}
			var f *Failure
			if !errors.As(err, &f) || f.Retryable || !strings.Contains(f.Message, tt.want) {
				t.Fatalf("Deliver = %v, want a permanent failure containing %q", err, tt.want)
			}
			if calls != 0 {
				t.Error("an unverified webhook reached the target")
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		lambdaLeft time.Duration // 0: no deadline
		wantSleep  time.Duration
		wantText   string
	}{
		{"seconds, waited", "1", 0, time.Second, "; waited Retry-After 1s"},
		{"http-date, waited", now.Add(2 * time.Second).Format(http.TimeFormat), 0, 2 * time.Second, "; waited Retry-After 2s"},
		{"longer than the attempt timeout", "30", 0, 0, "; Retry-After 30s exceeds the attempt timeout 5s, left to the workflow's backoff"},
		{"longer than the Lambda has left", "3", 2 * time.Second, 0, "; Retry-After 3s exceeds the 1s the attempt has left before its Task state times out, left to the workflow's backoff"},
		{"date in the past", now.Add(-time.Minute).Format(http.TimeFormat), 0, 0, "target answered 429 Too Many Requests"},
		{"garbage", "soon", 0, 0, `; Retry-After "soon" not understood`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig("https://t.test", allOutcomes)
			cfg.Routes[0].Timeout = 5 * time.Second
			var slept time.Duration
			d := newDeliverer(t, cfg, answer(429, http.Header{"Retry-After": {tt.retryAfter}}, ""), func(c *Config) {
				c.Now = func() time.Time { return now }
				c.Sleep = func(_ context.Context, w time.Duration) error { slept = w; return nil }
			})
			ctx := context.Background()
			if tt.lambdaLeft > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.lambdaLeft)
				defer cancel()
			}
			_, err := d.Deliver(ctx, request("{}", 0))
			var f *Failure
			if !errors.As(err, &f) || !f.Retryable {
				t.Fatalf("Deliver = %v, want retryable", err)
			}
			if !strings.HasSuffix(f.Message, tt.wantText) {
				t.Errorf("message = %q, want suffix %q", f.Message, tt.wantText)
			}
			if slept != tt.wantSleep {
				t.Errorf("slept %s, want %s", slept, tt.wantSleep)
			}
		})
	}
}

func TestExcerptIsBoundedValidUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, reply, want string }{
		// 511 ASCII bytes then a 3-byte rune the 512-byte limit cuts in two.
		{"cut rune dropped", strings.Repeat("a", ExcerptBytes-1) + "世界" + strings.Repeat("b", 100_000), strings.Repeat("a", ExcerptBytes-1)},
		{"invalid bytes replaced", "ok \xff\xfe done", "ok \uFFFD done"},
		{"short", "fine", "fine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newDeliverer(t, testConfig("https://t.test", allOutcomes), answer(200, nil, tt.reply))
			res, err := d.Deliver(context.Background(), request("{}", 0))
			if err != nil {
				t.Fatal(err)
			}
			if res.Excerpt != tt.want || !utf8.ValidString(res.Excerpt) {
				t.Errorf("excerpt = %q (%d bytes), want %q", res.Excerpt, len(res.Excerpt), tt.want)
			}
		})
	}
}

func TestCauseRedactsTargetSecretsAndNeverQuotesTheBody(t *testing.T) {
	t.Parallel()
	cfg := testConfig("https://t.test", allOutcomes)
	cfg.Routes[0].TargetURL = "https://user:pa55@t.test/hooks?token=tok3n"
	d := newDeliverer(t, cfg, answer(500, nil, "server says tok3n"))
	_, err := d.Deliver(context.Background(), request(`{"card":"4111111111111111"}`, 0))
	msg := err.Error()
	for _, leak := range []string{"pa55", "tok3n", "4111111111111111", "user"} {
		if strings.Contains(msg, leak) {
			t.Errorf("cause %q contains %q", msg, leak)
		}
	}
	if want := "attempt 1/5: POST https://t.test/hooks?…: target answered 500 Internal Server Error"; msg != want {
		t.Errorf("cause = %q, want %q", msg, want)
	}
}

// TestInvokeErrorTypes goes through aws-lambda-go's handler with the JSON the
// workflow's Deliver state sends, and checks the function error Lambda
// reports: errorType is exactly the name the ASL's Retry and Catch match.
func TestInvokeErrorTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		wantType string
	}{
		{200, ""},
		{503, webhook.ErrRetryable},
		{429, webhook.ErrRetryable},
		{400, webhook.ErrPermanent},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			srv, _ := captureTarget(t, tt.status, "reply")
			d, err := New(&Config{Routes: testConfig(srv.URL, allOutcomes), Secrets: &fakeSecrets{}})
			if err != nil {
				t.Fatal(err)
			}
			// As Step Functions sends it: the execution input under "webhook",
			// $$.State.RetryCount under "retryCount".
			payload := `{"webhook":{"webhookId":"wh-1","route":"orders","group":"g","messageId":"m-1",` +
				`"receiveCount":1,"finalAttempt":false,"headers":{"X-Event-Type":"a"},` +
				`"body":"{\"n\":1}","bodyEncoding":"utf8"},"retryCount":3}`
			out, err := lambda.NewHandler(d.Handle).Invoke(context.Background(), []byte(payload))
			if tt.wantType == "" {
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				var res webhook.DeliverResult
				if err := json.Unmarshal(out, &res); err != nil || res.Status != 200 || res.Attempt != 4 || res.Excerpt != "reply" {
					t.Fatalf("Invoke answer %s (%v)", out, err)
				}
				return
			}
			var ie messages.InvokeResponse_Error
			if !errors.As(err, &ie) {
				t.Fatalf("Invoke error = %#v, want a messages.InvokeResponse_Error", err)
			}
			// What the runtime posts to /runtime/invocation/<id>/error.
			wire, _ := json.Marshal(ie)
			var reported struct{ ErrorType, ErrorMessage string }
			_ = json.Unmarshal(wire, &reported)
			if reported.ErrorType != tt.wantType {
				t.Errorf("errorType = %q, want %q", reported.ErrorType, tt.wantType)
			}
			if !strings.HasPrefix(reported.ErrorMessage, "attempt 4/5: POST "+srv.URL+"/hooks/orders: target answered "+strconv.Itoa(tt.status)) {
				t.Errorf("errorMessage = %q", reported.ErrorMessage)
			}
		})
	}
}

// A Slack-signed webhook that waited in the queue longer than the tolerance
// still verifies: its age is measured at receipt (the envelope's receivedAt),
// not at delivery.
func TestInboundTimestampCheckedAtReceipt(t *testing.T) {
	t.Parallel()
	ref := config.SecretRef{Env: "SLACK_SIGNING"}
	received := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	delivered := received.Add(2 * time.Hour)
	body := "token=x&command=%2Fdeploy"
	ts := strconv.FormatInt(received.Add(-10*time.Second).Unix(), 10)
	m := hmac.New(sha256.New, []byte("slack-secret"))
	m.Write([]byte("v0:" + ts + ":" + body))
	headers := map[string]string{"X-Slack-Signature": "v0=" + hex.EncodeToString(m.Sum(nil)), "X-Slack-Request-Timestamp": ts}
	tests := []struct {
		name, receivedAt, wantErr string
	}{
		{"RFC 3339 receipt", received.Format(time.RFC3339Nano), ""},
		{"epoch-millis receipt", strconv.FormatInt(received.UnixMilli(), 10), ""},
		{"no receipt time: checked now, expired", "", "older than the request's receipt, beyond the 5m0s tolerance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig("https://t.test", allOutcomes)
			cfg.Routes[0].Verify = &config.Verify{Scheme: config.VerifySlack, Secret: ref, Tolerance: 5 * time.Minute}
			d := newDeliverer(t, cfg, answer(200, nil, ""), func(c *Config) {
				c.Secrets = &fakeSecrets{values: map[config.SecretRef]string{ref: "slack-secret"}}
				c.Now = func() time.Time { return delivered }
			})
			req := request(body, 0)
			req.Webhook.Headers, req.Webhook.ReceivedAt = headers, tt.receivedAt
			_, err := d.Deliver(context.Background(), req)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Deliver: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Deliver = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestContentTypeDefaultsToJSONOnlyForJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, carried, static, want string
	}{
		{"JSON body, nothing carried", `{"a":1}`, "", "", "application/json"},
		{"form body, nothing carried", "a=1&b=2", "", "", ""},
		{"carried wins", `{"a":1}`, "application/vnd.api+json", "", "application/vnd.api+json"},
		{"static wins", "a=1", "", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got string
			cfg := testConfig("https://t.test", allOutcomes)
			if tt.static != "" {
				cfg.Target.Headers = map[string]string{"Content-Type": tt.static}
			}
			if tt.carried != "" {
				cfg.Routes[0].Headers = append(cfg.Routes[0].Headers, "Content-Type")
			}
			d := newDeliverer(t, cfg, roundTrip(func(r *http.Request) (*http.Response, error) {
				got = r.Header.Get("Content-Type")
				return answer(200, nil, "")(r)
			}))
			req := request(tt.body, 0)
			if tt.carried != "" {
				req.Webhook.Headers["Content-Type"] = tt.carried
			}
			if _, err := d.Deliver(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Content-Type = %q, want %q", got, tt.want)
			}
		})
	}
}

// When the Lambda's deadline comes before the attempt timeout, the attempt
// ends early enough to report a timeout instead of being killed silently.
func TestLambdaDeadlineBoundsTheAttempt(t *testing.T) {
	t.Parallel()
	cfg := testConfig("https://t.test", allOutcomes)
	cfg.Routes[0].Timeout = 30 * time.Second
	d := newDeliverer(t, cfg, roundTrip(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}))
	ctx, cancel := context.WithTimeout(context.Background(), deadlineMargin+200*time.Millisecond)
	defer cancel()
	_, err := d.Deliver(ctx, request("{}", 0))
	var f *Failure
	if !errors.As(err, &f) || !f.Retryable || f.Outcome != config.OutcomeTimeout ||
		!strings.HasSuffix(f.Message, "the attempt ran out of time (its Task state's or the function's) before the target answered") {
		t.Fatalf("Deliver = %v, want a retryable timeout naming the function's deadline", err)
	}
	if ctx.Err() != nil {
		t.Error("the attempt ran into the Lambda's deadline instead of ending before it")
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	full := Config{Routes: testConfig("https://t.test", allOutcomes), Secrets: &fakeSecrets{}}
	for name, tweak := range map[string]func(*Config){
		"no routes":  func(c *Config) { c.Routes = nil },
		"no secrets": func(c *Config) { c.Secrets = nil },
	} {
		c := full
		tweak(&c)
		if _, err := New(&c); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("New accepted a nil Config")
	}
	if _, err := New(&full); err != nil {
		t.Errorf("complete config: %v", err)
	}
}

// panickingSecrets fails a read the worst way.
type panickingSecrets struct{}

func (panickingSecrets) Resolve(context.Context, config.SecretRef) (string, error) {
	panic(strings.Repeat("a panic message of unbounded length ", 1000))
}

func (p panickingSecrets) Reread(ctx context.Context, ref config.SecretRef, _ time.Duration) (string, bool, error) {
	v, err := p.Resolve(ctx, ref)
	return v, true, err
}

// The function's error message becomes the Cause in the workflow's state
// data, which Step Functions limits: however long a failure's message, or a
// panic's, what the runtime reports stays within webhook.MaxCauseBytes, and a
// panic is a permanent failure, not a crashed runtime with a stack trace.
func TestFunctionErrorsAreBounded(t *testing.T) {
	t.Parallel()
	long := LambdaError(&Failure{Retryable: true, Message: strings.Repeat("é", 5000)})
	var ie messages.InvokeResponse_Error
	if !errors.As(long, &ie) || len(ie.Message) > webhook.MaxCauseBytes || !utf8.ValidString(ie.Message) || ie.Type != webhook.ErrRetryable {
		t.Errorf("LambdaError of a long failure = %q (%d bytes), %q", ie.Message, len(ie.Message), ie.Type)
	}

	cfg := testConfig("https://t.test", allOutcomes)
	ref := config.SecretRef{Env: "SIGNING"}
	cfg.Target.Signing = &ref
	d := newDeliverer(t, cfg, answer(200, nil, ""), func(c *Config) { c.Secrets = panickingSecrets{} })
	_, err := lambda.NewHandler(d.Handle).Invoke(context.Background(), []byte(`{"webhook":{"webhookId":"wh-1","route":"orders","body":"{}","bodyEncoding":"utf8"},"retryCount":0}`))
	if !errors.As(err, &ie) {
		t.Fatalf("a panic gave %#v, want a function error", err)
	}
	if ie.Type != webhook.ErrPermanent || len(ie.Message) > webhook.MaxCauseBytes || len(ie.StackTrace) != 0 ||
		!strings.HasPrefix(ie.Message, "attempt 1: internal error: a panic message") {
		t.Errorf("a panic reported as %q: %q (%d bytes, %d stack frames)", ie.Type, ie.Message[:min(len(ie.Message), 80)], len(ie.Message), len(ie.StackTrace))
	}
}

// An attempt, a Retry-After wait included, ends before its Task state times
// out — however long the deliver function's own timeout (here the slower
// route's, 25 s) would let it run. Step Functions starts the next attempt
// when the state times out without stopping the function, so an attempt that
// outlived it would deliver the webhook twice at once.
func TestAttemptNeverOutlivesItsTaskState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		answerIn   time.Duration // how long the target takes to answer 429
		retryAfter string
		wantWait   bool
	}{
		{"a slow 429 whose Retry-After would pass the state's timeout is not waited", 9 * time.Second, "9", false},
		{"a slow 429 whose Retry-After fits is waited", 9 * time.Second, "5", true},
		{"a fast 429 waits up to the attempt timeout", time.Second, "10", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig("https://t.test", allOutcomes)
			cfg.Routes[0].Timeout = 10 * time.Second
			slow := cfg.Routes[0]
			slow.Name, slow.Timeout = "slow", 20*time.Second
			cfg.Routes = append(cfg.Routes, slow)
			// The target's answer and Sleep advance the clock.
			clock := testclock.New(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
			var waited time.Duration
			d := newDeliverer(t, cfg, roundTrip(func(r *http.Request) (*http.Response, error) {
				clock.Advance(tc.answerIn)
				return answer(http.StatusTooManyRequests, http.Header{"Retry-After": {tc.retryAfter}}, "")(r)
			}), func(c *Config) {
				c.Now = clock.Now
				c.Sleep = func(_ context.Context, w time.Duration) error { waited = w; clock.Advance(w); return nil }
			})
			// The Lambda's own deadline: the deliver function's timeout is
			// the largest route's (25 s), longer than this route's state.
			ctx, cancel := context.WithTimeout(context.Background(), config.DeliverTimeout(slow.Timeout))
			defer cancel()
			start := clock.Now()
			_, err := d.Deliver(ctx, request("{}", 0))
			var f *Failure
			if !errors.As(err, &f) || !f.Retryable {
				t.Fatalf("Deliver = %v, want a retryable 429", err)
			}
			took := clock.Now().Sub(start)
			stateTimeout := config.TaskTimeout(cfg.Routes[0].Timeout)
			if took+deadlineMargin > config.DeliverTimeout(cfg.Routes[0].Timeout) || took >= stateTimeout {
				t.Errorf("the attempt took %s (waited %s); its Task state times out after %s: the next attempt would overlap it", took, waited, stateTimeout)
			}
			if (waited > 0) != tc.wantWait {
				t.Errorf("waited %s, want a wait: %v (%s)", waited, tc.wantWait, f.Message)
			}
		})
	}
}
