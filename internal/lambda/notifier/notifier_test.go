package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

const (
	testExecutionARN = "arn:aws:states:ap-northeast-1:123456789012:express:sales-approvals-approval-progress:4b1f-exec:9c2d-run"
	testStartTime    = "2026-11-28T10:00:00.123Z"
	testTopic        = "arn:aws:sns:ap-northeast-1:123456789012:webhookq-failures"
)

// The caught error as Step Functions passes it: Error is the errorType, Cause
// the Lambda's error JSON as a string.
func testRequest(final bool) webhook.NotifyRequest {
	cause, _ := json.Marshal(map[string]any{
		"errorMessage": "attempt 5/5: POST https://app.test/hooks: target answered 503 Service Unavailable",
		"errorType":    webhook.ErrRetryable,
	})
	return webhook.NotifyRequest{
		Webhook: webhook.Envelope{
			WebhookID: "wh-7f3a", Route: "approval-progress", Group: "req-42",
			ReceiveCount: 5, RetryUntil: "2026-11-28T10:00:00Z", FinalAttempt: final, Body: `{"secret":"do-not-echo"}`,
		},
		Error:        webhook.CaughtError{Error: webhook.ErrRetryable, Cause: string(cause)},
		ExecutionID:  testExecutionARN,
		StateMachine: "sales-approvals-approval-progress",
		StartTime:    testStartTime,
	}
}

func TestCompose(t *testing.T) {
	t.Parallel()
	final := Compose(Describe(testRequest(true)))
	for _, want := range []string{
		"Route:      approval-progress\n",
		"Group:      req-42\n",
		"Webhook id: wh-7f3a\n",
		"Error:      Webhook.Retryable\n",
		"Cause:      attempt 5/5: POST https://app.test/hooks: target answered 503 Service Unavailable\n",
		"Attempts:   receive 5 (each execution runs the workflow's retries); retried until 2026-11-28T10:00:00Z",
		"headed for the dead-letter queue",
		"Execution:  https://ap-northeast-1.console.aws.amazon.com/states/home?region=ap-northeast-1#/express-executions/details/" + testExecutionARN + "?startDate=1795860000123\n",
		"  go run ./cmd/redrive redrive --webhook-id wh-7f3a\n",
	} {
		if !strings.Contains(final.Text, want) {
			t.Errorf("final message lacks %q:\n%s", want, final.Text)
		}
	}
	if strings.Contains(final.Text, "do-not-echo") {
		t.Error("the message quotes the webhook body")
	}
	if want := "webhookq approval-progress: delivery failed, moved to the DLQ (Webhook.Retryable)"; final.Subject != want {
		t.Errorf("subject = %q, want %q", final.Subject, want)
	}

	permanentReq := testRequest(false)
	permanentReq.Error.Error = webhook.ErrPermanent
	if permanent := Compose(Describe(permanentReq)); !strings.Contains(permanent.Text, "headed for the dead-letter queue") {
		t.Errorf("a permanent failure is parked at once; the message must say so:\n%s", permanent.Text)
	}

	retried := Compose(Describe(testRequest(false)))
	if !strings.Contains(retried.Text, "back to the queue") || strings.Contains(retried.Text, "redrive") {
		t.Errorf("a not-final failure must say it is retried and not offer a redrive:\n%s", retried.Text)
	}
}

func TestConsoleURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ arn, start, want string }{
		{testExecutionARN, testStartTime, "https://ap-northeast-1.console.aws.amazon.com/states/home?region=ap-northeast-1#/express-executions/details/" + testExecutionARN + "?startDate=1795860000123"},
		{testExecutionARN, "", "https://ap-northeast-1.console.aws.amazon.com/states/home?region=ap-northeast-1#/express-executions/details/" + testExecutionARN},
		{"arn:aws:states:us-east-1:123456789012:execution:sm:run-1", "", "https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/arn:aws:states:us-east-1:123456789012:execution:sm:run-1"},
		{"local-execution-7", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := ConsoleURL(tt.arn, tt.start); got != tt.want {
			t.Errorf("ConsoleURL(%q) = %q, want %q", tt.arn, got, tt.want)
		}
	}
}

func TestSubjectFitsSNS(t *testing.T) {
	t.Parallel()
	d := Describe(testRequest(true))
	d.Route = strings.Repeat("très-long-route-", 10)
	d.Error = "Error\nwith a line break"
	s := Compose(d).Subject
	if len(s) > SubjectMax {
		t.Errorf("subject has %d characters, SNS wants fewer than 100", len(s))
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("subject %q has %q: SNS wants printable ASCII", s, r)
		}
	}
}

