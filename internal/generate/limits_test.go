package generate

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/generate/asl"
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
