package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// Published vectors, so the schemes are checked against their owners, not
// against this package's own signer.
const (
	// docs.github.com, "Validating webhook deliveries".
	githubSecret = "It's a Secret to Everybody"
	githubBody   = "Hello, World!"
	githubSig    = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

	// api.slack.com, "Verifying requests from Slack".
	slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	slackTS     = "1531420618"
	slackBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

// The headers each provider documents, written out here so a typo in
// config.Schemes fails the published vectors.
const (
	headerGitHub         = "X-Hub-Signature-256"
	headerStripe         = "Stripe-Signature"
	headerSlack          = "X-Slack-Signature"
	headerSlackTimestamp = "X-Slack-Request-Timestamp"
)

// Test signers: a provider's side of each scheme, written from its docs.
func hexMAC(secret, msg string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(msg))
	return hex.EncodeToString(h.Sum(nil))
}

func stripeHeader(secret string, ts int64, body string) string {
	t := strconv.FormatInt(ts, 10)
	return "t=" + t + ",v1=" + hexMAC(secret, t+"."+body) + ",v0=" + strings.Repeat("0", 64)
}

func slackHeaders(secret string, ts int64, body string) map[string]string {
	t := strconv.FormatInt(ts, 10)
	return map[string]string{headerSlack: "v0=" + hexMAC(secret, "v0:"+t+":"+body), headerSlackTimestamp: t}
}

func at(unix int64) func() time.Time { return func() time.Time { return time.Unix(unix, 0) } }

