package generate

import (
	"fmt"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
)

// configWithRoutes is the example config with n routes: distinct names,
// paths and groups, the example's policies.
func configWithRoutes(b *testing.B, n int) *config.Config {
	b.Helper()
	base := loadCase(b, "example")
	cfg := *base
	cfg.Routes = make([]config.Route, n)
	for i := range cfg.Routes {
		r := base.Routes[i%len(base.Routes)]
		r.Name = fmt.Sprintf("route-%04d", i)
		r.Path = fmt.Sprintf("/route-%04d", i)
		r.TargetURL = fmt.Sprintf("https://app.example.com/hooks/%04d", i)
		cfg.Routes[i] = r
	}
	return &cfg
}

// BenchmarkFiles measures generation alone: the workflows and the locals,
// without the Lambda build and without Terraform.
func BenchmarkFiles(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			cfg := configWithRoutes(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Files(cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
