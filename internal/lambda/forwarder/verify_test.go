package forwarder_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/lambda/secret"
	"github.com/webhookq/webhookq/internal/testkit/emfcheck"
	"github.com/webhookq/webhookq/internal/webhook"
)

// received is when ingress accepted the test records: record()'s
// SentTimestamp, which stands in for a missing received-at attribute.
var received = time.UnixMilli(1795856400000)

// The routes of verifyConfig, one per signature scheme, each with the secret
// in the environment variable of the same name.
const (
	githubRoute = "github-events"
	stripeRoute = "stripe-events"
	slackRoute  = "slack-commands"
	hmacRoute   = "saas-events"
)

// verifyConfig is testConfig plus a route per signature scheme.
func verifyConfig() *config.Config {
	cfg := testConfig()
	base := cfg.Routes[0]
	add := func(name string, v config.Verify) {
		r := base
		r.Name = name
		v.Secret = config.SecretRef{Env: strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
		if v.Tolerance == 0 {
			v.Tolerance = config.DefaultVerifyTolerance
		}
		r.Verify = &v
		r.Headers = append([]string{"X-Event-Type"}, v.Headers()...)
		cfg.Routes = append(cfg.Routes, r)
	}
	add(githubRoute, config.Verify{Scheme: config.VerifyGitHub})
	add(stripeRoute, config.Verify{Scheme: config.VerifyStripe})
	add(slackRoute, config.Verify{Scheme: config.VerifySlack})
	add(hmacRoute, config.Verify{Scheme: config.VerifyHMAC, Header: "X-Saas-Signature"})
	return cfg
}

// The providers' side of each scheme, written from their documentation (the
// signature package checks these against published vectors).
func hexMAC(secret, msg string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(msg))
	return hex.EncodeToString(h.Sum(nil))
}

// sign returns the headers a sender with secret puts on body for route's
// scheme, signed at ts.
func sign(route, secret, body string, ts time.Time) map[string]string {
	t := strconv.FormatInt(ts.Unix(), 10)
	switch route {
	case githubRoute:
		return map[string]string{"X-Hub-Signature-256": "sha256=" + hexMAC(secret, body)}
	case stripeRoute:
		return map[string]string{"Stripe-Signature": "t=" + t + ",v1=" + hexMAC(secret, t+"."+body)}
	case slackRoute:
		return map[string]string{"X-Slack-Signature": "v0=" + hexMAC(secret, "v0:"+t+":"+body), "X-Slack-Request-Timestamp": t}
	case hmacRoute:
		return map[string]string{"X-Saas-Signature": hexMAC(secret, body)}
	}
	panic("no scheme for route " + route)
}

// signedRecord is record() carrying headers as ingress carries them.
func signedRecord(id, route string, receive int, body string, headers map[string]string) events.SQSMessage {
	r := record(id, "g-"+id, route, receive, body)
	r.MessageAttributes[webhook.AttrHeaderPrefix+"X-Event-Type"] = strAttr("evt")
	for k, v := range headers {
		r.MessageAttributes[webhook.AttrHeaderPrefix+k] = strAttr(v)
	}
	return r
}

// envSecrets is the real secret.Resolver over a settable environment.
type envSecrets struct {
	mu  sync.Mutex
	env map[string]string
}

func (e *envSecrets) lookup(k string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.env[k]
	return v, ok
}

func (e *envSecrets) set(k, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.env[k] = v
}

const (
	goodSecret  = "the sender's secret"
	otherSecret = "a secret the sender does not have"
)

func secretsFor(cfg *config.Config, value string) *envSecrets {
	e := &envSecrets{env: map[string]string{}}
	for _, r := range cfg.Routes {
		if r.Verify != nil {
			e.env[r.Verify.Secret.Env] = value
		}
	}
	return e
}

// verifyHarness runs verifyConfig's forwarder with a DLQ, EMF metrics, the
// real secret resolver and a clock at now.
type verifyHarness struct {
	*harness
	emf *bytes.Buffer
}

func newVerifyHarness(t *testing.T, env *envSecrets, now *time.Time) verifyHarness {
	t.Helper()
	var out bytes.Buffer
	cfg := verifyConfig()
	clock := func() time.Time { return *now }
	emf, err := metrics.NewEMF(&out, cfg, clock)
	if err != nil {
		t.Fatal(err)
	}
	// The harness wires the notify function, as on AWS: a refused
	// signature must not be announced all the same.
	h := newHarness(t, nil, func(c *forwarder.Config) {
		c.Routes, c.DLQURL, c.Metrics, c.Now = cfg, testDLQ, emf, clock
		c.Secrets = &secret.Resolver{LookupEnv: env.lookup, Now: clock}
	})
	return verifyHarness{harness: h, emf: &out}
}

// parkedFailure is the failure record a parked record carries.
func (h verifyHarness) parkedFailure(t *testing.T, id string) (webhook.Failure, bool) {
	t.Helper()
	in, ok := h.dlq.sent("wh-" + id)
	if !ok {
		return webhook.Failure{}, false
	}
	var f webhook.Failure
	if err := json.Unmarshal([]byte(*in.MessageAttributes[webhook.AttrFailure].StringValue), &f); err != nil {
		t.Fatal(err)
	}
	return f, true
}

