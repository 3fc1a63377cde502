package twin_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/webhook"
)

// outageConfig gives every webhook one execution (retry_window: 0s), two
// attempts that each time out after a second, and a batch of ten.
const outageConfig = `service: outage
region: eu-west-1
ingress:
  base_path: /hooks
target:
  base_url: %s
  timeout: 1s
queue:
  retry_window: 0s
  batch_size: 10
  max_concurrency: 2
retry:
  max_attempts: 2
  interval: 1s
  max_delay: 1s
notify:
  when: final
  slack_webhook_url:
    env: OUTAGE_SLACK_URL
routes:
  - name: orders
    path: /orders
    group: header:X-Group
    target_path: /orders
    dedup: request_id
    headers: [X-Group]
    verify: {scheme: none, reason: the test sender signs nothing}
`

// hangingTarget never answers within the attempt timeout; it counts the
// attempts per webhook id.
type hangingTarget struct {
	mu       sync.Mutex
	attempts map[string]int
}

func (h *hangingTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.attempts[r.Header.Get(webhook.HeaderWebhookID)]++
	h.mu.Unlock()
	select {
	case <-r.Context().Done():
	case <-time.After(3 * time.Second):
	}
	w.WriteHeader(http.StatusGatewayTimeout)
}

// TestOutageBlackBox runs a group of ten through a twin whose target is down
// (every attempt times out), with a forward timeout that leaves room for two
// or three executions: the rest of each batch comes back untried and SQS
// counts those receives. Black box — ingress in, cmd/redrive list out — every
// webhook ends in the DLQ after a real execution, parked by the forwarder
// with its failure record and exactly one notification; SQS's redrive
// policy, the derived backstop, moves none.
func TestOutageBlackBox(t *testing.T) {
	t.Parallel()
	target := &hangingTarget{attempts: map[string]int{}}
	targetSrv := httptest.NewServer(target)
	defer targetSrv.Close()
	slack := &slackSink{}
	slackSrv := httptest.NewServer(slack)
	defer slackSrv.Close()

	cfg, workflows := writeProject(t, fmt.Sprintf(outageConfig, targetSrv.URL))
	worst := config.ComputeBudget(cfg).WorstExecution
	backstop := config.ComputeFinality(cfg).MaxReceiveCount
	tw := startTwin(t, twin.Options{
		Config:       cfg,
		WorkflowsDir: workflows,
		// An execution takes two or three seconds here; five seconds past
		// the worst case start two or three of them per invocation.
		ForwardTimeout: worst + 5*time.Second,
		LookupEnv: func(k string) (string, bool) {
			if k == "OUTAGE_SLACK_URL" {
				return slackSrv.URL, true
			}
			return "", false
		},
	})

	client := &http.Client{Timeout: 10 * time.Second}
	var ids []string
	for i := range 10 {
		id, status, err := post(client, tw.IngressURL+"/hooks/orders", map[string]string{"X-Group": "g-down"}, fmt.Appendf(nil, `{"n":%d}`, i))
		if err != nil || status != http.StatusOK || id == "" {
			t.Fatalf("post %d: %d %v", i, status, err)
		}
		ids = append(ids, id)
	}
	waitFor(t, 3*time.Minute, "every webhook in the DLQ", func() bool {
		return len(parkedIDs(t, tw, cfg.DLQName())) == len(ids)
	})
	// Notifications run asynchronously; give them a moment, then check.
	for deadline := time.Now().Add(10 * time.Second); len(tw.Notifications()) < len(ids) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}

	cmd := exec.Command("go", "run", "./cmd/redrive", "list", "--json", "--endpoint-url", tw.ControlURL, "--config", cfg.Path)
	cmd.Dir = testenv.RepoRoot(t)
	cmd.Env = cliEnv(cfg.Region)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cmd/redrive list: %v\n%s", err, out)
	}
	type listed struct {
		WebhookID, Group, Reason, Error string
		ReceiveCount                    int
	}
	var parked []listed
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l listed
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("cmd/redrive list line %q: %v", sc.Text(), err)
		}
		parked = append(parked, l)
	}
	var order []string
	highest := 0
	for _, p := range parked {
		order = append(order, p.WebhookID)
		highest = max(highest, p.ReceiveCount)
		// No reason means no failure record: SQS's redrive policy moved it.
		if p.Reason != string(webhook.ReasonExhausted) || p.Error != webhook.ErrRetryable || p.Group != "g-down" {
			t.Errorf("%s parked as %q/%q in group %s; want the forwarder's record of an exhausted %s", p.WebhookID, p.Reason, p.Error, p.Group, webhook.ErrRetryable)
		}
	}
	if !slices.Equal(order, ids) {
		t.Errorf("cmd/redrive list shows %v, want every webhook in order %v", order, ids)
	}
	for _, id := range ids {
		if n := slack.mentioning(id); n != 1 {
			t.Errorf("%s: %d notifications, want exactly 1", id, n)
		}
		target.mu.Lock()
		n := target.attempts[id]
		target.mu.Unlock()
		if n != 2 {
			t.Errorf("%s: the target saw %d attempts, want one execution's 2", id, n)
		}
	}
	if highest < 2 || highest >= backstop {
		t.Errorf("the highest receive count is %d; the test needs some webhooks received again (out of time) and all under the backstop %d", highest, backstop)
	}
	t.Logf("10 webhooks parked; highest receive count %d, backstop %d", highest, backstop)
}

