package statemachine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/webhookq/webhookq/internal/webhook"
)

// call is a parsed intrinsic function call, e.g.
// States.Format('attempt {} of {}', $.n, 5).
type call struct {
	name string
	fn   intrinsic
	args []argument
}

// An argument of an intrinsic: a literal, a *path, or a nested *call.
type argument any

type intrinsic func(args []any) (any, error)

// intrinsics are the functions the runner implements: the ones webhookq's
// generator may emit and their cheap companions.
var intrinsics = map[string]intrinsic{
	"States.Format":        statesFormat,
	"States.StringToJson":  statesStringToJSON,
	"States.JsonToString":  statesJSONToString,
	"States.Array":         statesArray,
	"States.ArrayLength":   statesArrayLength,
	"States.ArrayGetItem":  statesArrayGetItem,
	"States.MathAdd":       statesMathAdd,
	"States.Base64Encode":  statesBase64Encode,
	"States.Base64Decode":  statesBase64Decode,
	"States.StringSplit":   statesStringSplit,
	"States.ArrayContains": statesArrayContains,
}

func (c *call) eval(data, ctx any) (any, *Error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch a := a.(type) {
		case *path:
			v, ok := a.get(data, ctx)
			if !ok {
				in := data
				if a.context {
					in = ctx
				}
				return nil, runtimeErrorf("The JsonPath argument %s of %s could not be found in the input '%s'", a, c.name, compactJSON(in))
			}
			args[i] = v
		case *call:
			v, err := a.eval(data, ctx)
			if err != nil {
				return nil, err
			}
			args[i] = v
		default:
			args[i] = a
		}
	}
	v, err := c.fn(args)
	if err != nil {
		return nil, &Error{Name: ErrIntrinsicFailure, Cause: fmt.Sprintf("Invalid arguments in %s: %v", c.name, err)}
	}
	return v, nil
}

// parseIntrinsic parses a whole intrinsic function expression.
func parseIntrinsic(s string) (*call, error) {
	p := intrinsicParser{src: s}
	c, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("intrinsic function %q: %w", s, err)
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("intrinsic function %q: unexpected %q after the call", s, p.src[p.pos:])
	}
	return c, nil
}

type intrinsicParser struct {
	src string
	pos int
}

func (p *intrinsicParser) skipSpace() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

func (p *intrinsicParser) call() (*call, error) {
	open := strings.IndexByte(p.src[p.pos:], '(')
	if open < 0 {
		return nil, fmt.Errorf("expected a function call at %q", p.src[p.pos:])
	}
	name := strings.TrimSpace(p.src[p.pos : p.pos+open])
	fn, ok := intrinsics[name]
	if !ok {
		return nil, fmt.Errorf("unknown or unsupported function %q", name)
	}
	p.pos += open + 1
	c := &call{name: name, fn: fn}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
		return c, nil
	}
	for {
		p.skipSpace()
		a, err := p.argument()
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, fmt.Errorf("missing ) after the arguments of %s", name)
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return c, nil
		default:
			return nil, fmt.Errorf("unexpected %q in the arguments of %s", p.src[p.pos], name)
		}
	}
}

func (p *intrinsicParser) argument() (argument, error) {
	rest := p.src[p.pos:]
	switch {
	case rest == "":
		return nil, fmt.Errorf("missing argument")
	case rest[0] == '\'':
		return p.stringLiteral()
	case rest[0] == '$':
		end := p.pathEnd()
		pth, err := compilePath(p.src[p.pos:end])
		if err != nil {
			return nil, err
		}
		p.pos = end
		return pth, nil
	case strings.HasPrefix(rest, "States."):
		return p.call()
	}
	end := strings.IndexAny(rest, ",) ")
	if end < 0 {
		end = len(rest)
	}
	word := rest[:end]
	p.pos += end
	switch word {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if _, err := strconv.ParseFloat(word, 64); err != nil {
		return nil, fmt.Errorf("invalid argument %q", word)
	}
	return json.Number(word), nil
}

// pathEnd finds where a path argument ends: the first ',' or ')' outside a
// bracketed, quoted name.
func (p *intrinsicParser) pathEnd() int {
	var quote byte
	for i := p.pos; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == ',' || c == ')' || c == ' ':
			return i
		}
	}
	return len(p.src)
}

// stringLiteral reads a single-quoted string; \' \\ \{ \} are escapes, and
// the braces keep their backslash so States.Format can tell them from
// placeholders.
func (p *intrinsicParser) stringLiteral() (argument, error) {
	var b strings.Builder
	for i := p.pos + 1; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case c == '\\' && i+1 < len(p.src):
			i++
			if n := p.src[i]; n == '{' || n == '}' {
				b.WriteByte('\\')
			}
			b.WriteByte(p.src[i])
		case c == '\'':
			p.pos = i + 1
			return formatString(b.String()), nil
		default:
			b.WriteByte(c)
		}
	}
	return nil, fmt.Errorf("unterminated string literal")
}