func TestVerify(t *testing.T) {
	t.Parallel()
	const now = 1_700_000_000
	const stripeSecret = "whsec_stripe_test"
	body := `{"id":"evt_1","amount":42}`
	slackAt, _ := strconv.ParseInt(slackTS, 10, 64)
	tests := []struct {
		name    string
		in      Inbound
		headers map[string]string
		body    string
		wantErr string // substring; empty means valid
	}{
		{"github published vector", Inbound{Scheme: config.VerifyGitHub, Secret: []byte(githubSecret)},
			map[string]string{headerGitHub: githubSig}, githubBody, ""},
		{"github lower-case header name", Inbound{Scheme: config.VerifyGitHub, Secret: []byte(githubSecret)},
			map[string]string{"x-hub-signature-256": githubSig}, githubBody, ""},
		{"github wrong secret", Inbound{Scheme: config.VerifyGitHub, Secret: []byte("other")},
			map[string]string{headerGitHub: githubSig}, githubBody, "does not match"},
		{"github body changed", Inbound{Scheme: config.VerifyGitHub, Secret: []byte(githubSecret)},
			map[string]string{headerGitHub: githubSig}, githubBody + " ", "does not match"},
		{"github missing prefix", Inbound{Scheme: config.VerifyGitHub, Secret: []byte(githubSecret)},
			map[string]string{headerGitHub: strings.TrimPrefix(githubSig, "sha256=")}, githubBody, `does not start with "sha256="`},
		{"github missing header", Inbound{Scheme: config.VerifyGitHub, Secret: []byte(githubSecret)},
			map[string]string{"X-Other": "x"}, githubBody, "X-Hub-Signature-256 header is missing"},
		{"github not hex", Inbound{Scheme: config.VerifyGitHub, Secret: []byte(githubSecret)},
			map[string]string{headerGitHub: "sha256=zz"}, githubBody, "not a hex SHA-256 HMAC"},
		{"github truncated", Inbound{Scheme: config.VerifyGitHub, Secret: []byte(githubSecret)},
			map[string]string{headerGitHub: githubSig[:len(githubSig)-2]}, githubBody, "not a hex SHA-256 HMAC"},

		{"hmac bare hex", Inbound{Scheme: config.VerifyHMAC, Secret: []byte("s3"), Header: "X-Workflow-Signature"},
			map[string]string{"X-Workflow-Signature": hexMAC("s3", body)}, body, ""},
		{"hmac sha256= prefix", Inbound{Scheme: config.VerifyHMAC, Secret: []byte("s3"), Header: "X-Workflow-Signature"},
			map[string]string{"X-Workflow-Signature": "sha256=" + hexMAC("s3", body)}, body, ""},
		{"hmac upper-case hex", Inbound{Scheme: config.VerifyHMAC, Secret: []byte("s3"), Header: "X-Workflow-Signature"},
			map[string]string{"X-Workflow-Signature": strings.ToUpper(hexMAC("s3", body))}, body, ""},
		{"hmac wrong", Inbound{Scheme: config.VerifyHMAC, Secret: []byte("s3"), Header: "X-Workflow-Signature"},
			map[string]string{"X-Workflow-Signature": hexMAC("s4", body)}, body, "X-Workflow-Signature does not match"},
		{"hmac header empty", Inbound{Scheme: config.VerifyHMAC, Secret: []byte("s3"), Header: "X-Workflow-Signature"},
			map[string]string{"X-Workflow-Signature": ""}, body, "header is missing"},
		{"hmac no header configured", Inbound{Scheme: config.VerifyHMAC, Secret: []byte("s3")},
			map[string]string{}, body, "no header configured"},

		{"stripe valid", Inbound{Scheme: config.VerifyStripe, Secret: []byte(stripeSecret), Now: at(now)},
			map[string]string{headerStripe: stripeHeader(stripeSecret, now-10, body)}, body, ""},
		{"stripe second v1 matches (secret rotation)", Inbound{Scheme: config.VerifyStripe, Secret: []byte(stripeSecret), Now: at(now)},
			map[string]string{headerStripe: "t=" + strconv.Itoa(now) + ",v1=" + strings.Repeat("ab", 32) + ",v1=" + hexMAC(stripeSecret, strconv.Itoa(now)+"."+body)}, body, ""},
		{"stripe expired", Inbound{Scheme: config.VerifyStripe, Secret: []byte(stripeSecret), Now: at(now), Tolerance: time.Minute},
			map[string]string{headerStripe: stripeHeader(stripeSecret, now-61, body)}, body, "beyond the 1m0s tolerance"},
		{"stripe default tolerance 5m", Inbound{Scheme: config.VerifyStripe, Secret: []byte(stripeSecret), Now: at(now)},
			map[string]string{headerStripe: stripeHeader(stripeSecret, now-301, body)}, body, "beyond the 5m0s tolerance"},
		{"stripe far future", Inbound{Scheme: config.VerifyStripe, Secret: []byte(stripeSecret), Now: at(now)},
			map[string]string{headerStripe: stripeHeader(stripeSecret, now+3600, body)}, body, "tolerance"},
		{"stripe timestamp tampered", Inbound{Scheme: config.VerifyStripe, Secret: []byte(stripeSecret), Now: at(now)},
			map[string]string{headerStripe: strings.Replace(stripeHeader(stripeSecret, now, body), "t="+strconv.Itoa(now), "t="+strconv.Itoa(now-1), 1)}, body, "no v1 signature matches"},
		{"stripe no t", Inbound{Scheme: config.VerifyStripe, Secret: []byte(stripeSecret), Now: at(now)},
			map[string]string{headerStripe: "v1=" + hexMAC(stripeSecret, body)}, body, "no timestamp"},
		{"stripe no v1", Inbound{Scheme: config.VerifyStripe, Secret: []byte(stripeSecret), Now: at(now)},
			map[string]string{headerStripe: "t=" + strconv.Itoa(now)}, body, "no hex v1"},

		{"slack published vector", Inbound{Scheme: config.VerifySlack, Secret: []byte(slackSecret), Now: at(slackAt + 60)},
			map[string]string{headerSlack: slackSig, headerSlackTimestamp: slackTS}, slackBody, ""},
		{"slack published vector, expired today", Inbound{Scheme: config.VerifySlack, Secret: []byte(slackSecret), Now: at(now)},
			map[string]string{headerSlack: slackSig, headerSlackTimestamp: slackTS}, slackBody, "X-Slack-Request-Timestamp timestamp is"},
		{"slack valid", Inbound{Scheme: config.VerifySlack, Secret: []byte("sl"), Now: at(now), Tolerance: 30 * time.Second},
			slackHeaders("sl", now-30, body), body, ""},
		{"slack just expired", Inbound{Scheme: config.VerifySlack, Secret: []byte("sl"), Now: at(now), Tolerance: 30 * time.Second},
			slackHeaders("sl", now-31, body), body, "beyond the 30s tolerance"},
		{"slack missing timestamp", Inbound{Scheme: config.VerifySlack, Secret: []byte("sl"), Now: at(now)},
			map[string]string{headerSlack: "v0=" + hexMAC("sl", body)}, body, "X-Slack-Request-Timestamp header is missing"},
		{"slack timestamp not a number", Inbound{Scheme: config.VerifySlack, Secret: []byte("sl"), Now: at(now)},
			map[string]string{headerSlack: "v0=00", headerSlackTimestamp: "soon"}, body, "not unix seconds"},
		{"slack wrong version", Inbound{Scheme: config.VerifySlack, Secret: []byte("sl"), Now: at(now)},
			map[string]string{headerSlack: strings.Replace(slackHeaders("sl", now, body)[headerSlack], "v0=", "v1=", 1), headerSlackTimestamp: strconv.Itoa(now)}, body, `does not start with "v0="`},

		{"empty secret", Inbound{Scheme: config.VerifyGitHub},
			map[string]string{headerGitHub: githubSig}, githubBody, "secret is empty"},
		{"unknown scheme", Inbound{Scheme: "carrier-pigeon", Secret: []byte("x")},
			map[string]string{}, body, "unknown verification scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.in.Verify(tt.headers, []byte(tt.body))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Verify = %v, want valid", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Verify = nil, want error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Verify = %q, want it to contain %q", err, tt.wantErr)
			}
			if err != nil && len(tt.in.Secret) > 0 && strings.Contains(err.Error(), string(tt.in.Secret)) {
				t.Fatalf("error %q reveals the secret", err)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    config.Verify
		want string
	}{
		{config.Verify{Scheme: config.VerifyGitHub}, headerGitHub},
		{config.Verify{Scheme: config.VerifyStripe}, headerStripe},
		{config.Verify{Scheme: config.VerifySlack}, headerSlack + "," + headerSlackTimestamp},
		{config.Verify{Scheme: config.VerifyHMAC, Header: "X-Sig"}, "X-Sig"},
		{config.Verify{Scheme: config.VerifyNone}, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.v.Headers(), ","); got != tt.want {
			t.Errorf("Headers(%s) = %q, want %q", tt.v.Scheme, got, tt.want)
		}
	}
}

// Every scheme of the table is verified here, and nothing else is: a scheme
// added to config.Schemes without its check fails this test.
func TestEverySchemeHasACheck(t *testing.T) {
	t.Parallel()
	want := map[config.VerifyScheme]bool{}
	for _, s := range config.Schemes {
		if s.Name != config.VerifyNone {
			want[s.Name] = true
		}
	}
	for name := range want {
		if _, ok := checks[name]; !ok {
			t.Errorf("scheme %s has no check", name)
		}
	}
	for name := range checks {
		if !want[name] {
			t.Errorf("check for %s, which config.Schemes does not list (or lists as none)", name)
		}
	}
	if err := (Inbound{Scheme: config.VerifyNone, Secret: []byte("k")}).Verify(nil, nil); err == nil {
		t.Error("scheme none verified a request; it must never pass as a check")
	}
}

// The Standard Webhooks spec's own test vector (standard-webhooks libraries'
// TestWebhookSign), with and without the whsec_ prefix.
func TestSignStandardWebhooksVector(t *testing.T) {
	t.Parallel()
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	for _, secret := range []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		key, err := SigningKey(secret)
		if err != nil {
			t.Fatalf("SigningKey(%q): %v", secret, err)
		}
		got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
		if got != want {
			t.Errorf("Sign with %q = %s, want %s", secret, got, want)
		}
	}
}

func TestSigningKeyRejectsNonBase64(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"", "whsec_", "whsec_not base64!", "plain text secret"} {
		if _, err := SigningKey(secret); err == nil {
			t.Errorf("SigningKey(%q) = nil error, want one", secret)
		} else if len(secret) > len(SecretPrefix) && strings.Contains(err.Error(), secret) {
			t.Errorf("SigningKey error %q reveals the secret", err)
		}
	}
}

func b64MAC(key []byte, msg string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