// TestUnrunnableMessageAnnounced: a message that can never run (its route is
// not configured) is parked at once, and the forwarder announces it by
// invoking the notify function asynchronously through the twin's Lambda
// Invoke API, which the real AWS SDK client calls — exactly one
// notification, as the workflow would have sent.
func TestUnrunnableMessageAnnounced(t *testing.T) {
	t.Parallel()
	slack := &slackSink{}
	slackSrv := httptest.NewServer(slack)
	defer slackSrv.Close()
	cfg, workflows := writeProject(t, fmt.Sprintf(outageConfig, "https://app.example.com"))
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, LookupEnv: func(k string) (string, bool) {
		if k == "OUTAGE_SLACK_URL" {
			return slackSrv.URL, true
		}
		return "", false
	}})
	const id = "wh-unrunnable"
	_, err := tw.Store().Send(cfg.QueueName(), fifo.SendInput{Body: "{}", GroupID: "g-x", DeduplicationID: "d-x",
		Attributes: map[string]fifo.Attribute{
			webhook.AttrWebhookID: {DataType: "String", StringValue: id},
			webhook.AttrRoute:     {DataType: "String", StringValue: "retired-route"},
		}})
	must(t, err)
	waitFor(t, 20*time.Second, "the notification", func() bool { return slack.mentioning(id) > 0 })
	msgs, err := tw.Store().List(cfg.DLQName())
	must(t, err)
	var f webhook.Failure
	if len(msgs) != 1 || json.Unmarshal([]byte(msgs[0].Attributes[webhook.AttrFailure].StringValue), &f) != nil || f.Reason != webhook.ReasonMalformed {
		t.Fatalf("DLQ %+v; want the message parked as malformed", msgs)
	}
	time.Sleep(500 * time.Millisecond) // a second notification would have come by now
	notes := tw.Notifications()
	if slack.mentioning(id) != 1 || len(notes) != 1 || notes[0].WebhookID != id || notes[0].Error != webhook.ErrPermanent {
		t.Errorf("slack %d posts, twin notifications %+v; want exactly one for %s", slack.mentioning(id), notes, id)
	}
}

// TestInvokeAPIRefuses: the twin's Lambda Invoke takes asynchronous
// invocations of the notify function with a JSON payload, and answers
// anything else with Lambda's error.
func TestInvokeAPIRefuses(t *testing.T) {
	t.Parallel()
	cfg, workflows := writeProject(t, fmt.Sprintf(outageConfig, "https://app.example.com"))
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows})
	invoke := func(function, invocationType, payload string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, tw.ControlURL+"/2015-03-31/functions/"+function+"/invocations", strings.NewReader(payload))
		must(t, err)
		req.Header.Set("X-Amz-Invocation-Type", invocationType)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype")
	}
	for _, tc := range []struct {
		name, function, invocationType, payload string
		status                                  int
		errorType                               string
	}{
		{"the deliver function is the workflow's alone", cfg.FunctionName("deliver"), "Event", "{}", http.StatusNotFound, "ResourceNotFoundException"},
		{"synchronous", cfg.FunctionName("notify"), "RequestResponse", "{}", http.StatusBadRequest, "InvalidParameterValueException"},
		{"not JSON", cfg.FunctionName("notify"), "Event", "{", http.StatusBadRequest, "InvalidRequestContentException"},
		{"over 1 MB", cfg.FunctionName("notify"), "Event", `"` + strings.Repeat("x", 1<<20) + `"`, http.StatusRequestEntityTooLarge, "RequestTooLargeException"},
	} {
		if status, errType := invoke(tc.function, tc.invocationType, tc.payload); status != tc.status || errType != tc.errorType {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, errType, tc.status, tc.errorType)
		}
	}
}
