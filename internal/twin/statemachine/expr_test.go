package statemachine

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
)

func TestPathGet(t *testing.T) {
	t.Parallel()
	data := mustDecode(t, `{"a":{"b":[10,{"c":"x"}],"d e":true,"n":null},"k.l":1}`)
	ctx := mustDecode(t, `{"State":{"RetryCount":2}}`)
	cases := []struct {
		path  string
		want  string // JSON; "" means missing
		isCtx bool
	}{
		{"$", `{"a":{"b":[10,{"c":"x"}],"d e":true,"n":null},"k.l":1}`, false},
		{"$.a.b[0]", `10`, false},
		{"$.a.b[1].c", `"x"`, false},
		{"$['a']['d e']", `true`, false},
		{`$["k.l"]`, `1`, false},
		{"$.a.n", `null`, false},
		{"$.a.b[2]", "", false},
		{"$.a.b.c", "", false},
		{"$.a.zz", "", false},
		{"$$.State.RetryCount", `2`, true},
		{"$$.State.Nope", "", true},
	}
	for _, tc := range cases {
		p, err := compilePath(tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if p.context != tc.isCtx {
			t.Errorf("%s: context %v", tc.path, p.context)
		}
		v, ok := p.get(data, ctx)
		got := ""
		if ok {
			got = compactJSON(v)
		}
		if got != tc.want {
			t.Errorf("%s = %s, want %s", tc.path, got, tc.want)
		}
	}
}

func TestPathCompileErrors(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "a.b", "$.", "$..a", "$.a[*]", "$.a.*", "$.a[?(@.x)]", "$.a[1:2]", "$.a['x", "$.a[-1]", "$[", "$x"} {
		if _, err := compilePath(p); err == nil {
			t.Errorf("compilePath(%q) accepted", p)
		}
	}
}

