package asl

import (
	"reflect"
	"testing"
)

// FuzzUnmarshal: a definition from disk never panics the decoder or the
// validator, and whatever decodes survives Marshal unchanged.
func FuzzUnmarshal(f *testing.F) {
	for _, cfg := range buildCases(f) {
		for _, r := range cfg.Routes {
			b, err := Marshal(Build(cfg, r))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{},"ResultPath":null,"End":true}}}`))
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Not":{"Or":[]},"Next":"A"}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sm, err := Unmarshal(data)
		if err != nil {
			return
		}
		_ = Validate(sm)
		b, err := Marshal(sm)
		if err != nil {
			t.Fatalf("Marshal of a decoded machine: %v", err)
		}
		again, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal of Marshal output: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(again, sm) {
			t.Fatalf("round trip changed the machine:\n got %#v\nwant %#v\n%s", again, sm, b)
		}
	})
}
