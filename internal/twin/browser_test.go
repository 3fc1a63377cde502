package twin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Debian's chromium and chromium-driver (scripts/setup installs them).
const (
	chromiumBin     = "/usr/bin/chromium"
	chromedriverBin = "/usr/bin/chromedriver"
)

// webDriver is a minimal W3C WebDriver client for chromedriver.
type webDriver struct {
	t       *testing.T
	base    string
	session string
}

// startBrowser starts chromedriver and a headless Chromium session.
func startBrowser(t *testing.T) *webDriver {
	t.Helper()
	for _, bin := range []string{chromiumBin, chromedriverBin} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%s is missing; run scripts/setup (apt-get install -y chromium chromium-driver)", bin)
		}
	}
	port := testenv.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, chromedriverBin, "--port="+strconv.Itoa(port))
	must(t, cmd.Start())
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	wd := &webDriver{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	waitFor(t, 20*time.Second, "chromedriver", func() bool {
		resp, err := http.Get(wd.base + "/status")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromiumBin,
			"args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir=" + t.TempDir()},
		},
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	wd.call(http.MethodPost, "/session", caps, &created)
	wd.session = created.SessionID
	t.Cleanup(func() { wd.call(http.MethodDelete, "/session/"+wd.session, nil, nil) })
	return wd
}

