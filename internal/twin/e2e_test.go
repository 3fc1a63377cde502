package twin_test

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/webhook"
)

// outcome is where the pipeline left the webhooks: the attempts the target
// saw, the webhook ids parked in the DLQ, and the notifications per id.
type outcome struct {
	attempts []attempt
	parked   map[string]bool
	notified func(id string) int
}

// checkInvariants checks invariants 1–4 and 6 (docs/architecture.md) for every
// acknowledged webhook. dupOK allows more than one successful delivery of a
// webhook (at-least-once after a crash) — always with the same id and body.
func checkInvariants(t *testing.T, sentList []sent, o outcome, dupOK bool) {
	t.Helper()
	byID := map[string]sent{}
	for _, s := range sentList {
		byID[s.webhookID] = s
	}
	okCount := map[string]int{}
	firstOK := map[string]int{} // attempt index of the first success
	for i, a := range o.attempts {
		s, known := byID[a.webhookID]
		if !known {
			t.Errorf("attempt %d carries webhook id %q that ingress never acknowledged", i, a.webhookID)
			continue
		}
		// Invariants 3 and 4: the id assigned at ingress, the exact bytes and
		// the carried headers, on every attempt.
		if !bytes.Equal(a.body, s.body) {
			t.Errorf("webhook %s attempt %d: body %q, sent %q", s.webhookID, i, a.body, s.body)
		}
		if a.eventType != s.eventType {
			t.Errorf("webhook %s attempt %d: X-Event-Type %q, sent %q", s.webhookID, i, a.eventType, s.eventType)
		}
		if a.forwarded != "webhookq-e2e" {
			t.Errorf("webhook %s attempt %d: static header X-Forwarded-By %q", s.webhookID, i, a.forwarded)
		}
		if a.path != "/"+s.route {
			t.Errorf("webhook %s attempt %d: delivered to %s, want /%s", s.webhookID, i, a.path, s.route)
		}
		if a.status == http.StatusOK {
			if okCount[a.webhookID] == 0 {
				firstOK[a.webhookID] = i
			}
			okCount[a.webhookID]++
		}
	}
	for _, s := range sentList {
		n, parked, notes := okCount[s.webhookID], o.parked[s.webhookID], o.notified(s.webhookID)
		switch {
		case n > 0 && parked:
			t.Errorf("webhook %s (%s/%s #%d) was delivered and is also in the DLQ", s.webhookID, s.route, s.group, s.seq)
		case n == 0 && !parked:
			// Invariant 1.
			t.Errorf("webhook %s (%s/%s #%d) was lost: neither delivered nor in the DLQ", s.webhookID, s.route, s.group, s.seq)
		case n > 1 && !dupOK:
			t.Errorf("webhook %s delivered %d times", s.webhookID, n)
		}
		// Invariant 6: notify once, when headed for the DLQ.
		if parked && notes != 1 {
			t.Errorf("webhook %s is in the DLQ with %d notifications, want 1", s.webhookID, notes)
		}
		if !parked && notes != 0 {
			t.Errorf("webhook %s was delivered but notified %d times", s.webhookID, notes)
		}
		if s.poison && !parked {
			t.Errorf("poison webhook %s (target always fails it) is not in the DLQ", s.webhookID)
		}
	}
	// Invariant 2: within a group, first successful deliveries follow ingress order.
	last := map[string]sent{}
	order := make([]sent, 0, len(firstOK))
	for _, s := range sentList {
		if _, ok := firstOK[s.webhookID]; ok {
			order = append(order, s)
		}
	}
	sortBy(order, func(s sent) int { return firstOK[s.webhookID] })
	for _, s := range order {
		key := s.route + "/" + s.group
		if prev, ok := last[key]; ok && prev.seq > s.seq {
			t.Errorf("group %s: #%d (%s) delivered before #%d (%s)", key, s.seq, s.webhookID, prev.seq, prev.webhookID)
		}
		last[key] = s
	}
}

