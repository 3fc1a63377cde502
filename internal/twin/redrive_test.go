package twin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/webhook"
)

// buildRedrive builds cmd/redrive as docs/operations.md tells a user to for
// scripting, so its exit status is the tool's own.
func buildRedrive(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "redrive")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/redrive")
	cmd.Dir = testenv.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/redrive: %v\n%s", err, out)
	}
	return bin
}

// parkedCopy is the one DLQ message of a webhook, as the twin holds it.
func parkedCopy(t *testing.T, tw *twin.Twin, dlq, id string) (redrives int, ok bool) {
	t.Helper()
	msgs, err := tw.Store().List(dlq)
	must(t, err)
	n := 0
	for _, m := range msgs {
		if m.Attributes[webhook.AttrWebhookID].StringValue == id {
			n++
			redrives, _ = strconv.Atoi(m.Attributes[webhook.AttrRedriveCount].StringValue)
		}
	}
	if n > 1 {
		t.Fatalf("webhook %s is in the DLQ %d times", id, n)
	}
	return redrives, n == 1 && !msgs[0].InFlight
}

// Issue 15's blocker, black box: a webhook the target refuses for good sits
// in the DLQ. Redriving it with 'redrive --all', 'redrive --webhook-id' and
// the page's Redrive all each move it exactly once: the target sees one more
// attempt, one more notification is sent, it is parked again with its redrive
// count one higher, and the run ends on its own. The next redrive is refused
// by --max-redrives with a clear message, and by the page's button alike.
func TestRedrivingAPermanentFailureMovesItOnce(t *testing.T) {
	t.Parallel()
	bin := buildRedrive(t)
	rec := &recorder{decide: func(string, []byte) int { return http.StatusBadRequest }}
	target := httptest.NewServer(rec)
	defer target.Close()
	tw, cfg, slack := startPipeline(t, target.URL)

	id, status, err := post(http.DefaultClient, tw.IngressURL+"/hooks/orders", map[string]string{"X-Group": "g-refused", "X-Event-Type": "created"}, []byte(`{"n":1}`))
	if err != nil || status != http.StatusOK {
		t.Fatalf("post: %d %v", status, err)
	}
	parkedWith := func(redrives int) {
		t.Helper()
		waitFor(t, 30*time.Second, fmt.Sprintf("webhook parked with redrive count %d", redrives), func() bool {
			n, ok := parkedCopy(t, tw, cfg.DLQName(), id)
			return ok && n == redrives
		})
		// Parked once more means tried once more and notified once more, and
		// nothing else: the run that moved it has ended.
		if got := len(rec.snapshot()); got != redrives+1 {
			t.Fatalf("the target saw %d attempts after %d redrives, want %d", got, redrives, redrives+1)
		}
		if got := slack.mentioning(id); got != redrives+1 {
			t.Fatalf("%d notifications after %d redrives, want %d", got, redrives, redrives+1)
		}
	}
	parkedWith(0)

	redrive := func(args ...string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // a runaway run would be killed here
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"redrive", "--endpoint-url", tw.ControlURL, "--config", cfg.Path}, args...)...)
		cmd.Env = cliEnv(cfg.Region)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, string(out)
		case errors.As(err, &ee) && ctx.Err() == nil:
			return ee.ExitCode(), string(out)
		}
		t.Fatalf("redrive %q: %v\n%s", args, err, out)
		return 0, ""
	}
	if code, out := redrive("--all"); code != 0 || !strings.Contains(out, "moved 1 message(s)") {
		t.Fatalf("redrive --all: exit %d\n%s", code, out)
	}
	parkedWith(1)
	if code, out := redrive("--webhook-id", id); code != 0 || !strings.Contains(out, "moved 1 message(s)") {
		t.Fatalf("redrive --webhook-id: exit %d\n%s", code, out)
	}
	parkedWith(2)

	// The page's Redrive all: the form posts nothing but the button; the
	// flash it redirects to says what moved and what stayed.
	pageRedriveAll := func() string {
		t.Helper()
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).PostForm(tw.ControlURL+"/redrive", url.Values{})
		must(t, err)
		resp.Body.Close()
		flash, _ := url.QueryUnescape(resp.Header.Get("Location"))
		return flash
	}
	if flash := pageRedriveAll(); !strings.Contains(flash, "Redrove 1 message") {
		t.Fatalf("the page's Redrive all answered %s", flash)
	}
	parkedWith(3)

	code, out := redrive("--all")
	if code != 4 || !strings.Contains(out, "webhook="+id) || !strings.Contains(out, "max_redrives: redriven the maximum number of times already (--max-redrives)") {
		t.Fatalf("redrive after 3 redrives: exit %d, want 4 (refused)\n%s", code, out)
	}
	// The page keeps to the same limit.
	if flash := pageRedriveAll(); !strings.Contains(flash, "Redrove 0 message(s)") || !strings.Contains(flash, "1 stayed (max_redrives)") {
		t.Fatalf("the page's Redrive all after 3 redrives answered %q; want it refused (max_redrives)", flash)
	}
	parkedWith(3)
}
