package tofuplan

import (
	"encoding/json"
	"fmt"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Inventory counts the stack's managed resources for inventory coverage (M7): expected are
// those the state records, observed those the plan's refresh read back. A resource deleted out
// of band is expected but not observed (the refresh dropped it from prior_state, and an
// observation says it was deleted). Only addresses and modes are decoded, not values.
func (p *Plan) Inventory() (drift.Inventory, error) {
	inv := drift.Inventory{}
	for _, o := range p.Observations {
		if o.Deleted {
			inv.Expected++
		}
	}
	if len(p.priorState) == 0 || isNull(p.priorState) {
		return inv, nil
	}
	type module struct {
		Resources []struct {
			Mode string `json:"mode"`
		} `json:"resources"`
		ChildModules []json.RawMessage `json:"child_modules"`
	}
	var doc struct {
		Values *struct {
			RootModule json.RawMessage `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal(p.priorState, &doc); err != nil {
		return inv, fmt.Errorf("plan file %s: prior_state: %w", p.Path, err)
	}
	if doc.Values == nil {
		return inv, nil
	}
	queue := []json.RawMessage{doc.Values.RootModule}
	for len(queue) > 0 {
		raw := queue[0]
		queue = queue[1:]
		if len(raw) == 0 || isNull(raw) {
			continue
		}
		var m module
		if err := json.Unmarshal(raw, &m); err != nil {
			return inv, fmt.Errorf("plan file %s: prior_state: %w", p.Path, err)
		}
		for _, r := range m.Resources {
			if r.Mode == "" || r.Mode == string(tfjson.ManagedResourceMode) {
				inv.Expected++
				inv.Observed++
			}
		}
		queue = append(queue, m.ChildModules...)
	}
	return inv, nil
}
