package webhook

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestEncodeBodyRoundTripsAndPicksTheShorterForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"json", []byte(`{"approval":"granted","step":2}`), EncodingUTF8},
		{"text with some escapes", []byte("line one\nline \"two\"\n"), EncodingUTF8},
		{"empty", nil, EncodingUTF8},
		{"not UTF-8", []byte{0xff, 0xfe, 'a', 0x00}, EncodingBase64},
		{"quotes everywhere", bytes.Repeat([]byte(`"`), 300), EncodingBase64},
		{"control characters", bytes.Repeat([]byte{0x01}, 300), EncodingBase64},
		{"html characters", []byte(strings.Repeat("<&>", 100)), EncodingUTF8}, // not escaped in EncodeInput
		{"line separators", []byte(strings.Repeat("\u2028", 100)), EncodingBase64},
	} {
		var e Envelope
		e.EncodeBody(tc.raw)
		if e.BodyEncoding != tc.want {
			t.Errorf("%s: encoding %s, want %s", tc.name, e.BodyEncoding, tc.want)
		}
		got, err := e.RawBody()
		if err != nil || !bytes.Equal(got, tc.raw) {
			t.Errorf("%s: round trip %q, %v; want %q", tc.name, got, err, tc.raw)
		}
		if e.BodyEncoding == EncodingUTF8 {
			js, _ := CompactJSON(e.Body)
			if jsonStringLen(tc.raw) != len(js) {
				t.Errorf("%s: jsonStringLen %d, encoding/json wrote %d", tc.name, jsonStringLen(tc.raw), len(js))
			}
		}
	}
}

func FuzzEncodeBody(f *testing.F) {
	f.Add([]byte(`{"a":1}`))
	f.Add([]byte{0xff})
	f.Add([]byte("\u2028<>&\"\\"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var e Envelope
		e.EncodeBody(raw)
		got, err := e.RawBody()
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("round trip %q → %q, %v", raw, got, err)
		}
		js, _ := CompactJSON(e.Body)
		if limit := (len(raw)+2)/3*4 + 2; len(js) > limit {
			t.Fatalf("encoded body is %d bytes of JSON, more than base64's %d", len(js), limit)
		}
	})
}

func TestBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc…"},
		{"ab日本", 3, "ab…"}, // never cuts inside a rune
		{"日本", 0, "…"},
	} {
		if got := Bound(tc.in, tc.n); got != tc.want {
			t.Errorf("Bound(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestParseReceivedAt(t *testing.T) {
	want := time.UnixMilli(1795856400123)
	for in, ok := range map[string]bool{
		"1795856400123":                 true,
		" 1795856400123 ":               true,
		"2026-11-28T09:00:00.123Z":      true,
		"2026-11-28T18:00:00.123+09:00": true,
		"":                              false,
		"0":                             false,
		"-5":                            false,
		"yesterday":                     false,
	} {
		got, gotOK := ParseReceivedAt(in)
		if gotOK != ok || (ok && !got.Equal(want)) {
			t.Errorf("ParseReceivedAt(%q) = %v, %v; want %v, %v", in, got, gotOK, want, ok)
		}
	}
}

func TestCauseMessage(t *testing.T) {
	t.Parallel()
	tests := []struct{ cause, want string }{
		{`{"errorMessage":"attempt 1/3: boom","errorType":"Webhook.Permanent"}`, "attempt 1/3: boom"},
		{"Task timed out after 17.00 seconds", "Task timed out after 17.00 seconds"},
		{`{"other":"json"}`, `{"other":"json"}`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := CauseMessage(tt.cause); got != tt.want {
			t.Errorf("CauseMessage(%q) = %q, want %q", tt.cause, got, tt.want)
		}
	}
}