// published lists the EMF points, "Name{dims}=value", sorted.
func (h verifyHarness) published(t *testing.T) []string {
	t.Helper()
	data, err := emfcheck.ParseLines(h.emf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return points(data)
}

// For every scheme: a webhook signed by the sender runs (even hours after it
// was received: its receipt judges the timestamp); a tampered body, the wrong
// secret, a timestamp outside the tolerance or a missing signature header
// never starts an execution, is parked at once with reason signature (the
// event source mapping deletes it from the queue) and is counted under its
// route — and no notification can follow, since no workflow ran.
func TestForwardVerifiesBeforeAnyExecution(t *testing.T) {
	t.Parallel()
	const body = `{"event":"approval.step","amount":42}`
	type tc struct {
		name    string
		body    string
		headers map[string]string
		valid   bool
	}
	cases := func(route string, timestamped bool) []tc {
		out := []tc{
			{"valid", body, sign(route, goodSecret, body, received), true},
			{"tampered body", body + " ", sign(route, goodSecret, body, received), false},
			{"wrong secret", body, sign(route, otherSecret, body, received), false},
			{"missing header", body, map[string]string{}, false},
		}
		if timestamped {
			out = append(out,
				tc{"signed within the tolerance before receipt", body, sign(route, goodSecret, body, received.Add(-4*time.Minute)), true},
				tc{"stale timestamp", body, sign(route, goodSecret, body, received.Add(-6*time.Minute)), false},
				tc{"timestamp ahead of receipt", body, sign(route, goodSecret, body, received.Add(6*time.Minute)), false})
		}
		return out
	}
	for _, route := range []struct {
		name        string
		timestamped bool
	}{{githubRoute, false}, {stripeRoute, true}, {slackRoute, true}, {hmacRoute, false}} {
		for _, c := range cases(route.name, route.timestamped) {
			t.Run(route.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				now := received.Add(2 * time.Hour) // waited in the queue
				h := newVerifyHarness(t, secretsFor(verifyConfig(), goodSecret), &now)
				resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
					signedRecord("1", route.name, 1, c.body, c.headers),
				}})
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.BatchItemFailures) != 0 {
					t.Errorf("batch item failures %v: a record is either run or parked, never left to come back", failureIDs(resp))
				}
				started := len(h.starter.started()) == 1
				failure, parked := h.parkedFailure(t, "1")
				if c.valid {
					if !started || parked {
						t.Fatalf("a valid signature: started %v, parked %v %+v; want run", started, parked, failure)
					}
					return
				}
				if started {
					t.Fatal("an execution started for a webhook whose signature did not verify")
				}
				if !parked || failure.Reason != webhook.ReasonSignature || failure.Error != webhook.ErrPermanent || !strings.Contains(failure.Cause, "inbound signature") {
					t.Fatalf("parked %v with %+v; want reason signature", parked, failure)
				}
				if n := len(h.notifier.requests()); n != 0 {
					t.Errorf("%d notifications for a refused signature, want none", n)
				}
				if strings.Contains(failure.Cause, goodSecret) || strings.Contains(h.logs.String(), goodSecret) {
					t.Error("the failure record or the log reveals the secret")
				}
				want := []string{
					"Parked{Reason=signature}=1",
					"Parked{Route=" + route.name + ",Reason=signature}=1",
				}
				if got := h.published(t); !slices.Equal(got, want) {
					t.Errorf("published %v, want %v", got, want)
				}
			})
		}
	}
}

// A forged record ahead of valid ones in its group does not hold them back:
// it is parked, and its group goes on in the same batch, in order.
func TestForgedHeadDoesNotBlockItsGroup(t *testing.T) {
	t.Parallel()
	now := received
	h := newVerifyHarness(t, secretsFor(verifyConfig(), goodSecret), &now)
	body := func(n int) string { return fmt.Sprintf(`{"n":%d}`, n) }
	var recs []events.SQSMessage
	for i := range 6 {
		s := goodSecret
		if i%2 == 0 {
			s = otherSecret // forged
		}
		r := signedRecord(fmt.Sprint(i), hmacRoute, 1, body(i), sign(hmacRoute, s, body(i), received))
		r.Attributes["MessageGroupId"] = "one-group"
		recs = append(recs, r)
	}
	resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures %v", failureIDs(resp))
	}
	if got, want := h.starter.started(), []string{"wh-1", "wh-3", "wh-5"}; !slices.Equal(got, want) {
		t.Errorf("started %v, want the valid ones in order %v", got, want)
	}
	for _, id := range []string{"0", "2", "4"} {
		if f, ok := h.parkedFailure(t, id); !ok || f.Reason != webhook.ReasonSignature {
			t.Errorf("forged %s: parked %v %+v", id, ok, f)
		}
	}
}

