package twin_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
	"github.com/webhookq/webhookq/internal/webhook"
)

// forgedConfig is one route that verifies an HMAC header with a secret the
// twin reads from WEBHOOKQ_SECRET_FLOOD_SIGNING (an SSM reference on AWS),
// throttled high enough for a flood from one test client, notifying Slack on
// every failure: so a single notification for a forgery would show.
const forgedConfig = `service: flood
region: eu-west-1
ingress:
  base_path: /hooks
  throttle: {rate: 10000, burst: 5000}
target:
  base_url: %s
  timeout: 2s
  headers:
    X-Forwarded-By: webhookq-e2e
queue:
  batch_size: 10
  max_concurrency: 4
retry:
  max_attempts: 2
  interval: 1s
notify:
  when: every_failure
  slack_webhook_url:
    env: FLOOD_SLACK_URL
routes:
  - name: events
    path: /events
    group: header:X-Group
    target_path: /events
    dedup: request_id
    headers: [X-Event-Type, X-Group, X-Signature]
    verify:
      scheme: hmac
      header: X-Signature
      secret:
        ssm_parameter: /flood/signing
`

const (
	floodSecret  = "the sender's signing secret"
	floodForged  = 500
	floodGenuine = 20
)

// flood posts floodForged forgeries and floodGenuine genuine webhooks,
// interleaved, all in one message group, and returns the genuine ones' ids
// in ingress order.
func flood(t *testing.T, tw *twin.Twin) []string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	every := floodForged / floodGenuine
	var genuine []string
	for i := range floodForged + floodGenuine {
		isGenuine := i%(every+1) == every
		body := fmt.Appendf(nil, `{"n":%d,"genuine":%v}`, i, isGenuine)
		secret := "guessed by the forger"
		if isGenuine {
			secret = floodSecret
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		id, status, err := post(client, tw.IngressURL+"/hooks/events", map[string]string{
			"X-Group": "one-group", "X-Event-Type": "approval.step", "X-Signature": hex.EncodeToString(mac.Sum(nil)),
		}, body)
		if err != nil || status != http.StatusOK {
			t.Fatalf("post %d: %d %v", i, status, err)
		}
		if isGenuine {
			genuine = append(genuine, id)
		}
	}
	return genuine
}

// deliveredIDs are the webhook ids the target received, in order.
func deliveredIDs(target *recorder) []string {
	var ids []string
	for _, a := range target.snapshot() {
		ids = append(ids, a.webhookID)
	}
	return ids
}

// dlqReasons counts the DLQ's messages by park reason.
func dlqReasons(t *testing.T, tw *twin.Twin, cfg *config.Config) map[webhook.Reason]int {
	t.Helper()
	msgs, err := tw.Store().List(cfg.DLQName())
	must(t, err)
	out := map[webhook.Reason]int{}
	for _, m := range msgs {
		var f webhook.Failure
		must(t, json.Unmarshal([]byte(m.Attributes[webhook.AttrFailure].StringValue), &f))
		out[f.Reason]++
	}
	return out
}

// executions counts the executions the twin ran for cfg's route.
func executions(t *testing.T, tw *twin.Twin) int {
	t.Helper()
	list, err := tw.History().List(context.Background(), statemachine.Filter{Route: "events", Limit: 10_000})
	must(t, err)
	return len(list)
}

// redriveCmd runs cmd/redrive against the twin's control plane.
func redriveCmd(t *testing.T, tw *twin.Twin, cfg *config.Config, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"run", "./cmd/redrive"}, append(args, "--endpoint-url", tw.ControlURL, "--config", cfg.Path)...)...)
	cmd.Dir = testenv.RepoRoot(t)
	cmd.Env = cliEnv(cfg.Region)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run ./cmd/redrive %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// refusedMetric reads the twin's /metrics: the Parked counter of reason
// signature for the route.
func refusedMetric(t *testing.T, tw *twin.Twin) string {
	t.Helper()
	resp, err := http.Get(tw.ControlURL + "/metrics")
	must(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), `webhookq_parked_total{`) && strings.Contains(sc.Text(), `reason="signature"`) && strings.Contains(sc.Text(), `route="events"`) {
			return sc.Text()[strings.LastIndexByte(sc.Text(), ' ')+1:]
		}
	}
	return "0"
}

