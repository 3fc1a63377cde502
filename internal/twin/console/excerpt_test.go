package console

import "testing"

func TestExcerpt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc… (6 bytes)"},
		{"ab✓cd", 4, "ab… (7 bytes)"}, // ✓ is 3 bytes: never cut inside it
	} {
		if got := excerpt(tc.s, tc.n); got != tc.want {
			t.Errorf("excerpt(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
