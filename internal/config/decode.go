package config

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxNodeVisits bounds the work of walking a document: aliases let a small
// file name the same subtree many times, and untrusted input must not hang
// the loader.
const maxNodeVisits = 200_000

// maxDiagnostics bounds the report: past it the config is more wrong than
// a person reads, and an adversarial file could otherwise ask for millions.
const maxDiagnostics = 1000

// decoder walks the YAML node tree and collects every problem it meets.
type decoder struct {
	file     string
	diags    Diagnostics
	warnings Diagnostics
	visits   int
	aborted  bool
}

func (d *decoder) report(n *yaml.Node, path, format string, args ...any) {
	if len(d.diags) > maxDiagnostics {
		return
	}
	if len(d.diags) == maxDiagnostics {
		n, path, format, args = nil, "", "more than %d problems; fix these and run again", []any{maxDiagnostics}
	}
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	d.diags = append(d.diags, Diagnostic{File: d.file, Line: line, Col: col, Path: path, Message: fmt.Sprintf(format, args...)})
}

// visit counts a node toward maxNodeVisits and reports once when the budget is spent.
func (d *decoder) visit(n *yaml.Node) bool {
	if d.aborted {
		return false
	}
	d.visits++
	if d.visits > maxNodeVisits {
		d.aborted = true
		// Appended past the diagnostics cap: this one explains the others.
		d.diags = append(d.diags, Diagnostic{File: d.file, Line: n.Line, Col: n.Column,
			Message: fmt.Sprintf("document too large or too deeply aliased (over %d nodes); write the config out without repeated aliases", maxNodeVisits)})
		return false
	}
	return true
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func childPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// describe names a node's kind for "must be X, not Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!int":
		return "a number"
	case "!!float":
		return "a decimal number"
	case "!!bool":
		return "a boolean"
	case "!!str":
		return "a string"
	case "!!timestamp":
		return "a timestamp"
	}
	return "a " + strings.TrimPrefix(n.Tag, "!!")
}

// fields is one decoded mapping: its values by key, where it is, and which
// place of keysAt says what keys it may hold.
type fields struct {
	d     *decoder
	node  *yaml.Node
	path  string
	place string
	vals  map[string]*yaml.Node
}

// mapping decodes n as a mapping whose keys must be those of keysAt[place].
// Null values count as absent. A missing or null n gives empty fields.
func (d *decoder) mapping(n *yaml.Node, path, place string) fields {
	f := fields{d: d, node: n, path: path, place: place, vals: map[string]*yaml.Node{}}
	n = resolve(n)
	if isNull(n) || !d.visit(n) {
		return f
	}
	f.node = n
	if n.Kind != yaml.MappingNode {
		d.report(n, path, "must be a mapping of keys to values, not %s", describe(n))
		return f
	}
	valid := keysAt[place]
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			d.report(n.Content[i], path, "keys must be plain words, not %s", describe(n.Content[i]))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.report(k, childPath(path, k.Value), "duplicate key %q (first on line %d); keep one", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		if k.Tag == "!!merge" {
			d.report(k, path, "YAML merge keys (<<) are not supported; write the keys out (a whole value can still be an alias: key: *anchor)")
			continue
		}
		if msg, retired := retiredKeys[place][k.Value]; retired {
			d.report(k, childPath(path, k.Value), "%s", msg)
			continue
		}
		if !slices.Contains(valid, k.Value) {
			d.report(k, childPath(path, k.Value), "%s", unknownKeyMessage(k.Value, valid))
			continue
		}
		if isNull(v) {
			continue
		}
		f.vals[k.Value] = v
	}
	return f
}

func (f fields) child(key string) string { return childPath(f.path, key) }

// has reports whether key is set to a non-null value.
func (f fields) has(key string) bool { return f.vals[key] != nil }

// require reports a missing required key at the mapping that lacks it.
func (f fields) require(key, hint string) bool {
	if f.has(key) {
		return true
	}
	f.d.report(f.node, f.child(key), "required; %s", hint)
	return false
}

// sub decodes a nested mapping.
func (f fields) sub(key string) fields {
	return f.d.mapping(f.vals[key], f.child(key), childPath(f.place, key))
}

func (f fields) typeError(n *yaml.Node, key, want string) {
	msg := fmt.Sprintf("must be %s, not %s", want, describe(n))
	if want == "a string" && n.Kind == yaml.ScalarNode {
		msg += fmt.Sprintf("; quote it: %q", n.Value)
	}
	f.d.report(n, f.child(key), "%s", msg)
}

// scalar returns key's node when it is a scalar with one of tags.
func (f fields) scalar(key, want string, tags ...string) *yaml.Node {
	n := f.vals[key]
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && slices.Contains(tags, n.Tag) {
		return n
	}
	f.typeError(n, key, want)
	return nil
}

func (f fields) str(key string, dst *string) *yaml.Node {
	n := f.scalar(key, "a string", "!!str")
	if n != nil {
		*dst = n.Value
	}
	return n
}