// The acceptance, black box: a twin with the route's secret set
// takes 500 forged and 20 genuine webhooks interleaved in one group. The 20
// are delivered in order; not one execution starts and not one notification
// goes out for the forgeries; the refused count (metric and page) is 500;
// cmd/redrive lists them by reason and purges them.
func TestForgedFloodIsRefusedBeforeAnyExecution(t *testing.T) {
	t.Parallel()
	target := &recorder{decide: func(string, []byte) int { return http.StatusOK }}
	srv := httptest.NewServer(target)
	defer srv.Close()
	slack := &slackSink{}
	slackSrv := httptest.NewServer(slack)
	defer slackSrv.Close()
	cfg, workflows := writeProject(t, fmt.Sprintf(forgedConfig, srv.URL))
	env := map[string]string{twin.SecretEnvName(config.SecretRef{SSMParameter: "/flood/signing"}): floodSecret, "FLOOD_SLACK_URL": slackSrv.URL}
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})

	genuine := flood(t, tw)
	waitFor(t, 2*time.Minute, "the genuine webhooks delivered and the forgeries parked", func() bool {
		return len(target.snapshot()) >= floodGenuine && dlqReasons(t, tw, cfg)[webhook.ReasonSignature] >= floodForged
	})

	delivered := deliveredIDs(target)
	if !slices.Equal(delivered, genuine) {
		t.Errorf("delivered %v, want the %d genuine webhooks once each, in order: %v", delivered, floodGenuine, genuine)
	}
	if n := executions(t, tw); n != floodGenuine {
		t.Errorf("%d executions, want %d: none for a forgery", n, floodGenuine)
	}
	if reasons := dlqReasons(t, tw, cfg); reasons[webhook.ReasonSignature] != floodForged || len(reasons) != 1 {
		t.Errorf("DLQ by reason %v, want %d signature and nothing else", reasons, floodForged)
	}
	if n := len(tw.Notifications()); n != 0 || slack.mentioning("") != 0 {
		t.Errorf("%d notifications (%d Slack posts), want none for forgeries", n, slack.mentioning(""))
	}
	if got := refusedMetric(t, tw); got != fmt.Sprint(floodForged) {
		t.Errorf("/metrics counts %s parked for their signature, want %d", got, floodForged)
	}
	resp, err := http.Get(tw.ControlURL + "/overview")
	must(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf(`signature refused <strong class="refused">%d</strong> <span class="check">(hmac, header X-Signature)</span>`, floodForged); !strings.Contains(string(page), want) {
		t.Errorf("the overview does not show %q:\n%s", want, page)
	}

	// Listable by reason, then purgeable by reason. One group's messages
	// are all in the DLQ's one group, which SQS FIFO hands out ten at a time
	// while those are in flight: list shows the first ones and says how many
	// it could not reach; purge, which deletes what it receives, takes all.
	out := redriveCmd(t, tw, cfg, "list", "--reason", "signature", "--json")
	listed := 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		listed++
		var m struct{ Reason, WebhookID string }
		must(t, json.Unmarshal([]byte(line), &m))
		if m.Reason != string(webhook.ReasonSignature) || slices.Contains(genuine, m.WebhookID) {
			t.Errorf("list --reason signature: %s", line)
		}
	}
	if listed == 0 || !strings.Contains(out, fmt.Sprintf("about %d message(s) were not reached", floodForged-listed)) {
		t.Errorf("list --reason signature listed %d and did not account for the rest:\n%s", listed, out)
	}
	redriveCmd(t, tw, cfg, "purge", "--reason", "signature", "--yes")
	if reasons := dlqReasons(t, tw, cfg); len(reasons) != 0 {
		t.Errorf("after purge --reason signature the DLQ holds %v", reasons)
	}
}

// The same flood on a route whose secret is wrong in the twin's
// environment: every webhook is refused — the genuine ones too — and nothing
// runs, nothing is delivered, nobody is notified; all wait in the DLQ. With
// the secret fixed (the twin restarted on the same data), cmd/redrive
// replays them: the genuine ones are delivered in order, the forgeries are
// refused again, and still nobody is notified.
func TestWrongSecretLosesNothingAndReplays(t *testing.T) {
	t.Parallel()
	target := &recorder{decide: func(string, []byte) int { return http.StatusOK }}
	srv := httptest.NewServer(target)
	defer srv.Close()
	cfg, workflows := writeProject(t, fmt.Sprintf(forgedConfig, srv.URL))
	data := filepath.Join(t.TempDir(), "twin.db")
	secretVar := twin.SecretEnvName(config.SecretRef{SSMParameter: "/flood/signing"})
	start := func(secret string) *twin.Twin {
		return startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, DataPath: data,
			LookupEnv: func(k string) (string, bool) {
				if k == secretVar {
					return secret, true
				}
				return "", false
			}})
	}

	wrong := start("a secret the sender does not use")
	genuine := flood(t, wrong)
	waitFor(t, 2*time.Minute, "every webhook parked", func() bool {
		return dlqReasons(t, wrong, cfg)[webhook.ReasonSignature] >= floodForged+floodGenuine
	})
	if n, d := executions(t, wrong), len(target.snapshot()); n != 0 || d != 0 {
		t.Fatalf("with the wrong secret: %d executions, %d deliveries; want none", n, d)
	}
	if n := len(wrong.Notifications()); n != 0 {
		t.Errorf("%d notifications, want none", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	must(t, wrong.Shutdown(ctx))

	fixed := start(floodSecret)
	out := redriveCmd(t, fixed, cfg, "redrive", "--reason", "signature")
	if !strings.Contains(out, fmt.Sprint(floodForged+floodGenuine)) {
		t.Errorf("redrive did not report moving %d messages:\n%s", floodForged+floodGenuine, out)
	}
	waitFor(t, 2*time.Minute, "the genuine webhooks delivered and the forgeries parked again", func() bool {
		return len(target.snapshot()) >= floodGenuine && dlqReasons(t, fixed, cfg)[webhook.ReasonSignature] >= floodForged
	})
	delivered := deliveredIDs(target)
	if !slices.Equal(delivered, genuine) {
		t.Errorf("replayed deliveries %v, want the genuine webhooks in order %v", delivered, genuine)
	}
	if reasons := dlqReasons(t, fixed, cfg); reasons[webhook.ReasonSignature] != floodForged || len(reasons) != 1 {
		t.Errorf("after the replay the DLQ holds %v, want the %d forgeries", reasons, floodForged)
	}
	if n := executions(t, fixed); n != floodGenuine {
		t.Errorf("%d executions after the replay, want %d", n, floodGenuine)
	}
	if n := len(fixed.Notifications()); n != 0 {
		t.Errorf("%d notifications, want none", n)
	}
}
