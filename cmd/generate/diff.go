package main

import (
	"fmt"
	"strings"
)

// contextLines is how many unchanged lines surround each change in a hunk.
const contextLines = 3

// maxLCSCells bounds the line-matching table; past it the changed middle of
// a file is shown as one removal and one addition, which is still a correct
// (if less minimal) diff.
const maxLCSCells = 4_000_000

// unifiedDiff returns a unified-style diff from old to new, labelled with the
// two names, or "" when they are equal.
func unifiedDiff(oldName, newName, oldText, newText string) string {
	if oldText == newText {
		return ""
	}
	a, b := splitLines(oldText), splitLines(newText)
	ops := diffLines(a, b)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
	for start := 0; start < len(ops); {
		// Find the next change, then grow the hunk while changes are close.
		for start < len(ops) && ops[start].kind == ' ' {
			start++
		}
		if start == len(ops) {
			break
		}
		from := max(0, start-contextLines)
		end := start
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*contextLines {
				end = min(len(ops), end+contextLines)
				break
			}
			end = run
		}
		writeHunk(&out, ops, from, end)
		start = end
	}
	return out.String()
}

type lineOp struct {
	kind byte // ' ', '-' or '+'
	text string
	// aLine and bLine are the 1-based line numbers before the op.
	aLine, bLine int
}

func writeHunk(out *strings.Builder, ops []lineOp, from, to int) {
	var aCount, bCount int
	for _, op := range ops[from:to] {
		if op.kind != '+' {
			aCount++
		}
		if op.kind != '-' {
			bCount++
		}
	}
	aStart, bStart := ops[from].aLine, ops[from].bLine
	if aCount == 0 {
		aStart--
	}
	if bCount == 0 {
		bStart--
	}
	fmt.Fprintf(out, "@@ -%d,%d +%d,%d @@\n", aStart, aCount, bStart, bCount)
	for _, op := range ops[from:to] {
		out.WriteByte(op.kind)
		out.WriteString(op.text)
		out.WriteByte('\n')
	}
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// diffLines matches the common prefix and suffix, then the longest common
// subsequence of what is left.
func diffLines(a, b []string) []lineOp {
	var ops []lineOp
	ai, bi := 1, 1
	emit := func(kind byte, text string) {
		ops = append(ops, lineOp{kind, text, ai, bi})
		switch kind {
		case ' ':
			ai++
			bi++
		case '-':
			ai++
		case '+':
			bi++
		}
	}
	prefix := 0
	for prefix < len(a) && prefix < len(b) && a[prefix] == b[prefix] {
		prefix++
	}
	suffix := 0
	for suffix < len(a)-prefix && suffix < len(b)-prefix && a[len(a)-1-suffix] == b[len(b)-1-suffix] {
		suffix++
	}
	for _, l := range a[:prefix] {
		emit(' ', l)
	}
	am, bm := a[prefix:len(a)-suffix], b[prefix:len(b)-suffix]
	if len(am)*len(bm) > maxLCSCells {
		for _, l := range am {
			emit('-', l)
		}
		for _, l := range bm {
			emit('+', l)
		}
	} else {
		// lcs[i][j] is the LCS length of am[i:] and bm[j:].
		lcs := make([][]int32, len(am)+1)
		for i := range lcs {
			lcs[i] = make([]int32, len(bm)+1)
		}
		for i := len(am) - 1; i >= 0; i-- {
			for j := len(bm) - 1; j >= 0; j-- {
				if am[i] == bm[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(am) || j < len(bm) {
			switch {
			case i < len(am) && j < len(bm) && am[i] == bm[j]:
				emit(' ', am[i])
				i++
				j++
			case i < len(am) && (j == len(bm) || lcs[i+1][j] >= lcs[i][j+1]):
				emit('-', am[i])
				i++
			default:
				emit('+', bm[j])
				j++
			}
		}
	}
	for _, l := range a[len(a)-suffix:] {
		emit(' ', l)
	}
	return ops
}