func (f fields) integer(key string, dst *int) *yaml.Node {
	n := f.scalar(key, "a whole number", "!!int")
	if n == nil {
		return nil
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil || v < math.MinInt32 || v > math.MaxInt32 {
		f.d.report(n, f.child(key), "%q is not a usable whole number; write it in decimal, e.g. 10", n.Value)
		return nil
	}
	*dst = int(v)
	return n
}

func (f fields) number(key string, dst *float64) *yaml.Node {
	n := f.scalar(key, "a number", "!!int", "!!float")
	if n == nil {
		return nil
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		f.d.report(n, f.child(key), "%q is not a finite number; write it like 2 or 1.5", n.Value)
		return nil
	}
	*dst = v
	return n
}

func (f fields) boolean(key string, dst *bool) *yaml.Node {
	n := f.scalar(key, "true or false", "!!bool")
	if n == nil {
		return nil
	}
	v, err := strconv.ParseBool(n.Value)
	if err != nil {
		f.d.report(n, f.child(key), "%q is not a boolean; write true or false", n.Value)
		return nil
	}
	*dst = v
	return n
}

func (f fields) duration(key string, dst *time.Duration) *yaml.Node {
	n := f.vals[key]
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		f.d.report(n, f.child(key), "must be a duration like 30s, 5m, 1h30m or 4d, not %s; add a unit", describe(n))
		return nil
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		f.d.report(n, f.child(key), "invalid duration %q (%v); write it like 30s, 5m, 1h30m or 4d", n.Value, err)
		return nil
	}
	*dst = v
	return n
}

// durationRange decodes a duration and checks lo ≤ v ≤ hi, whole seconds when asked.
func (f fields) durationRange(key string, dst *time.Duration, lo, hi time.Duration, wholeSeconds bool, what string) *yaml.Node {
	var v time.Duration
	n := f.duration(key, &v)
	if n == nil {
		return nil
	}
	if v < lo || v > hi {
		f.d.report(n, f.child(key), "%s is %s; it must be between %s and %s (%s)", key, formatDuration(v), formatDuration(lo), formatDuration(hi), what)
		return nil
	}
	if wholeSeconds && v%time.Second != 0 {
		f.d.report(n, f.child(key), "%s is %s; use whole seconds (AWS counts this setting in seconds)", key, formatDuration(v))
		return nil
	}
	*dst = v
	return n
}

// intRange decodes an integer and checks lo ≤ v ≤ hi.
func (f fields) intRange(key string, dst *int, lo, hi int, what string) *yaml.Node {
	var v int
	n := f.integer(key, &v)
	if n == nil {
		return nil
	}
	if v < lo || v > hi {
		f.d.report(n, f.child(key), "%s is %d; it must be between %d and %d (%s)", key, v, lo, hi, what)
		return nil
	}
	*dst = v
	return n
}

// enum decodes a string that must be one of allowed, suggesting the closest.
func (f fields) enum(key string, allowed []string, dst *string) *yaml.Node {
	var v string
	n := f.str(key, &v)
	if n == nil {
		return nil
	}
	if !slices.Contains(allowed, v) {
		f.d.report(n, f.child(key), "%s", enumMessage(v, allowed))
		return nil
	}
	*dst = v
	return n
}

func enumMessage(v string, allowed []string) string {
	if s, ok := suggest(v, allowed); ok {
		return fmt.Sprintf("%q is not one of %s; did you mean %q?", v, strings.Join(allowed, ", "), s)
	}
	return fmt.Sprintf("%q is not one of %s; use one of them", v, strings.Join(allowed, ", "))
}

// pairs decodes a free-form mapping (header name → value), keys in file order.
func (d *decoder) pairs(n *yaml.Node, path string) (keys, vals []*yaml.Node) {
	n = resolve(n)
	if isNull(n) || !d.visit(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		d.report(n, path, "must be a mapping of header names to values, not %s", describe(n))
		return nil, nil
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || v == nil || !d.visit(k) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.report(k, path, "keys must be header names, not %s", describe(k))
			continue
		}
		folded := strings.ToLower(k.Value)
		if first, dup := seen[folded]; dup {
			d.report(k, childPath(path, k.Value), "header %q is set twice (first on line %d; header names ignore case); keep one", k.Value, first.Line)
			continue
		}
		seen[folded] = k
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals
}

// list decodes a sequence, its items resolved.
func (d *decoder) list(n *yaml.Node, path, want string) []*yaml.Node {
	n = resolve(n)
	if isNull(n) || !d.visit(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.report(n, path, "must be a list of %s, not %s", want, describe(n))
		return nil
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		if !d.visit(it) {
			return nil
		}
		items = append(items, resolve(it))
	}
	return items
}

// strList decodes a list of strings; items of other kinds are reported and skipped.
func (d *decoder) strList(n *yaml.Node, path, want, itemWant string) (vals []string, nodes []*yaml.Node) {
	for i, it := range d.list(n, path, want) {
		if it == nil || it.Kind != yaml.ScalarNode || it.Tag != "!!str" {
			if it != nil {
				d.report(it, indexPath(path, i), "must be %s, not %s", itemWant, describe(it))
			}
			continue
		}
		vals, nodes = append(vals, it.Value), append(nodes, it)
	}
	return vals, nodes
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into a diagnostic.
func (d *decoder) syntaxError(err error) {
	msg := err.Error()
	line := 1
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		if l, convErr := strconv.Atoi(m[1]); convErr == nil {
			line, msg = l, m[2]
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	d.diags = append(d.diags, Diagnostic{File: d.file, Line: line, Col: 1, Message: "YAML syntax: " + msg + "; fix the indentation or quoting there"})
}