func (wd *webDriver) call(method, path string, body, out any) {
	wd.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(wd.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, wd.base+path, rd)
	must(wd.t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	must(wd.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		wd.t.Fatalf("webdriver %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	must(wd.t, json.Unmarshal(raw, &env))
	if out != nil {
		must(wd.t, json.Unmarshal(env.Value, out))
	}
}

func (wd *webDriver) open(url string) {
	wd.t.Helper()
	wd.call(http.MethodPost, "/session/"+wd.session+"/url", map[string]string{"url": url}, nil)
}

// find returns the ids of the elements a CSS selector matches.
func (wd *webDriver) find(css string) []string {
	wd.t.Helper()
	var els []map[string]string
	wd.call(http.MethodPost, "/session/"+wd.session+"/elements", map[string]string{"using": "css selector", "value": css}, &els)
	var ids []string
	for _, e := range els {
		for _, id := range e {
			ids = append(ids, id)
		}
	}
	return ids
}

// one returns the first element css matches, waiting a little for a
// navigation a click started to finish.
func (wd *webDriver) one(css string) string {
	wd.t.Helper()
	ids := wd.find(css)
	for deadline := time.Now().Add(5 * time.Second); len(ids) == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		ids = wd.find(css)
	}
	if len(ids) == 0 {
		var src string
		wd.call(http.MethodGet, "/session/"+wd.session+"/source", nil, &src)
		wd.t.Fatalf("no element matches %s on %s:\n%s", css, wd.url(), src)
	}
	return ids[0]
}

func (wd *webDriver) click(css string) {
	wd.t.Helper()
	wd.call(http.MethodPost, "/session/"+wd.session+"/element/"+wd.one(css)+"/click", map[string]any{}, nil)
}

// url is the address of the page the browser shows.
func (wd *webDriver) url() string {
	wd.t.Helper()
	var u string
	wd.call(http.MethodGet, "/session/"+wd.session+"/url", nil, &u)
	return u
}

// clickAndLand clicks css and waits until the browser shows the page the
// click leads to: one whose address contains landing (a form's redirect
// carries its flash=…). A click returns once the browser has dispatched it,
// while a form's submission may still be on its way; opening another page
// then cancels it, and the twin never hears the POST (TestQueuesPage's
// Resume was lost that way once under load).
func (wd *webDriver) clickAndLand(css, landing string) {
	wd.t.Helper()
	wd.click(css)
	waitFor(wd.t, time.Minute, "the page after clicking "+css+" (an address with "+landing+")", func() bool {
		return strings.Contains(wd.url(), landing)
	})
}

// rect is where the first element css matches is drawn, in CSS pixels.
func (wd *webDriver) rect(css string) (width, height float64) {
	wd.t.Helper()
	var r struct{ Width, Height float64 }
	wd.call(http.MethodGet, "/session/"+wd.session+"/element/"+wd.one(css)+"/rect", nil, &r)
	return r.Width, r.Height
}

// attribute is an attribute of the first element css matches.
func (wd *webDriver) attribute(css, name string) string {
	wd.t.Helper()
	var v *string
	wd.call(http.MethodGet, "/session/"+wd.session+"/element/"+wd.one(css)+"/attribute/"+name, nil, &v)
	if v == nil {
		return ""
	}
	return *v
}

// screenshot is a PNG of the page as the browser draws it.
func (wd *webDriver) screenshot() []byte {
	wd.t.Helper()
	var b64 string
	wd.call(http.MethodGet, "/session/"+wd.session+"/screenshot", nil, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	must(wd.t, err)
	return png
}

func (wd *webDriver) text(css string) string {
	wd.t.Helper()
	var s string
	wd.call(http.MethodGet, "/session/"+wd.session+"/element/"+wd.one(css)+"/text", nil, &s)
	return s
}

// TestWebPage drives the twin's page in headless Chromium: a delivered and a
// failed execution in the list, a failed one's state-by-state history, the
// parked message in the DLQ, and the redrive button moving it back, after
// which it is delivered with its original webhook id.
func TestWebPage(t *testing.T) {
	cfg, workflows := writeProject(t, withRetriesFor(t, fmt.Sprintf(pipelineConfig, "https://app.example.com", 1), 50, 15*time.Second))
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, DemoTarget: true, TimeScale: 50})
	client := &http.Client{Timeout: 10 * time.Second}

	okID, status, err := post(client, tw.IngressURL+"/hooks/orders", map[string]string{"X-Group": "g-ok", "X-Event-Type": "created"}, []byte(`{"ok":true}`))
	if err != nil || status != http.StatusOK {
		t.Fatalf("post: %d %v", status, err)
	}
	waitFor(t, 20*time.Second, "the first webhook delivered", func() bool { return tw.Demo().Snapshot().Received == 1 })

	badID := parkOneFailure(t, tw, cfg)

	wd := startBrowser(t)
	wd.open(tw.ControlURL + "/")
	if n := len(wd.find(`tr.execution[data-status="SUCCEEDED"]`)); n != 1 {
		t.Errorf("%d succeeded executions listed, want 1", n)
	}
	// Inside its retry window the failing webhook came back; its final
	// execution notified and parked it.
	if n := len(wd.find(`tr.execution[data-status="FAILED"]`)); n < 2 {
		t.Errorf("%d failed executions listed, want one per receive (at least 2)", n)
	}
	wd.open(tw.ControlURL + "/?group=g-ok")
	if n := len(wd.find(`tr.execution`)); n != 1 {
		t.Errorf("filter by group g-ok lists %d executions, want 1", n)
	}
	wd.open(tw.ControlURL + "/?status=FAILED&route=orders")
	// Newest first: the last receive's execution, which notified.
	wd.click(`tr.execution[data-status="FAILED"] a`)
	if got := wd.text("#status"); got != "FAILED" {
		t.Errorf("execution page status %q", got)
	}
	for _, state := range []string{"Deliver", "ShouldNotify", "Notify", "Rethrow"} {
		if len(wd.find(`#history tr.event[data-state="`+state+`"]`)) == 0 {
			t.Errorf("history has no event of state %s", state)
		}
	}
	if n := len(wd.find(`#history tr.event[data-type="TaskFailed"]`)); n != cfg.Retry.MaxAttempts {
		t.Errorf("history shows %d failed Deliver attempts, want %d", n, cfg.Retry.MaxAttempts)
	}

	wd.clickAndLand("#nav-queues", "/queues")
	if len(wd.find(`#dlq tr.message[data-webhook-id="`+badID+`"]`)) != 1 {
		t.Fatalf("the DLQ table does not show webhook %s", badID)
	}
	wd.clickAndLand("#redrive-all", "flash=Redrove")
	if got := wd.text("#flash"); !strings.Contains(got, "Redrove 1 message") {
		t.Errorf("flash after redrive: %q", got)
	}
	if n := len(wd.find(`#dlq tr.message`)); n != 0 {
		t.Errorf("the DLQ table still lists %d messages after redrive", n)
	}
	waitFor(t, 20*time.Second, "the redriven webhook delivered", func() bool {
		for _, d := range tw.Demo().Snapshot().Recent {
			if d.WebhookID == badID && d.Status == http.StatusOK {
				return true
			}
		}
		return false
	})
	if len(parkedIDs(t, tw, cfg.DLQName())) != 0 {
		t.Error("the DLQ is not empty after redrive")
	}
	for _, d := range tw.Demo().Snapshot().Recent {
		if d.WebhookID != okID && d.WebhookID != badID {
			t.Errorf("delivery with unexpected webhook id %q (header %s)", d.WebhookID, webhook.HeaderWebhookID)
		}
	}
}

// TestQueuesPage drives the queues page in headless Chromium: the mapping's
// state with its Pause and Resume buttons (a webhook posted while paused
// waits in the queue, and is delivered after Resume), and a parked webhook's
// DLQ row: its real receive count, the reason, the webhook id, the target's
// answer (not the Lambda error payload around it) and a redrive command that
// works when pasted into a shell.
func TestQueuesPage(t *testing.T) {
	cfg, workflows := writeProject(t, withRetriesFor(t, fmt.Sprintf(pipelineConfig, "https://app.example.com", 1), 50, 15*time.Second))
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, DemoTarget: true, TimeScale: 50})
	client := &http.Client{Timeout: 10 * time.Second}
	badID := parkOneFailure(t, tw, cfg)

	wd := startBrowser(t)
	wd.open(tw.ControlURL + "/queues")
	if got := wd.text("#mapping-state"); got != "Enabled" {
		t.Fatalf("mapping state %q, want Enabled", got)
	}
	row := `#dlq tr.message[data-webhook-id="` + badID + `"]`
	for css, want := range map[string]string{
		row + " td.webhook-id": badID,
		row + " td.reason":     string(webhook.ReasonExhausted),
		row + " td.redrives":   "0",
	} {
		if got := wd.text(css); got != want {
			t.Errorf("%s: %q, want %q", css, got, want)
		}
	}
	// Inside its retry window it came back; its final execution parked it.
	if got, err := strconv.Atoi(wd.text(row + " td.receives")); err != nil || got < 2 {
		t.Errorf("the DLQ row's receives read %q; want the receive count of its final execution (at least 2)", wd.text(row+" td.receives"))
	}
	if got := wd.text(row + " td.error"); !strings.Contains(got, webhook.ErrRetryable) || !strings.Contains(got, "target answered 500") || strings.Contains(got, "errorMessage") {
		t.Errorf("the DLQ row's error reads %q; want the error name and the target's answer", got)
	}

	// The notification says what the target answered, that the webhook is
	// headed for the DLQ, and the same command.
	wd.open(tw.ControlURL + "/notifications")
	note := `#notifications tr.notification[data-webhook-id="` + badID + `"]`
	if got := wd.text(note); !strings.Contains(got, "target answered 500") || !strings.Contains(got, "headed for the dead-letter queue") ||
		!strings.Contains(got, "go run ./cmd/redrive redrive --endpoint-url "+tw.ControlURL) || !strings.Contains(got, "--webhook-id "+badID) {
		t.Errorf("the notification reads %q", got)
	}
	wd.open(tw.ControlURL + "/queues")

	wd.clickAndLand("#pause", "flash=Paused")
	if got := wd.text("#flash"); !strings.Contains(got, "Paused the event source mapping") {
		t.Errorf("flash after Pause: %q", got)
	}
	waitFor(t, 10*time.Second, "the mapping Disabled on the page", func() bool {
		wd.open(tw.ControlURL + "/queues")
		return wd.text("#mapping-state") == "Disabled"
	})
	if got := wd.text("#nav-mapping"); !strings.Contains(got, "nothing is delivered") {
		t.Errorf("the header does not say the mapping is paused: %q", got)
	}
	waitingID, status, err := post(client, tw.IngressURL+"/hooks/orders", map[string]string{"X-Group": "g-wait", "X-Event-Type": "created"}, []byte(`{"wait":true}`))
	if err != nil || status != http.StatusOK {
		t.Fatalf("post: %d %v", status, err)
	}
	wd.open(tw.ControlURL + "/queues")
	if n := len(wd.find(`#queue tr.message[data-webhook-id="` + waitingID + `"]`)); n != 1 {
		t.Errorf("the webhook posted while paused is not waiting in the queue table (%d rows)", n)
	}

	// The row's command, pasted into a shell in the repository, with no
	// AWS credentials configured, redrives the parked webhook.
	command := wd.text(row + " code.command")
	if !strings.HasPrefix(command, "go run ./cmd/redrive redrive --endpoint-url "+tw.ControlURL) || !strings.Contains(command, "--webhook-id "+badID) {
		t.Fatalf("the row's command is %q", command)
	}
	sh := exec.Command("sh", "-c", command)
	sh.Dir = testenv.RepoRoot(t)
	sh.Env = append(os.Environ(), "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_REGION=", "AWS_DEFAULT_REGION=", "AWS_EC2_METADATA_DISABLED=true")
	if out, err := sh.CombinedOutput(); err != nil || !strings.Contains(string(out), "moved 1 message(s)") {
		t.Fatalf("%s: %v\n%s", command, err, out)
	}

	// Resuming takes effect at once: the page the form lands on says so.
	wd.clickAndLand("#resume", "flash=Resumed")
	if got := wd.text("#mapping-state"); got != "Enabled" {
		t.Errorf("mapping state %q after Resume, want Enabled", got)
	}
	if len(wd.find("#nav-mapping")) != 0 {
		t.Error("the header still says the mapping is paused")
	}
	waitFor(t, 20*time.Second, "both webhooks delivered after Resume", func() bool {
		delivered := map[string]bool{}
		for _, d := range tw.Demo().Snapshot().Recent {
			if d.Status == http.StatusOK {
				delivered[d.WebhookID] = true
			}
		}
		return delivered[badID] && delivered[waitingID]
	})
}

// parkOneFailure has the demo target fail a webhook of group g-bad until it is
// parked in the DLQ, then recover; it returns the parked webhook's id.
func parkOneFailure(t *testing.T, tw *twin.Twin, cfg *config.Config) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	demo := tw.ControlURL + twin.DemoTargetPath
	resp, err := client.Post(demo+"/fail", "", nil)
	must(t, err)
	resp.Body.Close()
	badID, status, err := post(client, tw.IngressURL+"/hooks/orders", map[string]string{"X-Group": "g-bad", "X-Event-Type": "created"}, []byte(`{"ok":false}`))
	if err != nil || status != http.StatusOK {
		t.Fatalf("post: %d %v", status, err)
	}
	waitFor(t, 60*time.Second, "the failing webhook parked in the DLQ", func() bool { return len(parkedIDs(t, tw, cfg.DLQName())) == 1 })
	resp, err = client.Post(demo+"/recover", "", nil)
	must(t, err)
	resp.Body.Close()
	return badID
}