// A secret that cannot be read says nothing about the webhook: it did not
// run, so it comes back after its backoff like any record that did not run,
// and is not parked as forged; only on the last receive SQS's backstop
// allows does the forwarder park it (receive_limit), naming the secret,
// never its value.
func TestUnreadableSecretIsNotAVerdict(t *testing.T) {
	t.Parallel()
	const body = `{"n":1}`
	backstop := config.ComputeFinality(verifyConfig()).MaxReceiveCount
	for _, receive := range []int{1, backstop} {
		t.Run(fmt.Sprint("receive ", receive), func(t *testing.T) {
			t.Parallel()
			now := received
			env := &envSecrets{env: map[string]string{}} // no secret set
			h := newVerifyHarness(t, env, &now)
			resp, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
				signedRecord("1", githubRoute, receive, body, sign(githubRoute, goodSecret, body, received)),
			}})
			if err != nil {
				t.Fatal(err)
			}
			if len(h.starter.started()) != 0 {
				t.Fatal("started without verifying")
			}
			failure, parked := h.parkedFailure(t, "1")
			if receive == 1 {
				if parked || !slices.Equal(failureIDs(resp), []string{"msg-1"}) {
					t.Fatalf("parked %v (%+v), failures %v; want it back after its backoff", parked, failure, failureIDs(resp))
				}
				if vis := h.queue.byReceipt()["rh-1"]; vis != 30 {
					t.Errorf("visibility %ds, want the first redelivery delay 30s", vis)
				}
				return
			}
			if !parked || failure.Reason != webhook.ReasonReceiveLimit || failure.Error != "Forward.SecretUnavailable" || !strings.Contains(failure.Cause, "GITHUB_EVENTS") {
				t.Fatalf("last receive: parked %v %+v; want receive_limit, naming the secret", parked, failure)
			}
		})
	}
}

// A route whose secret was wrong refuses everything; once the secret is
// fixed where it lives, the forwarder reads it anew within
// signature.RereadAfter of the last read (a flood in between costs no
// reads), and the refused webhooks, replayed, verify.
func TestFixedSecretIsPickedUp(t *testing.T) {
	t.Parallel()
	const body = `{"n":1}`
	now := received
	env := secretsFor(verifyConfig(), otherSecret) // wrong in SSM
	h := newVerifyHarness(t, env, &now)
	send := func(id string) {
		t.Helper()
		if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
			signedRecord(id, hmacRoute, 1, body, sign(hmacRoute, goodSecret, body, received)),
		}}); err != nil {
			t.Fatal(err)
		}
	}
	send("1")
	env.set(strings.ToUpper(strings.ReplaceAll(hmacRoute, "-", "_")), goodSecret) // fixed
	now = now.Add(30 * time.Second)
	send("2") // read 30s ago: not reread yet
	now = now.Add(31 * time.Second)
	send("3") // older than a minute: reread, verifies
	if got := h.starter.started(); !slices.Equal(got, []string{"wh-3"}) {
		t.Errorf("started %v, want only wh-3 (the secret reread)", got)
	}
	for _, id := range []string{"1", "2"} {
		if f, ok := h.parkedFailure(t, id); !ok || f.Reason != webhook.ReasonSignature {
			t.Errorf("%s: parked %v %+v; want reason signature", id, ok, f)
		}
	}
}

// Fuzzed signature headers and bodies never panic the forwarder and never
// start an execution: a forged HMAC cannot be guessed, so every such record
// is refused and parked.
func FuzzForwardSignatureHeaders(f *testing.F) {
	f.Add(githubRoute, "sha256=00", "", `{}`)
	f.Add(stripeRoute, "t=1795856400,v1=zz,v1=", "", `{}`)
	f.Add(stripeRoute, "t=99999999999999999999,v1="+strings.Repeat("a", 64), "", "x")
	f.Add(slackRoute, "v0="+strings.Repeat("0", 64), "-1", "")
	f.Add(slackRoute, "v0=", "1795856400.5", "\xff\xfe")
	f.Add(hmacRoute, strings.Repeat("=", 300), "", `{"a":1}`)
	f.Fuzz(func(t *testing.T, route, sig, ts, body string) {
		routes := []string{githubRoute, stripeRoute, slackRoute, hmacRoute}
		if !slices.Contains(routes, route) {
			route = routes[len(route)%len(routes)]
		}
		if body == "" {
			body = "-" // SQS bodies are never empty
		}
		headers := map[string]string{}
		for _, name := range verifyHeaders(route) {
			headers[name] = sig
		}
		if route == slackRoute {
			headers["X-Slack-Request-Timestamp"] = ts
		}
		now := received
		h := newVerifyHarness(t, secretsFor(verifyConfig(), goodSecret), &now)
		rec := signedRecord("1", route, 1, body, headers)
		if _, err := h.fwd.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec}}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(h.logs.String(), "panic") {
			t.Fatalf("the forwarder panicked:\n%s", h.logs.String())
		}
		if len(h.starter.started()) != 0 {
			t.Fatalf("forged headers %v started an execution", headers)
		}
	})
}

// verifyHeaders are the signature headers of route's scheme.
func verifyHeaders(route string) []string {
	r, _ := verifyConfig().Route(route)
	return r.Verify.Headers()
}