// formatString is a string literal that may still hold escaped braces.
type formatString string

func literalString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case formatString:
		return unescapeBraces(string(v)), true
	}
	return "", false
}

func unescapeBraces(s string) string {
	return strings.NewReplacer(`\{`, "{", `\}`, "}").Replace(s)
}

func statesFormat(args []any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("the template argument is missing")
	}
	var tpl string
	switch t := args[0].(type) {
	case formatString:
		tpl = string(t)
	case string:
		tpl = t
	default:
		return nil, fmt.Errorf("the template must be a string")
	}
	values := args[1:]
	var b strings.Builder
	used := 0
	for i := 0; i < len(tpl); i++ {
		switch {
		case tpl[i] == '\\' && i+1 < len(tpl) && (tpl[i+1] == '{' || tpl[i+1] == '}'):
			i++
			b.WriteByte(tpl[i])
		case tpl[i] == '{' && i+1 < len(tpl) && tpl[i+1] == '}':
			if used >= len(values) {
				return nil, fmt.Errorf("the template has more {} placeholders than arguments")
			}
			s, err := formatValue(values[used])
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
			used++
			i++
		default:
			b.WriteByte(tpl[i])
		}
	}
	if used != len(values) {
		return nil, fmt.Errorf("the template has %d {} placeholders but %d arguments", used, len(values))
	}
	return b.String(), nil
}

func formatValue(v any) (string, error) {
	if s, ok := literalString(v); ok {
		return s, nil
	}
	switch v := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return v.String(), nil
	}
	return "", fmt.Errorf("States.Format arguments must be strings, numbers, booleans or null, not %s", kind(v))
}

func statesStringToJSON(args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want 1 argument, got %d", len(args))
	}
	s, ok := literalString(args[0])
	if !ok {
		return nil, fmt.Errorf("the argument must be a string, not %s", kind(args[0]))
	}
	return decodeJSON([]byte(s))
}

func statesJSONToString(args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want 1 argument, got %d", len(args))
	}
	v := args[0]
	if s, ok := literalString(v); ok {
		v = s
	}
	b, err := webhook.CompactJSON(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func statesArray(args []any) (any, error) {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = plain(a)
	}
	return out, nil
}

func statesArrayLength(args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want 1 argument, got %d", len(args))
	}
	a, ok := args[0].([]any)
	if !ok {
		return nil, fmt.Errorf("the argument must be an array, not %s", kind(args[0]))
	}
	return json.Number(strconv.Itoa(len(a))), nil
}

func statesArrayGetItem(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("want 2 arguments, got %d", len(args))
	}
	a, ok := args[0].([]any)
	if !ok {
		return nil, fmt.Errorf("the first argument must be an array, not %s", kind(args[0]))
	}
	i, err := integerArg(args[1])
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(a) {
		return nil, fmt.Errorf("index %d is out of bounds for an array of length %d", i, len(a))
	}
	return a[i], nil
}

func statesArrayContains(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("want 2 arguments, got %d", len(args))
	}
	a, ok := args[0].([]any)
	if !ok {
		return nil, fmt.Errorf("the first argument must be an array, not %s", kind(args[0]))
	}
	want, err := webhook.CompactJSON(plain(args[1]))
	if err != nil {
		return nil, err
	}
	for _, item := range a {
		got, err := webhook.CompactJSON(item)
		if err == nil && bytes.Equal(got, want) {
			return true, nil
		}
	}
	return false, nil
}

func statesMathAdd(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("want 2 arguments, got %d", len(args))
	}
	a, err := integerArg(args[0])
	if err != nil {
		return nil, err
	}
	b, err := integerArg(args[1])
	if err != nil {
		return nil, err
	}
	return json.Number(strconv.Itoa(a + b)), nil
}

func statesBase64Encode(args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want 1 argument, got %d", len(args))
	}
	s, ok := literalString(args[0])
	if !ok {
		return nil, fmt.Errorf("the argument must be a string, not %s", kind(args[0]))
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func statesBase64Decode(args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want 1 argument, got %d", len(args))
	}
	s, ok := literalString(args[0])
	if !ok {
		return nil, fmt.Errorf("the argument must be a string, not %s", kind(args[0]))
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func statesStringSplit(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("want 2 arguments, got %d", len(args))
	}
	s, ok1 := literalString(args[0])
	sep, ok2 := literalString(args[1])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("both arguments must be strings")
	}
	// Step Functions splits on any of the delimiter's characters and drops empty parts.
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(sep, r) })
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func integerArg(v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("want an integer, not %s", kind(v))
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, fmt.Errorf("want an integer, not %s", n)
	}
	return int(f), nil
}

// plain turns a string literal argument into a string value.
func plain(v any) any {
	if s, ok := literalString(v); ok {
		return s
	}
	return v
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string, formatString:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
