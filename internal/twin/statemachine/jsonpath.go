package statemachine

import (
	"fmt"
	"strconv"
	"strings"
)

// A path is a compiled ASL reference path: "$" or "$$" followed by
// ".name", "['name']" / "[\"name\"]" and "[index]" steps. This is the subset
// Step Functions calls reference paths (what InputPath, ResultPath, OutputPath,
// Variable and *Path fields accept). Wildcards, slices, filters and recursive
// descent are rejected when the definition is compiled, never silently
// misread.
type path struct {
	text    string
	context bool // "$$": the context object instead of the state's data
	steps   []step
}

type step struct {
	key   string
	index int // when isIndex
	isIdx bool
}

// compilePath parses a reference path.
func compilePath(text string) (*path, error) {
	p := &path{text: text}
	rest := text
	switch {
	case strings.HasPrefix(rest, "$$"):
		p.context, rest = true, rest[2:]
	case strings.HasPrefix(rest, "$"):
		rest = rest[1:]
	default:
		return nil, fmt.Errorf("path %q must start with $ or $$", text)
	}
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			name := rest[:end]
			if name == "" {
				return nil, fmt.Errorf("path %q: empty name after '.' (recursive descent is not supported)", text)
			}
			if strings.ContainsAny(name, "*@?()'\" ,:") {
				return nil, fmt.Errorf("path %q: %q is not a plain field name (wildcards and filters are not supported)", text, name)
			}
			p.steps = append(p.steps, step{key: name})
			rest = rest[end:]
		case '[':
			s, n, err := parseBracket(rest)
			if err != nil {
				return nil, fmt.Errorf("path %q: %w", text, err)
			}
			p.steps = append(p.steps, s)
			rest = rest[n:]
		default:
			return nil, fmt.Errorf("path %q: unexpected %q", text, rest[0])
		}
	}
	return p, nil
}

// parseBracket reads "['name']", "[\"name\"]" or "[12]" at the start of s and
// returns the step and the number of bytes read.
func parseBracket(s string) (step, int, error) {
	if len(s) < 3 {
		return step{}, 0, fmt.Errorf("unterminated %q", s)
	}
	if q := s[1]; q == '\'' || q == '"' {
		var b strings.Builder
		for i := 2; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case c == q:
				if i+1 >= len(s) || s[i+1] != ']' {
					return step{}, 0, fmt.Errorf("expected ] after quoted name in %q", s)
				}
				return step{key: b.String()}, i + 2, nil
			default:
				b.WriteByte(c)
			}
		}
		return step{}, 0, fmt.Errorf("unterminated quoted name in %q", s)
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return step{}, 0, fmt.Errorf("unterminated %q", s)
	}
	n, err := strconv.Atoi(s[1:end])
	if err != nil || n < 0 {
		return step{}, 0, fmt.Errorf("%q is not an array index (wildcards, slices and filters are not supported)", s[:end+1])
	}
	return step{index: n, isIdx: true}, end + 1, nil
}

func (p *path) String() string { return p.text }

// get returns the value at the path, and false when any step is missing.
func (p *path) get(data, ctx any) (any, bool) {
	v := data
	if p.context {
		v = ctx
	}
	for _, s := range p.steps {
		if s.isIdx {
			a, ok := v.([]any)
			if !ok || s.index >= len(a) {
				return nil, false
			}
			v = a[s.index]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[s.key]; !ok {
			return nil, false
		}
	}
	return v, true
}

// set returns a copy of data with value placed at the path, creating missing
// objects on the way; data itself is not modified (values are shared, never
// mutated, between states). It fails when a step meets a value of the wrong
// kind, which Step Functions reports as States.ResultPathMatchFailure.
func (p *path) set(data, value any) (any, error) {
	return setSteps(p.steps, data, value, p.text)
}

func setSteps(steps []step, data, value any, text string) (any, error) {
	if len(steps) == 0 {
		return value, nil
	}
	s := steps[0]
	if s.isIdx {
		a, ok := data.([]any)
		if !ok || s.index >= len(a) {
			return nil, fmt.Errorf("unable to apply ResultPath %q: no array element at [%d]", text, s.index)
		}
		child, err := setSteps(steps[1:], a[s.index], value, text)
		if err != nil {
			return nil, err
		}
		out := append([]any(nil), a...)
		out[s.index] = child
		return out, nil
	}
	m, ok := data.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("unable to apply ResultPath %q: the input at field %q is not an object", text, s.key)
	}
	existing, present := m[s.key]
	if !present {
		existing = map[string]any{}
	}
	child, err := setSteps(steps[1:], existing, value, text)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out[s.key] = child
	return out, nil
}
