package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docs/config.md's table of Lambda retries is config.LambdaRetries: each
// kind's errors, its number of retries and its waits.
func TestLambdaRetriesAreDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, lr := range LambdaRetries {
		var row string
		for _, line := range strings.Split(string(doc), "\n") {
			if strings.HasPrefix(line, "| "+lr.Name+": ") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("docs/config.md has no row for %s", lr.Name)
			continue
		}
		for _, e := range lr.Errors {
			if !strings.Contains(row, "`"+e+"`") {
				t.Errorf("%s row lacks %s: %s", lr.Name, e, row)
			}
		}
		var waits []string
		for n := 1; n < lr.Retry.MaxAttempts; n++ {
			waits = append(waits, fmt.Sprint(int64(lr.Retry.RetryWait(n)/time.Second)))
		}
		times := map[int]string{1: "once"}[lr.Retry.MaxAttempts-1]
		if times == "" {
			times = fmt.Sprintf("%d times", lr.Retry.MaxAttempts-1)
		}
		if want := times + ", after " + strings.Join(waits, ", ") + " s"; !strings.Contains(row, want) {
			t.Errorf("%s row does not say %q: %s", lr.Name, want, row)
		}
	}
}
