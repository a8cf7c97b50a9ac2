// Package plangen writes synthetic plan JSON in the shape `tofu show -json` writes, for
// benchmarks of the plan source and of a whole `tofu plan` gated by drift_finding.
package plangen

import (
	"encoding/json"
	"fmt"
)

// Generate builds a normal-mode plan of n resources of which every (n/drifted)-th drifted, in
// the shape `tofu show -json` writes: planned_values, prior_state, resource_changes (no-ops that
// revert the drift), resource_drift and configuration.
func Generate(n, drifted int) []byte {
	type res = map[string]any
	values := func(i int, drift bool) res {
		size := "t3.small"
		cidrs := []any{"10.0.0.0/8"}
		if drift {
			size = "t3.large"
			if i%3 == 0 {
				cidrs = append(cidrs, "0.0.0.0/0")
			}
		}
		return res{
			"id": fmt.Sprintf("i-%08d", i), "ami": "ami-0123456789abcdef0", "instance_type": size,
			"tags":              res{"Name": fmt.Sprintf("web-%d", i), "Owner": "platform", "CostCenter": "1234"},
			"ebs_block_device":  []any{res{"device_name": "/dev/sdb", "volume_size": 100.0, "encrypted": true}},
			"ingress_cidrs":     cidrs,
			"monitoring":        true,
			"user_data":         nil,
			"availability_zone": "eu-west-1a",
			"policy":            `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`,
		}
	}
	every := n / drifted
	var planned, prior, changes, drifts, config []any
	for i := 0; i < n; i++ {
		addr := fmt.Sprintf("module.app.aws_instance.web[%d]", i)
		base := res{"address": addr, "mode": "managed", "type": "aws_instance", "name": "web", "index": float64(i),
			"provider_name": "registry.opentofu.org/hashicorp/aws", "schema_version": 1.0}
		desired := values(i, false)
		isDrift := i%every == 0
		p := copyMap(base)
		p["values"] = desired
		p["sensitive_values"] = res{}
		planned = append(planned, p)
		ps := copyMap(base)
		ps["values"] = values(i, isDrift)
		prior = append(prior, ps)
		actions := []any{"no-op"}
		before := desired
		if isDrift {
			actions = []any{"update"}
			before = values(i, true)
			drifts = append(drifts, res{"address": addr, "mode": "managed", "type": "aws_instance", "name": "web",
				"provider_name": "registry.opentofu.org/hashicorp/aws",
				"change": res{"actions": []any{"update"}, "before": desired, "after": values(i, true),
					"after_unknown": res{}, "before_sensitive": res{}, "after_sensitive": res{}}})
		}
		changes = append(changes, res{"address": addr, "mode": "managed", "type": "aws_instance", "name": "web",
			"provider_name": "registry.opentofu.org/hashicorp/aws",
			"change": res{"actions": actions, "before": before, "after": desired, "after_unknown": res{},
				"before_sensitive": res{}, "after_sensitive": res{}}})
		if i < 100 {
			config = append(config, res{"address": fmt.Sprintf("aws_instance.web%d", i), "mode": "managed", "type": "aws_instance",
				"name": "web", "expressions": res{"ami": res{"constant_value": "ami-0123456789abcdef0"}}})
		}
	}
	doc := res{
		"format_version": "1.2", "terraform_version": "1.10.10",
		"planned_values":   res{"root_module": res{"child_modules": []any{res{"address": "module.app", "resources": planned}}}},
		"prior_state":      res{"format_version": "1.0", "values": res{"root_module": res{"child_modules": []any{res{"address": "module.app", "resources": prior}}}}},
		"resource_drift":   drifts,
		"resource_changes": changes,
		"configuration":    res{"root_module": res{"resources": config}},
		"timestamp":        "2026-11-22T00:00:00Z",
		"errored":          false,
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}
