package config

import (
	"fmt"
	"regexp"
	"slices"

	"gopkg.in/yaml.v3"
)

// Lambda's VpcConfig takes at most 16 subnets and 5 security groups
// (https://docs.aws.amazon.com/lambda/latest/dg/API_VpcConfig.html), and
// at least one of each to attach a function to a VPC.
const (
	MaxVPCSubnets        = 16
	MaxVPCSecurityGroups = 5
)

// Subnet and security group ids as Lambda accepts them: the prefix, then 8
// or 17 lower-case letters and digits (the patterns AWS documents for
// LambdaVpcConfig, https://docs.aws.amazon.com/inspector/v2/APIReference/API_LambdaVpcConfig.html).
var (
	subnetIDPattern        = regexp.MustCompile(`^subnet-([a-z0-9]{8}|[a-z0-9]{17})$`)
	securityGroupIDPattern = regexp.MustCompile(`^sg-([a-z0-9]{8}|[a-z0-9]{17})$`)
)

// vpc decodes target.vpc: both lists are required, each id well formed and
// listed once.
func (d *decoder) vpc(f fields) *VPC {
	if n := resolve(f.node); n == nil || n.Kind != yaml.MappingNode {
		return nil // reported by mapping
	}
	v := &VPC{}
	v.SubnetIDs = d.vpcIDs(f, "subnet_ids", "subnet", "subnet-0123456789abcdef0", subnetIDPattern, MaxVPCSubnets,
		"list the private subnets deliver runs in, e.g. subnet_ids: [subnet-0123456789abcdef0] (two or more, in different Availability Zones, for availability)")
	v.SecurityGroupIDs = d.vpcIDs(f, "security_group_ids", "security group", "sg-0123456789abcdef0", securityGroupIDPattern, MaxVPCSecurityGroups,
		"list the security groups of deliver's network interfaces, e.g. security_group_ids: [sg-0123456789abcdef0] (it needs outbound access to the target)")
	return v
}

func (d *decoder) vpcIDs(f fields, key, kind, example string, pattern *regexp.Regexp, most int, hint string) []string {
	if !f.require(key, hint) {
		return nil
	}
	path := f.child(key)
	vals, nodes := d.strList(f.vals[key], path, kind+" ids", "a "+kind+" id")
	var out []string
	for i, v := range vals {
		p := indexPath(path, i)
		switch {
		case !pattern.MatchString(v):
			d.report(nodes[i], p, "%q is not a %s id; write it like %s", v, kind, example)
		case slices.Contains(out, v):
			d.report(nodes[i], p, "%s is listed twice; keep one", v)
		default:
			out = append(out, v)
		}
	}
	n := resolve(f.vals[key])
	switch {
	case n == nil || n.Kind != yaml.SequenceNode:
	case len(n.Content) == 0:
		d.report(n, path, "lists no %s; %s", kind, hint)
	case len(n.Content) > most:
		d.report(n, path, "%s", fmt.Sprintf("%d %ss; Lambda attaches a function to at most %d", len(n.Content), kind, most))
	}
	return out
}
