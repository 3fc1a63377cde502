package tfgen

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

var wildcardResource = regexp.MustCompile(`Resource\s*=\s*(\[\s*)?"\*"`)

// TestWildcardResourcesAreCommented: invariant 7 (docs/architecture.md) allows Resource "*" only
// where AWS requires it, each such statement commented as the exception. The
// terraform tests prove which statement it is; this proves the comment.
func TestWildcardResourcesAreCommented(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(t), "terraform", "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no terraform files (%v)", err)
	}
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i, line := range lines {
			if !wildcardResource.MatchString(line) {
				continue
			}
			found++
			// The comment is inside the statement, before this line: look
			// back to the statement's opening brace.
			commented := false
			for j := i - 1; j >= 0; j-- {
				l := strings.TrimSpace(lines[j])
				if strings.HasPrefix(l, "#") && strings.Contains(l, "AWS requires") {
					commented = true
				}
				if l == "{" || l == "}," {
					break
				}
			}
			if !commented {
				t.Errorf("%s:%d: Resource \"*\" without a comment saying AWS requires it", filepath.Base(f), i+1)
			}
		}
	}
	if found == 0 {
		t.Error("no Resource \"*\" found at all: the log-delivery statement should have one (did its form change?)")
	}
}
