package twin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
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
	tw, cfg, slack := startPipeline(t, target.URL)
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

// The twin's queues are made as terraform/queue.tf makes them: high
// throughput by default (deduplication per message group), the old
// per-queue mode when routes.yaml opts out, and the module's message sizes.
// The same delivery id in two groups is then two webhooks, or one.
func TestQueuesFollowHighThroughput(t *testing.T) {
	t.Parallel()
	const routes = `service: ht
region: eu-west-1
target:
  base_url: %s
queue:
  retry_window: 1m
  redelivery_delay: 1s
  max_redelivery_delay: 2s%s
routes:
  - name: events
    path: /events
    group: header:X-Group
    dedup: header:X-Delivery-Id
    headers: [X-Delivery-Id]
    verify: {scheme: none, reason: the test sender signs nothing}
`
	for _, tc := range []struct {
		name      string
		optOut    string
		scope     string
		limit     string
		delivered int
	}{
		{"default", "", "messageGroup", "perMessageGroupId", 2},
		{"opted out", "\n  high_throughput: false", "queue", "perQueue", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{decide: func(string, []byte) int { return http.StatusOK }}
			target := httptest.NewServer(rec)
			defer target.Close()
			cfg, workflows := writeProject(t, fmt.Sprintf(routes, target.URL, tc.optOut))
			tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows})
			for name, size := range map[string]int{cfg.QueueName(): config.QueueMaxMessageBytes, cfg.DLQName(): config.DLQMaxMessageBytes} {
				attrs, err := tw.Store().QueueAttributes(name)
				must(t, err)
				if attrs["DeduplicationScope"] != tc.scope || attrs["FifoThroughputLimit"] != tc.limit || attrs["MaximumMessageSize"] != fmt.Sprint(size) {
					t.Errorf("%s: %v, want DeduplicationScope %s, FifoThroughputLimit %s, MaximumMessageSize %d", name, attrs, tc.scope, tc.limit, size)
				}
			}
			for _, group := range []string{"g1", "g2"} {
				if _, status, err := post(http.DefaultClient, tw.IngressURL+"/events", map[string]string{"X-Group": group, "X-Delivery-Id": "same-delivery"}, []byte(`{"n":1}`)); err != nil || status != http.StatusOK {
					t.Fatalf("post to %s: %d, %v", group, status, err)
				}
			}
			waitFor(t, 30*time.Second, "the queue drained", func() bool {
				st, err := tw.Store().Stats(cfg.QueueName())
				must(t, err)
				return st.Visible+st.InFlight+st.Delayed == 0 && len(rec.snapshot()) >= tc.delivered
			})
			if got := len(rec.snapshot()); got != tc.delivered {
				t.Errorf("%d deliveries of one delivery id sent to two groups, want %d", got, tc.delivered)
			}
		})
	}
}
