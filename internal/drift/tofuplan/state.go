package tofuplan

import (
	"encoding/json"
	"fmt"

	tfjson "github.com/hashicorp/terraform-json"
)

// StateIDs reads the JSON of a state (`tofu show -json` without a plan file) and returns, per
// resource address, the values CloudTrail calls name it by (id, arn, name, ...). name is used in
// messages.
func StateIDs(name string, data []byte, opts ...Option) (map[string]map[string]any, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dg := o.digester
	var st tfjson.State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("state file %s: not the JSON of a state (`tofu show -json`): %w", name, err)
	}
	if st.Values == nil {
		return nil, fmt.Errorf("state file %s has no values: not the JSON of a state (`tofu show -json`)", name)
	}
	out := map[string]map[string]any{}
	var walk func(m *tfjson.StateModule)
	walk = func(m *tfjson.StateModule) {
		if m == nil {
			return
		}
		for _, r := range m.Resources {
			if r.Mode != tfjson.ManagedResourceMode || r.AttributeValues == nil {
				continue
			}
			var mask any
			if len(r.SensitiveValues) > 0 {
				_ = json.Unmarshal(r.SensitiveValues, &mask)
			}
			redacted, _ := dg.Redact(r.AttributeValues, mask)
			out[r.Address], _ = redacted.(map[string]any)
		}
		for _, c := range m.ChildModules {
			walk(c)
		}
	}
	walk(st.Values.RootModule)
	return out, nil
}