func sortBy[T any](xs []T, key func(T) int) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && key(xs[j]) < key(xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// flaky fails each webhook's first few attempts (0 to maxFail, fixed by its
// id) and every attempt of a poison webhook.
func flaky(maxFail int) func(id string, body []byte) int {
	var mu sync.Mutex
	seen := map[string]int{}
	return func(id string, body []byte) int {
		if bytes.Contains(body, []byte(`"poison":true`)) {
			return http.StatusInternalServerError
		}
		h := fnv.New32a()
		h.Write([]byte(id))
		mu.Lock()
		defer mu.Unlock()
		seen[id]++
		if seen[id] <= int(h.Sum32()%uint32(maxFail+1)) {
			if seen[id]%2 == 0 {
				return http.StatusServiceUnavailable
			}
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
}

// sendMix sends n webhooks over both routes and several groups, in one
// sequence (so ingress order is known), with a non-UTF-8 body and poison
// webhooks among them.
func sendMix(t *testing.T, base string, n int, poisonEvery int) []sent {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	seq := map[string]int{}
	var out []sent
	for i := range n {
		poison := poisonEvery > 0 && i%poisonEvery == poisonEvery-1
		s := sent{eventType: fmt.Sprintf("evt.%d", i), poison: poison}
		headers := map[string]string{"X-Event-Type": s.eventType}
		if i%3 == 2 {
			s.route = "accounts"
			s.group = fmt.Sprintf("acct-%d", i%2)
			s.body = fmt.Appendf(nil, `{"account":{"id":%q},"n":%d,"poison":%t}`, s.group, i, poison)
		} else {
			s.route = "orders"
			s.group = fmt.Sprintf("order-%d", i%4)
			headers["X-Group"] = s.group
			s.body = fmt.Appendf(nil, `{"n":%d,"poison":%t}`, i, poison)
			if i%7 == 3 {
				// Not UTF-8, with a NUL: travels base64 through SQS.
				s.body = append([]byte{0xff, 0xfe, 0x00, 0xc3, 0x28}, fmt.Appendf(nil, "n=%d", i)...)
			}
		}
		s.seq = seq[s.route+"/"+s.group]
		seq[s.route+"/"+s.group]++
		id, status, err := post(client, base+"/hooks/"+s.route, headers, s.body)
		if err != nil || status != http.StatusOK || id == "" {
			t.Fatalf("webhook %d: status %d, id %q, error %v", i, status, id, err)
		}
		s.webhookID = id
		out = append(out, s)
	}
	return out
}

// parkedIDs lists the webhook ids in the twin's DLQ.
func parkedIDs(t *testing.T, tw *twin.Twin, dlq string) map[string]bool {
	t.Helper()
	msgs, err := tw.Store().List(dlq)
	must(t, err)
	out := map[string]bool{}
	for _, m := range msgs {
		out[m.Attributes[webhook.AttrWebhookID].StringValue] = true
	}
	return out
}

// settled reports whether every sent webhook was delivered or parked and the
// queue is empty.
func settled(t *testing.T, tw *twin.Twin, queue, dlq string, rec *recorder, sentList []sent) bool {
	st, err := tw.Store().Stats(queue)
	must(t, err)
	if st.Visible+st.InFlight+st.Delayed > 0 {
		return false
	}
	parked := parkedIDs(t, tw, dlq)
	ok := map[string]bool{}
	for _, a := range rec.snapshot() {
		if a.status == http.StatusOK {
			ok[a.webhookID] = true
		}
	}
	for _, s := range sentList {
		if !ok[s.webhookID] && !parked[s.webhookID] {
			return false
		}
	}
	return true
}

// TestEndToEnd sends webhooks across several groups of both routes through
// ingress → queue → event source mapping → forward → workflow → deliver → a
// flaky target, and checks invariants 1–4 and 6 for every one.
//
// Both batch sizes run with webhooks whose retries run out and with poison
// webhooks. In a FIFO batch the records behind a failed one are handed back
// untried and SQS counts that receive too; because the forwarder parks a
// message that failed for good itself (and its group then goes on in the same
// batch), the followers still get an execution of their own before they are
// parked — each parked webhook has exactly one notification either way.
func TestEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name        string
		batch       int
		maxFail     int
		poisonEvery int
	}{
		{name: "batch of 1, exhausted retries and poison", batch: 1, maxFail: 3, poisonEvery: 13},
		{name: "batches of 10, exhausted retries and poison", batch: 10, maxFail: 3, poisonEvery: 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{decide: flaky(tc.maxFail)}
			target := httptest.NewServer(rec)
			defer target.Close()
			slack := &slackSink{}
			slackSrv := httptest.NewServer(slack)
			defer slackSrv.Close()

			cfg, workflows := writeProject(t, withRetriesFor(t, fmt.Sprintf(pipelineConfig, target.URL, tc.batch), 50, 15*time.Second))
			tw := startTwin(t, twin.Options{
				Config:       cfg,
				WorkflowsDir: workflows,
				TimeScale:    50,
				LookupEnv: func(k string) (string, bool) {
					if k == "E2E_SLACK_URL" {
						return slackSrv.URL, true
					}
					return "", false
				},
			})
			if len(tw.Warnings) != 0 {
				t.Errorf("warnings with every secret set: %q", tw.Warnings)
			}

			sentList := sendMix(t, tw.IngressURL, 60, tc.poisonEvery)
			waitFor(t, 90*time.Second, "every webhook delivered or parked", func() bool {
				return settled(t, tw, cfg.QueueName(), cfg.DLQName(), rec, sentList)
			})
			parked := parkedIDs(t, tw, cfg.DLQName())
			if tc.poisonEvery > 0 && len(parked) == 0 {
				t.Fatal("no webhook reached the DLQ; the poison webhooks should have")
			}
			checkInvariants(t, sentList, outcome{attempts: rec.snapshot(), parked: parked, notified: slack.mentioning}, false)
			// The twin's own record of notifications agrees with the channel.
			if got := len(tw.Notifications()); got != len(parked) {
				t.Errorf("twin recorded %d notifications, %d webhooks parked", got, len(parked))
			}
			failed := 0
			for _, a := range rec.snapshot() {
				if a.status != http.StatusOK {
					failed++
				}
			}
			if failed == 0 {
				t.Error("the target never failed: the retry paths were not exercised")
			}
			t.Logf("%d webhooks, %d attempts (%d failed), %d parked", len(sentList), len(rec.snapshot()), failed, len(parked))
		})
	}
}
