package asl

import "testing"

// BenchmarkBuildMarshal is the per-route cost of generating a workflow file.
func BenchmarkBuildMarshal(b *testing.B) {
	cfg := exampleConfig()
	r := cfg.Routes[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(Build(cfg, r)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate is the cost of checking one built workflow.
func BenchmarkValidate(b *testing.B) {
	cfg := exampleConfig()
	sm := Build(cfg, cfg.Routes[0])
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(sm); err != nil {
			b.Fatal(err)
		}
	}
}
