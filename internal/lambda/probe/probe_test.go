package probe

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

const keyARN = "arn:aws:kms:us-east-1:123456789012:key/probe"

var now = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func newKey(t *testing.T, arn string) *LocalKey {
	t.Helper()
	k, err := NewLocalKey(arn)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// refusingKMS is KMS refusing the call (a role without kms:VerifyMac).
type refusingKMS struct{}

func (refusingKMS) VerifyMac(context.Context, *kms.VerifyMacInput, ...func(*kms.Options)) (*kms.VerifyMacOutput, error) {
	return nil, errors.New("AccessDeniedException: not authorized to perform kms:VerifyMac")
}

func TestFind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		ok         bool
		malformed  bool
	}{
		{"not JSON", `hello`, false, false},
		{"a JSON array", `["webhookq_probe"]`, false, false},
		{"an object without the field", `{"event":"approved"}`, false, false},
		{"the field's name nested, not at the top", `{"data":{"webhookq_probe":{"v":1}}}`, false, false},
		{"the field's name as a value", `{"note":"webhookq_probe"}`, false, false},
		{"a probe", `{"webhookq_probe":{"v":1,"route":"r","id":"i","expires":"2026-12-07T10:15:00Z","mac":"bWFj"},"account":{"id":"x"}}`, true, false},
		{"not an object", `{"webhookq_probe":"yes"}`, true, true},
		{"an unknown member", `{"webhookq_probe":{"v":1,"route":"r","id":"i","expires":"e","mac":"m","target":"http://evil"}}`, true, true},
		{"another version", `{"webhookq_probe":{"v":2,"route":"r","id":"i","expires":"e","mac":"m"}}`, true, true},
		{"a member missing", `{"webhookq_probe":{"v":1,"route":"r","id":"i","expires":"e"}}`, true, true},
		{"a member too long", `{"webhookq_probe":{"v":1,"route":"r","id":"` + strings.Repeat("i", 300) + `","expires":"e","mac":"m"}}`, true, true},
	} {
		_, ok, err := Find([]byte(tc.body))
		if ok != tc.ok || errors.Is(err, ErrMalformed) != tc.malformed {
			t.Errorf("%s: ok %v, err %v; want ok %v, malformed %v", tc.name, ok, err, tc.ok, tc.malformed)
		}
	}
}

// TestJudge: only a probe whose MAC verifies under the probe key is
// answered, and only on its own route before it expires.
func TestJudge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := newKey(t, keyARN)
	p, err := New(ctx, k, keyARN, "orders", "a1b2", now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Expires != "2026-12-07T10:15:00Z" || p.MAC == "" {
		t.Fatalf("probe %+v", p)
	}
	tampered := p
	tampered.ID = "other"
	otherKey := newKey(t, keyARN)
	for _, tc := range []struct {
		name    string
		checker MacChecker
		key     string
		p       Probe
		route   string
		at      time.Time
		want    Verdict
	}{
		{"authentic, in time", k, keyARN, p, "orders", now.Add(time.Minute), Answered},
		{"at its expiry", k, keyARN, p, "orders", now.Add(Validity), Answered},
		{"after its expiry", k, keyARN, p, "orders", now.Add(Validity + time.Second), Expired},
		{"on another route", k, keyARN, p, "refunds", now, Expired},
		{"a member changed", k, keyARN, tampered, "orders", now, Forged},
		{"made with another key", otherKey, keyARN, p, "orders", now, Forged},
		{"mac not base64", k, keyARN, Probe{V: 1, Route: "orders", ID: "x", Expires: p.Expires, MAC: "%%"}, "orders", now, Forged},
		{"KMS refuses", refusingKMS{}, keyARN, p, "orders", now, Unverifiable},
		{"another key named", k, keyARN + "-old", p, "orders", now, Unverifiable},
		{"no probe key", nil, "", p, "orders", now, Unverifiable},
	} {
		got, err := Judge(ctx, tc.checker, tc.key, tc.p, tc.route, tc.at)
		if got != tc.want {
			t.Errorf("%s: %s (%v), want %s", tc.name, got, err, tc.want)
		}
		if (got == Answered) != (err == nil) {
			t.Errorf("%s: verdict %s with error %v", tc.name, got, err)
		}
	}
}

// TestBody: a probe's body holds the probe, and the field a body-grouped
// route reads (API Gateway refuses a request without it), and the probe is
// found in it again.
func TestBody(t *testing.T) {
	t.Parallel()
	p := Probe{V: 1, Route: "approval-completed", ID: "a1", Expires: "2026-12-07T10:15:00Z", MAC: "bWFj"}
	b, err := Body(p, "account.id", "webhookq-probe-a1")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Account struct {
			ID string `json:"id"`
		} `json:"account"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Account.ID != "webhookq-probe-a1" {
		t.Errorf("body %s: account.id %q (%v)", b, doc.Account.ID, err)
	}
	got, ok, err := Find(b)
	if !ok || err != nil || got != p {
		t.Errorf("Find(Body) = %+v, %v, %v; want the probe", got, ok, err)
	}
	if b, err := Body(p, "", ""); err != nil || !strings.HasPrefix(string(b), `{"webhookq_probe":`) {
		t.Errorf("Body without a group field = %s, %v", b, err)
	}
	if _, err := Body(p, Field+".x", "v"); err == nil {
		t.Error("a route grouping by the probe's own field: want an error")
	}
}
