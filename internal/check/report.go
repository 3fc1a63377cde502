package check

import (
	"fmt"
	"io"
	"strings"
)

// WriteText prints results one per line, status first, with the fix
// indented below a result that needs one, and a closing count.
func WriteText(w io.Writer, results []Result) error {
	var b strings.Builder
	failed, warned := 0, 0
	for _, r := range results {
		fmt.Fprintf(&b, "%-4s  %s: %s\n", r.Status, r.Check, r.Detail)
		if r.Fix != "" && r.Status != Pass {
			fmt.Fprintf(&b, "      → %s\n", r.Fix)
		}
		switch r.Status {
		case Fail:
			failed++
		case Warn:
			warned++
		}
	}
	switch {
	case failed > 0:
		fmt.Fprintf(&b, "\n%d of %d checks failed", failed, len(results))
	default:
		fmt.Fprintf(&b, "\nall %d checks passed", len(results)-countSkipped(results))
	}
	if warned > 0 {
		fmt.Fprintf(&b, " (%d warning(s))", warned)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func countSkipped(results []Result) int {
	n := 0
	for _, r := range results {
		if r.Status == Skip {
			n++
		}
	}
	return n
}
