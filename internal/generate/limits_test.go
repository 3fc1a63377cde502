package generate

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// The summary prints each route's limits as asl.Limits derives them from the
// workflow the generator writes.
func TestSummaryPrintsTheDerivedLimits(t *testing.T) {
	t.Parallel()
	cfg := loadCase(t, "example")
	s, err := Summarize(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, r := range cfg.Routes {
		l, err := asl.Limits(cfg, r)
		if err != nil {
			t.Fatal(err)
		}
		row := regexp.MustCompile(fmt.Sprintf(`(?m)^%s +%d B +%d B +%s$`, regexp.QuoteMeta(r.Name), l.MaxBody, l.MaxInput, regexp.QuoteMeta(l.Binding)))
		if !row.MatchString(text.String()) {
			t.Errorf("summary lacks %s's limits (%d B body, %d B input, %s):\n%s", r.Name, l.MaxBody, l.MaxInput, l.Binding, text.String())
		}
	}
}

// docs/config.md's table of the example's limits is what asl.Limits derives
// for config/routes.yaml (routes.yaml changes with other work; the doc must
// follow).
func TestConfigDocStatesTheExamplesLimits(t *testing.T) {
	t.Parallel()
	root := testenv.RepoRoot(t)
	cfg, err := config.Load(filepath.Join(root, "config", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	comma := func(n int) string {
		s := strconv.Itoa(n)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	}
	for _, r := range cfg.Routes {
		l, err := asl.Limits(cfg, r)
		if err != nil {
			t.Fatal(err)
		}
		row := fmt.Sprintf("| `%s` | %s bytes | %s (%s bytes besides the input) | %s bytes | **%s bytes** |",
			r.Name, comma(l.MaxInput), l.Binding, comma(l.Overhead), comma(l.EnvelopeOverhead), comma(l.MaxBody))
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/config.md lacks the row\n%s", row)
		}
	}
}