func TestRedriveCommandQuotes(t *testing.T) {
	t.Parallel()
	if got := RedriveCommand("a1b2-C3"); got != "go run ./cmd/redrive redrive --webhook-id a1b2-C3" {
		t.Errorf("plain id: %q", got)
	}
	if got := RedriveCommand("x'; rm -rf /"); got != `go run ./cmd/redrive redrive --webhook-id 'x'\''; rm -rf /'` {
		t.Errorf("hostile id not quoted: %q", got)
	}
}

// fakeSNS records publishes; err makes them fail.
type fakeSNS struct {
	mu  sync.Mutex
	in  []*sns.PublishInput
	err error
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.in = append(f.in, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

type mapSecrets map[config.SecretRef]string

func (m mapSecrets) Resolve(_ context.Context, ref config.SecretRef) (string, error) {
	if v, ok := m[ref]; ok {
		return v, nil
	}
	return "", errors.New("secret not found")
}

// slackEndpoint is a Slack-compatible incoming webhook answering status.
func slackEndpoint(t *testing.T, status int) (*httptest.Server, chan string) {
	t.Helper()
	texts := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Text string }
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &m) != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		texts <- m.Text
		w.WriteHeader(status)
		_, _ = io.WriteString(w, map[bool]string{true: "ok", false: "no_service"}[status == 200])
	}))
	t.Cleanup(srv.Close)
	return srv, texts
}

var slackRef = config.SecretRef{SSMParameter: "/sales-approvals/slack-webhook-url"}

func notifierFor(t testing.TB, snsClient SNSPublisher, slackURL string) *Notifier {
	ch := config.Notify{When: config.NotifyFinal, SNSTopicARN: testTopic, SlackWebhookURL: &slackRef}
	return newNotifier(t, &Config{
		Routes:  &config.Config{Notify: ch, Routes: []config.Route{{Name: "approval-progress", Notify: ch}}},
		SNS:     snsClient,
		Logger:  slog.New(slog.DiscardHandler),
		Secrets: mapSecrets{slackRef: slackURL + "/services/T000/B000/s3cretpath"},
	})
}

// newNotifier is New(c), failing t on an error.
func newNotifier(t testing.TB, c *Config) *Notifier {
	t.Helper()
	n, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNotifyChannels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		snsErr        error
		slackStatus   int
		wantDelivered string
		wantFailed    []string // channels in the ChannelError
	}{
		{"both deliver", nil, 200, "sns,slack", nil},
		{"sns fails, slack still posts", errors.New("AuthorizationError: not allowed"), 200, "slack", []string{"sns: AuthorizationError: not allowed"}},
		{"slack fails, sns still publishes", nil, 404, "sns", []string{"slack: webhook from ssm:/sales-approvals/slack-webhook-url answered 404: no_service"}},
		{"both fail", errors.New("throttled"), 500, "", []string{"sns: throttled", "slack: webhook from ssm:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			slack, texts := slackEndpoint(t, tt.slackStatus)
			fs := &fakeSNS{err: tt.snsErr}
			res, err := notifierFor(t, fs, slack.URL).Notify(context.Background(), testRequest(true))
			if got := strings.Join(res.Delivered, ","); got != tt.wantDelivered {
				t.Errorf("delivered = %q, want %q", got, tt.wantDelivered)
			}
			// Both channels were tried either way.
			if len(fs.in) != 1 {
				t.Fatalf("SNS publishes = %d, want 1", len(fs.in))
			}
			if aws.ToString(fs.in[0].TopicArn) != testTopic || !strings.Contains(aws.ToString(fs.in[0].Message), "Webhook id: wh-7f3a") {
				t.Errorf("SNS publish = %+v", fs.in[0])
			}
			select {
			case text := <-texts:
				if !strings.Contains(text, "wh-7f3a") || !strings.Contains(text, "--webhook-id wh-7f3a") {
					t.Errorf("Slack text lacks the webhook id and redrive command: %q", text)
				}
			default:
				t.Fatal("Slack was not posted to")
			}
			if len(tt.wantFailed) == 0 {
				if err != nil {
					t.Fatalf("Notify: %v", err)
				}
				return
			}
			var ce *ChannelError
			if !errors.As(err, &ce) {
				t.Fatalf("Notify error = %v, want *ChannelError", err)
			}
			for _, want := range tt.wantFailed {
				if !strings.Contains(ce.Error(), want) {
					t.Errorf("error %q lacks %q", ce, want)
				}
			}
			if strings.Contains(ce.Error(), "s3cretpath") {
				t.Errorf("error %q reveals the Slack webhook URL", ce)
			}
		})
	}
}

