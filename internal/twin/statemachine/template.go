package statemachine

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/webhookq/webhookq/internal/webhook"
)

// A template is a compiled payload template (Parameters, ResultSelector): a
// JSON value in which a key ending in ".$" takes its value from a path or an
// intrinsic function call, evaluated against the state's data and the
// context object.
type template interface {
	eval(data, ctx any) (any, *Error)
}

type literal struct{ v any }

func (l literal) eval(any, any) (any, *Error) { return l.v, nil }

type objectTemplate []templateField

type templateField struct {
	key string
	tpl template
}

func (o objectTemplate) eval(data, ctx any) (any, *Error) {
	out := make(map[string]any, len(o))
	for _, f := range o {
		v, err := f.tpl.eval(data, ctx)
		if err != nil {
			return nil, err
		}
		out[f.key] = v
	}
	return out, nil
}

type arrayTemplate []template

func (a arrayTemplate) eval(data, ctx any) (any, *Error) {
	out := make([]any, len(a))
	for i, t := range a {
		v, err := t.eval(data, ctx)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// pathField is a "key.$": "$.path" field.
type pathField struct {
	field string
	p     *path
}

func (f pathField) eval(data, ctx any) (any, *Error) {
	v, ok := f.p.get(data, ctx)
	if !ok {
		in := data
		if f.p.context {
			in = ctx
		}
		return nil, runtimeErrorf("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", f.p, f.field, compactJSON(in))
	}
	return v, nil
}

// intrinsicField is a "key.$": "States.Function(...)" field.
type intrinsicField struct {
	field string
	call  *call
}

func (f intrinsicField) eval(data, ctx any) (any, *Error) {
	v, err := f.call.eval(data, ctx)
	if err != nil {
		return nil, &Error{Name: err.Name, Cause: fmt.Sprintf("The function for the field '%s' failed: %s", f.field, err.Cause)}
	}
	return v, nil
}

// compileTemplate compiles a decoded Parameters or ResultSelector value.
func compileTemplate(v any) (template, error) {
	switch v := v.(type) {
	case map[string]any:
		fields := make(objectTemplate, 0, len(v))
		for k, raw := range v {
			name, dynamic := strings.CutSuffix(k, ".$")
			if !dynamic {
				t, err := compileTemplate(raw)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				fields = append(fields, templateField{key: k, tpl: t})
				continue
			}
			s, ok := raw.(string)
			if !ok {
				return nil, fmt.Errorf("%s: the value of a field ending in .$ must be a path or an intrinsic function", k)
			}
			t, err := compileDynamic(name, s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			fields = append(fields, templateField{key: name, tpl: t})
		}
		return fields, nil
	case []any:
		items := make(arrayTemplate, len(v))
		for i, raw := range v {
			t, err := compileTemplate(raw)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			items[i] = t
		}
		return items, nil
	default:
		return literal{normalize(v)}, nil
	}
}

// compileDynamic compiles the value of a ".$" field: a path or an intrinsic.
func compileDynamic(field, s string) (template, error) {
	if strings.HasPrefix(s, "$") {
		p, err := compilePath(s)
		if err != nil {
			return nil, err
		}
		return pathField{field: field, p: p}, nil
	}
	c, err := parseIntrinsic(s)
	if err != nil {
		return nil, err
	}
	return intrinsicField{field: field, call: c}, nil
}

// normalize turns float64 numbers of a definition decoded by encoding/json
// into json.Number, the representation every value in an execution uses.
func normalize(v any) any {
	switch v := v.(type) {
	case float64:
		return json.Number(formatNumber(v))
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = normalize(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x)
		}
		return out
	default:
		return v
	}
}

func compactJSON(v any) string {
	b, err := webhook.CompactJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
