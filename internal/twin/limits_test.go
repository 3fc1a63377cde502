package twin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/webhook"
)

// The largest body a route's workflow carries goes through the whole twin —
// ingress, the queue (within its message size), forward, the workflow on the
// runner with Step Functions' data limit enforced, deliver — byte for byte;
// when its target fails for good it takes the longest path, Notify included,
// and is parked with its failure record and one notification. One byte more
// is answered 413 and queued nowhere.
func TestLargestBodyThroughTheTwin(t *testing.T) {
	t.Parallel()
	const failing = 0xfe // a body starting with this byte is refused by the target
	rec := &recorder{decide: func(_ string, body []byte) int {
		if len(body) > 0 && body[0] == failing {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}}
	target := httptest.NewServer(rec)
	defer target.Close()
	slack := &slackSink{}
	slackSrv := httptest.NewServer(slack)
	defer slackSrv.Close()
	cfg, workflows := writeProject(t, fmt.Sprintf(pipelineConfig, target.URL, 1))
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, TimeScale: 50,
		LookupEnv: func(k string) (string, bool) { return slackSrv.URL, k == "E2E_SLACK_URL" }})
	route, _ := cfg.Route("orders")
	limits, err := asl.Limits(cfg, route)
	if err != nil {
		t.Fatal(err)
	}
	largest := []byte(strings.Repeat("\xff", limits.MaxBody))
	failingLargest := append([]byte{failing}, largest[1:]...)
	url := tw.IngressURL + cfg.IngressPath(route)
	headers := func(group string) map[string]string {
		return map[string]string{"X-Group": group, "X-Event-Type": strings.Repeat("e", 4000)}
	}
	okID, status, err := post(http.DefaultClient, url, headers("g-ok"), largest)
	if err != nil || status != http.StatusOK {
		t.Fatalf("the largest body (%d bytes): %d, %v; want 200", limits.MaxBody, status, err)
	}
	failID, status, err := post(http.DefaultClient, url, headers("g-fail"), failingLargest)
	if err != nil || status != http.StatusOK {
		t.Fatalf("the largest failing body: %d, %v; want 200", status, err)
	}
	if _, status, err := post(http.DefaultClient, url, headers("g-over"), append(largest, 0xff)); err != nil || status != http.StatusRequestEntityTooLarge {
		t.Fatalf("one byte more: %d, %v; want 413", status, err)
	}

	waitFor(t, 90*time.Second, "the largest bodies delivered and parked, the queue empty", func() bool {
		st, err := tw.Store().Stats(cfg.QueueName())
		must(t, err)
		return parkedIDs(t, tw, cfg.DLQName())[failID] && delivered(rec, okID) && st.Visible+st.InFlight+st.Delayed == 0
	})
	for _, a := range rec.snapshot() {
		if a.webhookID == okID && string(a.body) != string(largest) {
			t.Errorf("the target got %d bytes for the largest body, want the %d sent", len(a.body), len(largest))
		}
	}
	if n := slack.mentioning(failID); n != 1 {
		t.Errorf("%d notifications for the failing largest body, want 1", n)
	}
	msgs, err := tw.Store().List(cfg.DLQName())
	must(t, err)
	for _, m := range msgs {
		var f webhook.Failure
		if err := json.Unmarshal([]byte(m.Attributes[webhook.AttrFailure].StringValue), &f); err != nil || f.Error != webhook.ErrRetryable {
			t.Errorf("parked with failure %+v (%v), want the delivery's %s", f, err, webhook.ErrRetryable)
		}
	}
	if got := parkedIDs(t, tw, cfg.DLQName()); len(got) != 1 {
		t.Errorf("parked %v, want only the failing largest body (the 413 one was never queued)", got)
	}
}

func delivered(rec *recorder, id string) bool {
	for _, a := range rec.snapshot() {
		if a.webhookID == id && a.status == http.StatusOK {
			return true
		}
	}
	return false
}
