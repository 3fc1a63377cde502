package config

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

const schemaPath = "../../config/routes.schema.json"

func readSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	return doc.(map[string]any)
}

// schemaKeys walks the schema as the decoder walks a config and records the
// property names at each place, in keysAt's notation.
func schemaKeys(t *testing.T, root, s map[string]any, place string, out map[string][]string) {
	t.Helper()
	s = deref(t, root, s)
	if props, ok := s["properties"].(map[string]any); ok {
		if s["additionalProperties"] != false {
			t.Errorf("schema at %q allows unknown keys; set additionalProperties: false", place)
		}
		out[place] = slices.Sorted(maps.Keys(props))
		for key, sub := range props {
			schemaKeys(t, root, sub.(map[string]any), childPath(place, key), out)
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		schemaKeys(t, root, items, place+"[]", out)
	}
	if values, ok := s["additionalProperties"].(map[string]any); ok {
		schemaKeys(t, root, values, place+".*", out)
	}
}

func deref(t *testing.T, root, s map[string]any) map[string]any {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	def, found := root["$defs"].(map[string]any)[name].(map[string]any)
	if !ok || !found {
		t.Fatalf("unresolvable $ref %q", ref)
	}
	return deref(t, root, def)
}

// The schema offers exactly the keys the loader accepts, at every level.
func TestSchemaKeysMatchTheLoader(t *testing.T) {
	t.Parallel()
	root := readSchema(t)
	got := map[string][]string{}
	schemaKeys(t, root, root, "", got)
	want := map[string][]string{}
	for place, keys := range keysAt {
		want[place] = slices.Sorted(slices.Values(keys))
	}
	for place, keys := range want {
		if !slices.Equal(got[place], keys) {
			t.Errorf("at %q the schema has %q, the loader %q", place, got[place], keys)
		}
	}
	for place, keys := range got {
		if _, ok := want[place]; !ok {
			t.Errorf("the schema has keys %q at %q, where the loader expects none", keys, place)
		}
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	abs, err := filepath.Abs(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "file://" + filepath.ToSlash(abs)
	if err := c.AddResource(url, readSchema(t)); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return sch
}

// yamlAsJSON reads a YAML file into the values a JSON decoder would produce,
// as an editor's YAML language server sees it.
func yamlAsJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestValidConfigsMatchTheSchema(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	for _, path := range validConfigs(t) {
		if err := sch.Validate(yamlAsJSON(t, path)); err != nil {
			t.Errorf("%s does not validate against the schema:\n%v", path, err)
		}
	}
}

// The schema is not an empty promise: it catches the mistakes an editor should flag.
func TestSchemaRejectsCommonMistakes(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	for _, tc := range []struct{ name, yaml string }{
		{"unknown key", base + "retyr: {}\n"},
		{"missing route group", "service: s\nregion: us-east-1\nroutes:\n  - {name: a, path: /a}\n"},
		{"bad jitter", base + "retry: {jitter: sometimes}\n"},
		{"secret value instead of a reference", head + "target:\n  signing_secret: hunter2\n"},
		{"two secret sources", head + "target:\n  signing_secret: {env: A, ssm_parameter: /a}\n"},
		{"bad duration", base + "queue: {retention: 4 days}\n"},
		{"bad group", base + "  - {name: b, path: /b, group: orders}\n"},
		{"ssm hierarchy without a leading slash", head + "target:\n  signing_secret: {ssm_parameter: app/signing}\n"},
		{"function memory below Lambda's minimum", base + "functions:\n  deliver: {memory_mb: 64}\n"},
		{"memory for a function that does not exist", base + "functions:\n  sender: {memory_mb: 256}\n"},
		{"route without verify", "service: s\nregion: us-east-1\nroutes:\n  - {name: a, path: /a, group: static:a}\n"},
		{"scheme none without a reason", base + "  - {name: b, path: /b, group: static:b, verify: {scheme: none}}\n"},
		{"scheme none with a secret", base + "  - {name: b, path: /b, group: static:b, verify: {scheme: none, reason: r, secret: {env: S}}}\n"},
		{"a verifying scheme without a secret", base + "  - {name: b, path: /b, group: static:b, verify: {scheme: github}}\n"},
		{"hmac without its header", base + "  - {name: b, path: /b, group: static:b, verify: {scheme: hmac, secret: {env: S}}}\n"},
		{"vpc without security groups", head + "target:\n  vpc: {subnet_ids: [subnet-01234567]}\n"},
		{"malformed subnet id", head + "target:\n  vpc: {subnet_ids: [subnet-1], security_group_ids: [sg-01234567]}\n"},
	} {
		path := filepath.Join(t.TempDir(), "routes.yaml")
		if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(yamlAsJSON(t, path)); err == nil {
			t.Errorf("%s: the schema accepts it", tc.name)
		}
	}
}

// The schema offers exactly the schemes of config.Schemes.
func TestSchemaSchemesMatchTheTable(t *testing.T) {
	t.Parallel()
	root := readSchema(t)
	verify := deref(t, root, root["$defs"].(map[string]any)["route"].(map[string]any))["properties"].(map[string]any)["verify"].(map[string]any)
	var got []string
	for _, v := range verify["properties"].(map[string]any)["scheme"].(map[string]any)["enum"].([]any) {
		got = append(got, v.(string))
	}
	if want := SchemeNames(); !slices.Equal(got, want) {
		t.Errorf("the schema's schemes are %q, config.Schemes has %q", got, want)
	}
}

// docs/config.md names every scheme with the headers it reads.
func TestDocsCoverEveryScheme(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Schemes {
		row := ""
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "| `"+string(s.Name)+"` |") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("docs/config.md has no row for scheme %s (a line starting | `%s` |)", s.Name, s.Name)
			continue
		}
		for _, h := range (Verify{Scheme: s.Name}).Headers() {
			if !strings.Contains(row, "`"+h+"`") {
				t.Errorf("docs/config.md's row for %s does not name the header %s", s.Name, h)
			}
		}
	}
}

// docs/config.md documents every key the loader accepts.
func TestDocsCoverEveryKey(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for place, keys := range keysAt {
		for _, key := range keys {
			if !strings.Contains(doc, "`"+key+"`") && !strings.Contains(doc, "`"+key+".") {
				t.Errorf("docs/config.md does not document %q (at %q)", key, place)
			}
		}
	}
}