func TestSlackUnreachableDoesNotRevealTheURL(t *testing.T) {
	t.Parallel()
	slack, _ := slackEndpoint(t, 200)
	slack.Close() // nothing listens any more
	_, err := notifierFor(t, &fakeSNS{}, slack.URL).Notify(context.Background(), testRequest(true))
	var ce *ChannelError
	if !errors.As(err, &ce) || ce.Failures[ChannelSlack] == nil {
		t.Fatalf("Notify = %v, want a Slack channel failure", err)
	}
	if strings.Contains(err.Error(), "s3cretpath") || strings.Contains(err.Error(), slack.URL) {
		t.Errorf("error %q reveals the Slack webhook URL", err)
	}
}

func TestNoChannelsIsNotAnError(t *testing.T) {
	t.Parallel()
	n := newNotifier(t, &Config{Routes: &config.Config{Routes: []config.Route{{Name: "approval-progress"}}}, Secrets: mapSecrets{}, Logger: slog.New(slog.DiscardHandler)})
	res, err := n.Notify(context.Background(), testRequest(true))
	if err != nil || len(res.Delivered) != 0 {
		t.Fatalf("Notify = %+v, %v", res, err)
	}
}

// TestInvokeWorkflowPayload sends the Notify state's payload through
// aws-lambda-go's handler and checks the reported error type.
func TestInvokeWorkflowPayload(t *testing.T) {
	t.Parallel()
	slack, texts := slackEndpoint(t, 500)
	fs := &fakeSNS{}
	payload := `{"webhook":{"webhookId":"wh-9","route":"approval-progress","group":"req-1","messageId":"m","receiveCount":5,` +
		`"finalAttempt":true,"headers":{},"body":"{}","bodyEncoding":"utf8"},` +
		`"error":{"Error":"Webhook.Permanent","Cause":"{\"errorMessage\":\"attempt 1/5: POST https://app.test/h: target answered 400 Bad Request\",\"errorType\":\"Webhook.Permanent\"}"},` +
		`"executionId":"` + testExecutionARN + `","stateMachine":"sales-approvals-approval-progress","startTime":"` + testStartTime + `"}`
	_, err := lambda.NewHandler(notifierFor(t, fs, slack.URL).Notify).Invoke(context.Background(), []byte(payload))
	if err == nil {
		t.Fatal("Invoke succeeded although Slack answered 500")
	}
	if got := errorType(err); got != "ChannelError" {
		t.Errorf("errorType = %q, want ChannelError", got)
	}
	if len(fs.in) != 1 || !strings.Contains(aws.ToString(fs.in[0].Message), "Cause:      attempt 1/5: POST https://app.test/h: target answered 400 Bad Request") {
		t.Errorf("SNS message: %+v", fs.in)
	}
	if text := <-texts; !strings.Contains(text, "wh-9") {
		t.Errorf("Slack text %q", text)
	}
}

// A channel's error can be long (an AWS error message); the one the workflow
// records stays within webhook.MaxCauseBytes.
func TestChannelErrorIsBounded(t *testing.T) {
	t.Parallel()
	err := &ChannelError{Failures: map[string]error{
		ChannelSNS:   errors.New(strings.Repeat("InvalidParameter: ", 500)),
		ChannelSlack: errors.New("answered 500"),
	}}
	if got := err.Error(); len(got) > webhook.MaxCauseBytes || !strings.HasPrefix(got, "notify channels failed: sns: InvalidParameter") {
		t.Errorf("ChannelError is %d bytes: %.80q", len(got), got)
	}
}

// errorType is the name aws-lambda-go reports for a returned error (its
// lambdaErrorResponse): the Go type's name, pointer stripped.
func errorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

func TestUnknownRouteUsesTopLevelChannels(t *testing.T) {
	t.Parallel()
	fs := &fakeSNS{}
	n := newNotifier(t, &Config{
		Routes:  &config.Config{Notify: config.Notify{SNSTopicARN: testTopic}, Routes: []config.Route{{Name: "other"}}},
		SNS:     fs,
		Secrets: mapSecrets{},
		Logger:  slog.New(slog.DiscardHandler),
	})
	req := testRequest(true)
	req.Webhook.Route = "renamed-route"
	res, err := n.Notify(context.Background(), req)
	if err != nil || len(fs.in) != 1 || aws.ToString(fs.in[0].TopicArn) != testTopic || strings.Join(res.Delivered, ",") != "sns" {
		t.Fatalf("Notify = %+v, %v; publishes %d", res, err, len(fs.in))
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	full := Config{Routes: &config.Config{Routes: []config.Route{{Name: "approval-progress"}}}, Secrets: mapSecrets{}}
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

// The notify function's answer stays within webhook.MaxNotifyResultBytes,
// the bound the workflow's data limit is derived with.
func TestResultFitsItsBound(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Result{Delivered: slices.Clone(channelOrder)})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > webhook.MaxNotifyResultBytes {
		t.Errorf("a result naming every channel is %d bytes (%s), over webhook.MaxNotifyResultBytes %d", len(b), b, webhook.MaxNotifyResultBytes)
	}
}
