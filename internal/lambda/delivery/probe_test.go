package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/webhookq/webhookq/internal/lambda/probe"
	"github.com/webhookq/webhookq/internal/webhook"
)

const probeKey = "arn:aws:kms:us-east-1:123456789012:key/probe"

// probeTarget is a TLS target counting the requests it receives.
func probeTarget(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	t.Cleanup(srv.Close)
	return srv, &n
}

func probeBody(t *testing.T, key probe.MacMaker, route string, at time.Time) string {
	t.Helper()
	p, err := probe.New(context.Background(), key, probeKey, route, "p-1", at)
	if err != nil {
		t.Fatal(err)
	}
	b, err := probe.Body(p, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestProbeIsAnsweredNotDelivered: an authentic probe is answered with the
// target's reachability and one log line carrying the answer; the target
// receives no request. Bodies that pose as probes without a valid MAC are
// permanent failures, never delivered; a body that merely mentions the
// field is an ordinary webhook.
func TestProbeIsAnsweredNotDelivered(t *testing.T) {
	t.Parallel()
	key, err := probe.NewLocalKey(probeKey)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := probe.NewLocalKey(probeKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tc := range []struct {
		name      string
		body      string
		verdict   probe.Verdict
		delivered bool
	}{
		{"authentic", probeBody(t, key, "orders", now), probe.Answered, false},
		{"for another route", probeBody(t, key, "refunds", now), probe.Expired, false},
		{"expired", probeBody(t, key, "orders", now.Add(-probe.Validity-time.Minute)), probe.Expired, false},
		{"forged", probeBody(t, otherKey, "orders", now), probe.Forged, false},
		{"malformed", `{"webhookq_probe":{"v":1,"route":"orders","target":"https://elsewhere"}}`, probe.Forged, false},
		{"an ordinary webhook mentioning the field", `{"note":"webhookq_probe"}`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := probeTarget(t)
			var logs bytes.Buffer
			d := newDeliverer(t, testConfig(srv.URL, allOutcomes), srv.Client().Transport, func(c *Config) {
				c.Probes = Probes{Key: probeKey, MACs: key}
				c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			})
			res, err := d.Handle(context.Background(), request(tc.body, 0))
			if got := hits.Load() == 1; got != tc.delivered {
				t.Fatalf("target received %d requests; delivered = %v, want %v", hits.Load(), got, tc.delivered)
			}
			if tc.delivered {
				if err != nil || res.Probe != "" {
					t.Errorf("result %+v, %v; want an ordinary delivery", res, err)
				}
				return
			}
			ans := loggedAnswer(t, logs.String())
			if ans.Verdict != tc.verdict || ans.Route != "orders" {
				t.Errorf("logged answer %+v; want verdict %s on route orders", ans, tc.verdict)
			}
			switch tc.verdict {
			case probe.Answered:
				if err != nil || res.Probe != string(probe.Answered) || ans.Reach == nil || !ans.Reach.OK || ans.ID != "p-1" {
					t.Errorf("result %+v, %v, answer %+v; want answered with the target reachable", res, err, ans)
				}
			case probe.Expired:
				if err != nil || res.Probe != string(probe.Expired) || ans.Reach != nil || ans.Reason == "" {
					t.Errorf("result %+v, %v, answer %+v; want answered as expired, with why, without a reachability check", res, err, ans)
				}
			default:
				var lambdaErr messages.InvokeResponse_Error
				if !errors.As(err, &lambdaErr) || lambdaErr.Type != webhook.ErrPermanent || !strings.Contains(lambdaErr.Message, "posing as a webhookq probe") {
					t.Errorf("error %v; want a permanent failure naming the refused probe", err)
				}
			}
		})
	}
}

// TestProbeOfAnUnreachableTarget: the answer says where reaching the target
// stopped; the probe still succeeds (no retry, no notification, no DLQ).
func TestProbeOfAnUnreachableTarget(t *testing.T) {
	t.Parallel()
	key, err := probe.NewLocalKey(probeKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	var logs bytes.Buffer
	d := newDeliverer(t, testConfig(url, allOutcomes), nil, func(c *Config) {
		c.Probes = Probes{Key: probeKey, MACs: key}
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	res, err := d.Handle(context.Background(), request(probeBody(t, key, "orders", time.Now()), 0))
	ans := loggedAnswer(t, logs.String())
	if err != nil || res.Probe != string(probe.Answered) || ans.Reach == nil || ans.Reach.OK {
		t.Fatalf("result %+v, %v, answer %+v; want answered, the target unreachable", res, err, ans)
	}
	if last := ans.Reach.Steps[len(ans.Reach.Steps)-1]; last.Name != probe.StepTCP || last.Error == "" {
		t.Errorf("reach %+v; want it stopped at tcp with the error", ans.Reach)
	}
}

// TestProbeWithoutAKeyIsRefused: a deliver without the probe key cannot
// tell a probe from a forgery, so it refuses it, permanently.
func TestProbeWithoutAKeyIsRefused(t *testing.T) {
	t.Parallel()
	key, err := probe.NewLocalKey(probeKey)
	if err != nil {
		t.Fatal(err)
	}
	srv, hits := probeTarget(t)
	d := newDeliverer(t, testConfig(srv.URL, allOutcomes), srv.Client().Transport)
	_, err = d.Deliver(context.Background(), request(probeBody(t, key, "orders", time.Now()), 0))
	var f *Failure
	if !errors.As(err, &f) || f.Retryable || !strings.Contains(f.Message, "unverifiable") || hits.Load() != 0 {
		t.Errorf("error %v, %d requests; want a permanent unverifiable refusal, nothing sent", err, hits.Load())
	}
}

// loggedAnswer is the probe answer in deliver's JSON log.
func loggedAnswer(t *testing.T, logs string) probe.Answer {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var entry map[string]json.RawMessage
		if json.Unmarshal([]byte(line), &entry) != nil || entry[probe.LogKey] == nil {
			continue
		}
		var a probe.Answer
		if err := json.Unmarshal(entry[probe.LogKey], &a); err != nil {
			t.Fatalf("log line %s: %v", line, err)
		}
		return a
	}
	t.Fatalf("no %s in the log:\n%s", probe.LogKey, logs)
	return probe.Answer{}
}