func TestPathSetCopiesOnWrite(t *testing.T) {
	t.Parallel()
	in := mustDecode(t, `{"a":{"b":1},"l":[1,2]}`)
	before := compactJSON(in)
	cases := []struct{ path, value, want string }{
		{"$", `7`, `7`},
		{"$.a.c", `2`, `{"a":{"b":1,"c":2},"l":[1,2]}`},
		{"$.x.y.z", `true`, `{"a":{"b":1},"l":[1,2],"x":{"y":{"z":true}}}`},
		{"$.l[1]", `"r"`, `{"a":{"b":1},"l":[1,"r"]}`},
		{"$.a.b.c", ``, ``},
		{"$.l[5]", ``, ``},
	}
	for _, tc := range cases {
		p, err := compilePath(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var value any
		if tc.value != "" {
			value = mustDecode(t, tc.value)
		}
		out, err := p.set(in, value)
		if tc.want == "" {
			if err == nil {
				t.Errorf("set %s: accepted", tc.path)
			}
			continue
		}
		if err != nil || compactJSON(out) != tc.want {
			t.Errorf("set %s = %s (%v), want %s", tc.path, compactJSON(out), err, tc.want)
		}
	}
	if compactJSON(in) != before {
		t.Errorf("set modified its input: %s", compactJSON(in))
	}
}

func TestRetryDelayFormula(t *testing.T) {
	t.Parallel()
	iptr := func(i int) *int { return &i }
	fptr := func(f float64) *float64 { return &f }
	cases := []struct {
		name string
		r    asl.Retrier
		n    int
		u    float64
		want time.Duration
	}{
		{"defaults: 1 s, rate 2, first retry", asl.Retrier{}, 1, 0.9, time.Second},
		{"defaults: third retry", asl.Retrier{}, 3, 0.9, 4 * time.Second},
		{"interval 2 rate 2, retry 4", asl.Retrier{IntervalSeconds: iptr(2), BackoffRate: fptr(2)}, 4, 0, 16 * time.Second},
		{"capped at MaxDelaySeconds", asl.Retrier{IntervalSeconds: iptr(2), BackoffRate: fptr(2), MaxDelaySeconds: 30}, 6, 0, 30 * time.Second},
		{"rate 1.5", asl.Retrier{IntervalSeconds: iptr(2), BackoffRate: fptr(1.5)}, 3, 0, 4500 * time.Millisecond},
		{"rate 1 is constant", asl.Retrier{IntervalSeconds: iptr(5), BackoffRate: fptr(1)}, 9, 0, 5 * time.Second},
		{"NONE ignores the draw", asl.Retrier{JitterStrategy: "NONE"}, 2, 0.1, 2 * time.Second},
		{"FULL scales by the draw", asl.Retrier{IntervalSeconds: iptr(2), BackoffRate: fptr(2), JitterStrategy: "FULL"}, 3, 0.25, 2 * time.Second},
		{"FULL draws below the cap", asl.Retrier{IntervalSeconds: iptr(2), BackoffRate: fptr(2), MaxDelaySeconds: 10, JitterStrategy: "FULL"}, 10, 0.5, 5 * time.Second},
		{"FULL at zero", asl.Retrier{JitterStrategy: "FULL"}, 1, 0, 0},
		{"uncapped overflow saturates", asl.Retrier{IntervalSeconds: iptr(99999999), BackoffRate: fptr(10)}, 40, 0, time.Duration(math.MaxInt64)},
	}
	for _, tc := range cases {
		if got := RetryDelay(tc.r, tc.n, tc.u); got != tc.want {
			t.Errorf("%s: RetryDelay = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestIntrinsics(t *testing.T) {
	t.Parallel()
	data := mustDecode(t, `{"s":"a,b,,c","n":4,"arr":[1,"x",{"k":true}],"doc":"{\"z\":1}","b64":"aGk=","nul":null}`)
	cases := []struct{ expr, want, wantErr string }{
		{`States.Format('x={} y={} z={} w={}', $.n, $.s, true, $.nul)`, `"x=4 y=a,b,,c z=true w=null"`, ""},
		{`States.Format('it\'s \{literal\} \\ {}', 'ok')`, `"it's {literal} \\ ok"`, ""},
		{`States.Format('{} {}', 1)`, ``, ErrIntrinsicFailure},
		{`States.Format('{}', $.arr)`, ``, ErrIntrinsicFailure},
		{`States.StringToJson($.doc)`, `{"z":1}`, ""},
		{`States.StringToJson('not json')`, ``, ErrIntrinsicFailure},
		{`States.JsonToString($.arr)`, `"[1,\"x\",{\"k\":true}]"`, ""},
		{`States.Array(1, 'two', $.n, States.Array())`, `[1,"two",4,[]]`, ""},
		{`States.ArrayLength($.arr)`, `3`, ""},
		{`States.ArrayGetItem($.arr, 2)`, `{"k":true}`, ""},
		{`States.ArrayGetItem($.arr, 3)`, ``, ErrIntrinsicFailure},
		{`States.ArrayContains($.arr, 'x')`, `true`, ""},
		{`States.MathAdd($.n, -5)`, `-1`, ""},
		{`States.Base64Encode('hi')`, `"aGk="`, ""},
		{`States.Base64Decode($.b64)`, `"hi"`, ""},
		{`States.StringSplit($.s, ',')`, `["a","b","c"]`, ""},
		{`States.Format('{}', $.missing)`, ``, ErrRuntime},
	}
	for _, tc := range cases {
		c, err := parseIntrinsic(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		v, e := c.eval(data, nil)
		if tc.wantErr != "" {
			if e == nil || e.Name != tc.wantErr {
				t.Errorf("%s: error %v, want %s", tc.expr, e, tc.wantErr)
			}
			continue
		}
		if e != nil || compactJSON(v) != tc.want {
			t.Errorf("%s = %s (%v), want %s", tc.expr, compactJSON(v), e, tc.want)
		}
	}
}

func TestIntrinsicSyntaxErrors(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		`States.Nope(1)`, `States.Format('x'`, `States.Format('x) `, `States.Format('x') trailing`,
		`States.Format(bogus)`, `States.Format($.a[*])`, `Format('x')`,
	} {
		if _, err := parseIntrinsic(s); err == nil {
			t.Errorf("parseIntrinsic(%q) accepted", s)
		}
	}
}

func TestChoiceComparators(t *testing.T) {
	t.Parallel()
	data := mustDecode(t, `{"s":"abc","n":3,"b":true,"z":null,"other":"abc","limit":3}`)
	yes, no := true, false
	str := func(s string) *string { return &s }
	num := func(f float64) *float64 { return &f }
	cases := []struct {
		rule    asl.ChoiceRule
		want    bool
		wantErr string
	}{
		{asl.ChoiceRule{Variable: "$.s", StringEquals: str("abc")}, true, ""},
		{asl.ChoiceRule{Variable: "$.n", StringEquals: str("3")}, false, ""},
		{asl.ChoiceRule{Variable: "$.s", StringEqualsPath: "$.other"}, true, ""},
		{asl.ChoiceRule{Variable: "$.s", StringMatches: str("a*")}, true, ""},
		{asl.ChoiceRule{Variable: "$.s", StringMatches: str("*d")}, false, ""},
		{asl.ChoiceRule{Variable: "$.n", NumericEquals: num(3)}, true, ""},
		{asl.ChoiceRule{Variable: "$.n", NumericEqualsPath: "$.limit"}, true, ""},
		{asl.ChoiceRule{Variable: "$.n", NumericLessThan: num(3)}, false, ""},
		{asl.ChoiceRule{Variable: "$.n", NumericLessThanEquals: num(3)}, true, ""},
		{asl.ChoiceRule{Variable: "$.n", NumericGreaterThan: num(2.5)}, true, ""},
		{asl.ChoiceRule{Variable: "$.n", NumericGreaterThanEquals: num(4)}, false, ""},
		{asl.ChoiceRule{Variable: "$.s", NumericEquals: num(3)}, false, ""},
		{asl.ChoiceRule{Variable: "$.b", BooleanEquals: &yes}, true, ""},
		{asl.ChoiceRule{Variable: "$.b", BooleanEqualsPath: "$.b"}, true, ""},
		{asl.ChoiceRule{Variable: "$.z", IsNull: &yes}, true, ""},
		{asl.ChoiceRule{Variable: "$.s", IsNull: &yes}, false, ""},
		{asl.ChoiceRule{Variable: "$.s", IsString: &yes}, true, ""},
		{asl.ChoiceRule{Variable: "$.n", IsNumeric: &no}, false, ""},
		{asl.ChoiceRule{Variable: "$.b", IsBoolean: &yes}, true, ""},
		{asl.ChoiceRule{Variable: "$.gone", IsPresent: &no}, true, ""},
		{asl.ChoiceRule{Variable: "$.s", IsPresent: &yes}, true, ""},
		{asl.ChoiceRule{Variable: "$.gone", StringEquals: str("x")}, false, ErrRuntime},
		{asl.ChoiceRule{Variable: "$.s", StringEqualsPath: "$.gone"}, false, ErrRuntime},
		{asl.ChoiceRule{Not: &asl.ChoiceRule{Variable: "$.b", BooleanEquals: &no}}, true, ""},
		{asl.ChoiceRule{Or: []asl.ChoiceRule{{Variable: "$.b", BooleanEquals: &no}, {Variable: "$.gone", IsPresent: &no}}}, true, ""},
		{asl.ChoiceRule{And: []asl.ChoiceRule{{Variable: "$.b", BooleanEquals: &no}, {Variable: "$.gone", StringEquals: str("x")}}}, false, ""},
	}
	for i, tc := range cases {
		r, err := compileRule(tc.rule, false)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got, e := r.eval("C", data, nil)
		if tc.wantErr != "" {
			if e == nil || e.Name != tc.wantErr {
				t.Errorf("case %d: error %v, want %s", i, e, tc.wantErr)
			}
			continue
		}
		if e != nil || got != tc.want {
			t.Errorf("case %d: %v (%v), want %v", i, got, e, tc.want)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"*.log", "x.log", true},
		{"*.log", "x.log.gz", false},
		{`a\*c`, "a*c", true},
		{`a\*c`, "abc", false},
		{`a\\*`, `a\xyz`, true},
		{"a*b*c", "aXbYbZc", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, tc := range cases {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func FuzzPathAndIntrinsics(f *testing.F) {
	for _, s := range []string{"$.a.b[0]", "$['x y']", "States.Format('{}', $.a)", "States.Array(1, 'a', $$.State.Name)", "$$", "$.a[99999999999999999999]"} {
		f.Add(s)
	}
	data := map[string]any{"a": []any{"x"}}
	f.Fuzz(func(t *testing.T, s string) {
		// Untrusted definitions must fail cleanly, never panic.
		if p, err := compilePath(s); err == nil {
			_, _ = p.get(data, data)
			_, _ = p.set(data, "v")
		}
		if strings.HasPrefix(s, "States.") {
			if c, err := parseIntrinsic(s); err == nil {
				_, _ = c.eval(data, data)
			}
		}
	})
}

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// FuzzRender: a workflow file is untrusted input (anyone can edit it); no
// content panics Render, and what compiles runs one state without panicking.
func FuzzRender(f *testing.F) {
	_, file := generatedWorkflow(f, config.NotifyFinal)
	f.Add(string(file))
	f.Add(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsPresent":true},"Next":"S"}]},"S":{"Type":"Succeed"}}}`)
	f.Add(`{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"States.Format('{}', $.e)"}}}`)
	f.Fuzz(func(t *testing.T, def string) {
		m, err := Render("fuzz", []byte(def), localFunctions())
		if err != nil {
			return
		}
		s := m.states[m.startAt]
		if s.def.Type == asl.TypeTask || s.def.Type == asl.TypeWait {
			return // they call out or sleep; the scenario tests cover them
		}
		_, _, _ = (&execution{clock: newVirtualClock(), m: m, ctx: context.Background(), deadline: time.Now().Add(time.Hour)}).runState(s, map[string]any{"a": "x"}, time.Now())
	})
}
