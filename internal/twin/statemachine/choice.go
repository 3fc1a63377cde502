package statemachine

import (
	"encoding/json"
	"fmt"

	"github.com/webhookq/webhookq/internal/generate/asl"
)

// rule is a compiled Choice rule.
type rule struct {
	variable *path
	test     comparison
	and, or  []*rule
	not      *rule
	next     string
}

// comparison tests a variable's value; present is false when the variable's
// path matched nothing (only IsPresent accepts that).
type comparison struct {
	name    string
	operand any   // the literal operand
	path    *path // the operand of a *Path comparator
	fn      func(v, operand any) bool
}

func compileRule(r asl.ChoiceRule, top bool) (*rule, error) {
	out := &rule{next: r.Next}
	if top && r.Next == "" {
		return nil, fmt.Errorf("a top-level choice rule needs Next")
	}
	if !top && r.Next != "" {
		return nil, fmt.Errorf("a nested choice rule must not have Next")
	}
	switch {
	case len(r.And) > 0 || len(r.Or) > 0:
		for _, sub := range r.And {
			c, err := compileRule(sub, false)
			if err != nil {
				return nil, fmt.Errorf("And: %w", err)
			}
			out.and = append(out.and, c)
		}
		for _, sub := range r.Or {
			c, err := compileRule(sub, false)
			if err != nil {
				return nil, fmt.Errorf("Or: %w", err)
			}
			out.or = append(out.or, c)
		}
		return out, nil
	case r.Not != nil:
		c, err := compileRule(*r.Not, false)
		if err != nil {
			return nil, fmt.Errorf("Not: %w", err)
		}
		out.not = c
		return out, nil
	}
	if r.Variable == "" {
		return nil, fmt.Errorf("a choice rule needs Variable, And, Or or Not")
	}
	v, err := compilePath(r.Variable)
	if err != nil {
		return nil, fmt.Errorf("Variable: %w", err)
	}
	out.variable = v
	var tests []comparison
	add := func(name string, operand any, fn func(v, operand any) bool) {
		tests = append(tests, comparison{name: name, operand: operand, fn: fn})
	}
	addPath := func(name, p string, fn func(v, operand any) bool) error {
		cp, err := compilePath(p)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		tests = append(tests, comparison{name: name, path: cp, fn: fn})
		return nil
	}
	if r.StringEquals != nil {
		add("StringEquals", *r.StringEquals, stringEquals)
	}
	if r.StringEqualsPath != "" {
		if err := addPath("StringEqualsPath", r.StringEqualsPath, stringEquals); err != nil {
			return nil, err
		}
	}
	if r.StringMatches != nil {
		add("StringMatches", *r.StringMatches, stringMatches)
	}
	if r.BooleanEquals != nil {
		add("BooleanEquals", *r.BooleanEquals, booleanEquals)
	}
	if r.BooleanEqualsPath != "" {
		if err := addPath("BooleanEqualsPath", r.BooleanEqualsPath, booleanEquals); err != nil {
			return nil, err
		}
	}
	numeric := []struct {
		name string
		v    *float64
		cmp  func(a, b float64) bool
	}{
		{"NumericEquals", r.NumericEquals, func(a, b float64) bool { return a == b }},
		{"NumericLessThan", r.NumericLessThan, func(a, b float64) bool { return a < b }},
		{"NumericGreaterThan", r.NumericGreaterThan, func(a, b float64) bool { return a > b }},
		{"NumericLessThanEquals", r.NumericLessThanEquals, func(a, b float64) bool { return a <= b }},
		{"NumericGreaterThanEquals", r.NumericGreaterThanEquals, func(a, b float64) bool { return a >= b }},
	}
	for _, n := range numeric {
		if n.v != nil {
			add(n.name, json.Number(formatNumber(*n.v)), numericTest(n.cmp))
		}
	}
	if r.NumericEqualsPath != "" {
		if err := addPath("NumericEqualsPath", r.NumericEqualsPath, numericTest(func(a, b float64) bool { return a == b })); err != nil {
			return nil, err
		}
	}
	typeTests := []struct {
		name string
		v    *bool
		is   func(v any) bool
	}{
		{"IsNull", r.IsNull, func(v any) bool { return v == nil }},
		{"IsBoolean", r.IsBoolean, func(v any) bool { _, ok := v.(bool); return ok }},
		{"IsString", r.IsString, func(v any) bool { _, ok := v.(string); return ok }},
		{"IsNumeric", r.IsNumeric, func(v any) bool { _, ok := v.(json.Number); return ok }},
	}
	for _, t := range typeTests {
		if t.v != nil {
			is := t.is
			add(t.name, *t.v, func(v, want any) bool { return is(v) == want.(bool) })
		}
	}
	if r.IsPresent != nil {
		// Evaluated specially: it is the one test a missing variable passes.
		add("IsPresent", *r.IsPresent, nil)
	}
	if len(tests) != 1 {
		return nil, fmt.Errorf("choice rule on %s needs exactly one comparison operator, has %d", r.Variable, len(tests))
	}
	out.test = tests[0]
	return out, nil
}

