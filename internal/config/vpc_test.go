package config

import (
	"slices"
	"testing"
)

// TestVPCLoads: target.vpc becomes Target.VPC, ids in file order; without
// it deliver runs outside any VPC (nil).
func TestVPCLoads(t *testing.T) {
	t.Parallel()
	src := head + `target:
  base_url: https://orders.internal
  vpc:
    subnet_ids: [subnet-0123456789abcdef0, subnet-01234567]
    security_group_ids: [sg-0123456789abcdef0]
`
	cfg, err := Parse("v.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	v := cfg.Target.VPC
	if v == nil || !slices.Equal(v.SubnetIDs, []string{"subnet-0123456789abcdef0", "subnet-01234567"}) ||
		!slices.Equal(v.SecurityGroupIDs, []string{"sg-0123456789abcdef0"}) {
		t.Errorf("Target.VPC = %+v", v)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("a private target inside the configured VPC is warned about: %v", cfg.Warnings)
	}
	cfg, err = Parse("v.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Target.VPC != nil {
		t.Errorf("no target.vpc, Target.VPC = %+v", cfg.Target.VPC)
	}
}
