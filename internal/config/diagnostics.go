package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Diagnostic is one problem in a routes.yaml, pinned to where it is.
type Diagnostic struct {
	File string
	Line int
	Col  int
	// Path is the YAML path of the offending value, e.g. routes[1].retry.max_attempts.
	Path    string
	Message string
}

func (d Diagnostic) String() string {
	if d.Path == "" {
		return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, d.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", d.File, d.Line, d.Col, d.Path, d.Message)
}

// Diagnostics is every problem found in a config, the error Load and Parse
// return when anything is wrong.
type Diagnostics []Diagnostic

// Error prints one diagnostic per line, in file order.
func (ds Diagnostics) Error() string {
	sorted := slices.Clone(ds)
	sortDiagnostics(sorted)
	lines := make([]string, len(sorted))
	for i, d := range sorted {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

func sortDiagnostics(ds Diagnostics) {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Message, b.Message),
		)
	})
}