// eval decides the rule against the Choice state's effective input.
func (r *rule) eval(state string, data, ctx any) (bool, *Error) {
	switch {
	case r.and != nil:
		for _, sub := range r.and {
			ok, err := sub.eval(state, data, ctx)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.or != nil:
		for _, sub := range r.or {
			ok, err := sub.eval(state, data, ctx)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.not != nil:
		ok, err := r.not.eval(state, data, ctx)
		return !ok && err == nil, err
	}
	v, present := r.variable.get(data, ctx)
	if r.test.name == "IsPresent" {
		return present == r.test.operand.(bool), nil
	}
	if !present {
		return false, runtimeErrorf("Invalid path '%s': The choice state '%s' could not find the path in the input '%s'", r.variable, state, compactJSON(data))
	}
	operand := r.test.operand
	if r.test.path != nil {
		var ok bool
		if operand, ok = r.test.path.get(data, ctx); !ok {
			return false, runtimeErrorf("Invalid path '%s' in %s: The choice state '%s' could not find the path in the input '%s'", r.test.path, r.test.name, state, compactJSON(data))
		}
	}
	return r.test.fn(v, operand), nil
}

// A comparator whose variable has the wrong type is false, not an error, as
// in Step Functions.

func stringEquals(v, operand any) bool {
	a, ok1 := v.(string)
	b, ok2 := operand.(string)
	return ok1 && ok2 && a == b
}

func booleanEquals(v, operand any) bool {
	a, ok1 := v.(bool)
	b, ok2 := operand.(bool)
	return ok1 && ok2 && a == b
}

func numericTest(cmp func(a, b float64) bool) func(v, operand any) bool {
	return func(v, operand any) bool {
		a, ok1 := v.(json.Number)
		b, ok2 := operand.(json.Number)
		if !ok1 || !ok2 {
			return false
		}
		x, err1 := a.Float64()
		y, err2 := b.Float64()
		return err1 == nil && err2 == nil && cmp(x, y)
	}
}

// stringMatches implements StringMatches: '*' matches any run of characters,
// "\*" a literal star and "\\" a literal backslash.
func stringMatches(v, operand any) bool {
	s, ok1 := v.(string)
	pattern, ok2 := operand.(string)
	return ok1 && ok2 && wildcardMatch(pattern, s)
}

func wildcardMatch(pattern, s string) bool {
	// Iterative glob match with backtracking to the last star.
	var starP, starS = -1, 0
	p, i := 0, 0
	for i < len(s) {
		if p < len(pattern) {
			c, lit, width := pattern[p], true, 1
			if c == '\\' && p+1 < len(pattern) {
				c, width = pattern[p+1], 2
			} else if c == '*' {
				lit = false
			}
			if !lit {
				starP, starS = p, i
				p++
				continue
			}
			if c == s[i] {
				p += width
				i++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		p, i = starP+1, starS
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
