package signature

import (
	"strconv"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// Each fuzz target checks three things for arbitrary input: Verify never
// panics on a forged header; the provider's signature over the body always
// verifies; and flipping any one byte of the body or the signature never
// verifies.

const fuzzNow = 1_700_000_000

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[abs(i)%len(c)] ^= 0x01
	return c
}

func FuzzGitHub(f *testing.F) {
	f.Add([]byte(githubSecret), []byte(githubBody), githubSig, 0)
	f.Add([]byte("k"), []byte{0xff, 0x00, 0xfe}, "sha256=", 3)
	f.Fuzz(func(t *testing.T, secret, body []byte, forged string, pos int) {
		if len(secret) == 0 {
			return
		}
		in := Inbound{Scheme: config.VerifyGitHub, Secret: secret}
		_ = in.Verify(map[string]string{headerGitHub: forged}, body)
		sig := "sha256=" + hexMAC(string(secret), string(body))
		if err := in.Verify(map[string]string{headerGitHub: sig}, body); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		if len(body) > 0 {
			if in.Verify(map[string]string{headerGitHub: sig}, flip(body, pos)) == nil {
				t.Fatal("flipped body verified")
			}
		}
		if in.Verify(map[string]string{headerGitHub: string(flip([]byte(sig), pos))}, body) == nil {
			t.Fatal("flipped signature verified")
		}
	})
}

func FuzzHMAC(f *testing.F) {
	f.Add([]byte("s3"), []byte(`{"a":1}`), "sha256=00", 5, true)
	f.Fuzz(func(t *testing.T, secret, body []byte, forged string, pos int, prefixed bool) {
		if len(secret) == 0 {
			return
		}
		in := Inbound{Scheme: config.VerifyHMAC, Secret: secret, Header: "X-Sig"}
		_ = in.Verify(map[string]string{"X-Sig": forged}, body)
		sig := hexMAC(string(secret), string(body))
		if prefixed {
			sig = "sha256=" + sig
		}
		if err := in.Verify(map[string]string{"X-Sig": sig}, body); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		if len(body) > 0 && in.Verify(map[string]string{"X-Sig": sig}, flip(body, pos)) == nil {
			t.Fatal("flipped body verified")
		}
		if flipped := flip([]byte(sig), pos); in.Verify(map[string]string{"X-Sig": string(flipped)}, body) == nil {
			t.Fatalf("flipped signature %q verified", flipped)
		}
	})
}

func FuzzStripe(f *testing.F) {
	f.Add([]byte("whsec_x"), []byte(`{"id":"evt"}`), "t=1,v1=00", int64(-10), 7)
	f.Fuzz(func(t *testing.T, secret, body []byte, forged string, skew int64, pos int) {
		if len(secret) == 0 {
			return
		}
		in := Inbound{Scheme: config.VerifyStripe, Secret: secret, Now: at(fuzzNow), Tolerance: time.Minute}
		_ = in.Verify(map[string]string{headerStripe: forged}, body)
		ts := int64(fuzzNow) + skew%60
		hdr := stripeHeader(string(secret), ts, string(body))
		if err := in.Verify(map[string]string{headerStripe: hdr}, body); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		if len(body) > 0 && in.Verify(map[string]string{headerStripe: hdr}, flip(body, pos)) == nil {
			t.Fatal("flipped body verified")
		}
		sig := hexMAC(string(secret), strconv.FormatInt(ts, 10)+"."+string(body))
		bad := "t=" + strconv.FormatInt(ts, 10) + ",v1=" + string(flip([]byte(sig), pos))
		if in.Verify(map[string]string{headerStripe: bad}, body) == nil {
			t.Fatal("flipped signature verified")
		}
	})
}

func FuzzSlack(f *testing.F) {
	f.Add([]byte(slackSecret), []byte(slackBody), "v0=00", "1531420618", int64(0), 1)
	f.Fuzz(func(t *testing.T, secret, body []byte, forgedSig, forgedTS string, skew int64, pos int) {
		if len(secret) == 0 {
			return
		}
		in := Inbound{Scheme: config.VerifySlack, Secret: secret, Now: at(fuzzNow), Tolerance: time.Minute}
		_ = in.Verify(map[string]string{headerSlack: forgedSig, headerSlackTimestamp: forgedTS}, body)
		h := slackHeaders(string(secret), int64(fuzzNow)+skew%60, string(body))
		if err := in.Verify(h, body); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		if len(body) > 0 && in.Verify(h, flip(body, pos)) == nil {
			t.Fatal("flipped body verified")
		}
		bad := map[string]string{headerSlack: string(flip([]byte(h[headerSlack]), pos)), headerSlackTimestamp: h[headerSlackTimestamp]}
		if in.Verify(bad, body) == nil {
			t.Fatal("flipped signature verified")
		}
	})
}

// FuzzSign checks the outbound signer against a Standard Webhooks verifier
// written here from the spec: the signature over (id, timestamp, body) is
// reproducible and changes when any byte of the body changes.
func FuzzSign(f *testing.F) {
	f.Add([]byte("key"), "msg_1", int64(1614265330), []byte(`{"test": 2432232314}`), 0)
	f.Fuzz(func(t *testing.T, key []byte, id string, ts int64, body []byte, pos int) {
		if len(key) == 0 {
			return
		}
		when := time.Unix(ts, 0)
		sig := Sign(key, id, when, body)
		want := "v1," + b64MAC(key, id+"."+strconv.FormatInt(ts, 10)+"."+string(body))
		if sig != want {
			t.Fatalf("Sign = %s, want %s", sig, want)
		}
		if len(body) > 0 && Sign(key, id, when, flip(body, pos)) == sig {
			t.Fatal("signature unchanged by a flipped body byte")
		}
	})
}

func abs(i int) int {
	if i < 0 {
		if i == -i { // math.MinInt
			return 0
		}
		return -i
	}
	return i
}
