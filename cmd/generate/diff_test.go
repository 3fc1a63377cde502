package main

import (
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	t.Parallel()
	lines := func(n int) []string {
		var l []string
		for i := 1; i <= n; i++ {
			l = append(l, "line"+string(rune('a'+i-1)))
		}
		return l
	}
	join := func(l []string) string { return strings.Join(l, "\n") + "\n" }
	base := lines(12)
	changed := append([]string{}, base...)
	changed[5] = "CHANGED"
	inserted := append(append(append([]string{}, base[:2]...), "NEW"), base[2:]...)
	farApart := append([]string{}, base...)
	farApart[0], farApart[11] = "FIRST", "LAST"

	cases := []struct {
		name, old, new, want string
	}{
		{"equal", join(base), join(base), ""},
		{"one line changed", join(base), join(changed),
			"--- a\n+++ b\n@@ -3,7 +3,7 @@\n linec\n lined\n linee\n-linef\n+CHANGED\n lineg\n lineh\n linei\n"},
		{"one line inserted", join(base), join(inserted),
			"--- a\n+++ b\n@@ -1,5 +1,6 @@\n linea\n lineb\n+NEW\n linec\n lined\n linee\n"},
		{"new file", "", "x\ny\n", "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{"two hunks", join(base), join(farApart),
			"--- a\n+++ b\n@@ -1,4 +1,4 @@\n-linea\n+FIRST\n lineb\n linec\n lined\n@@ -9,4 +9,4 @@\n linei\n linej\n linek\n-linel\n+LAST\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := unifiedDiff("a", "b", tc.old, tc.new); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestUnifiedDiffLargeFallback: past the LCS bound the diff is still correct:
// applying it line by line gives the new text.
func TestUnifiedDiffLargeFallback(t *testing.T) {
	t.Parallel()
	var a, b strings.Builder
	for i := range 3000 {
		a.WriteString("a" + strings.Repeat("x", i%7) + "\n")
		b.WriteString("b" + strings.Repeat("x", i%5) + "\n")
	}
	d := unifiedDiff("a", "b", a.String(), b.String())
	var rebuilt, removed strings.Builder
	for _, l := range strings.Split(d, "\n")[3:] {
		switch {
		case strings.HasPrefix(l, "+"):
			rebuilt.WriteString(l[1:] + "\n")
		case strings.HasPrefix(l, "-"):
			removed.WriteString(l[1:] + "\n")
		}
	}
	if rebuilt.String() != b.String() || removed.String() != a.String() {
		t.Error("the fallback diff does not turn the old text into the new")
	}
}
