package tofuplan

import (
	"encoding/json"
	"fmt"
	"sort"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// priorModule is a module of the plan's prior_state: the state as refreshed by the plan.
type priorModule struct {
	Resources []struct {
		Address         string          `json:"address"`
		Mode            string          `json:"mode"`
		Type            string          `json:"type"`
		Values          any             `json:"values"`
		SensitiveValues json.RawMessage `json:"sensitive_values"`
	} `json:"resources"`
	ChildModules []priorModule `json:"child_modules"`
}

// Resources returns every managed resource of the plan's prior state as an observation whose
// recorded and actual values are both the refreshed values. resource_drift lists only what
// changed, but policy rules judge every resource as it runs; prior_state holds them all.
// Sensitive values are redacted as in Observations and their paths listed. A plan of an empty
// state has none.
func (p *Plan) Resources() ([]drift.Observation, error) {
	if len(p.priorState) == 0 || isNull(p.priorState) {
		return nil, nil
	}
	var doc struct {
		Values *struct {
			RootModule priorModule `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal(p.priorState, &doc); err != nil {
		return nil, fmt.Errorf("plan file %s: prior_state: %w", p.Path, err)
	}
	if doc.Values == nil {
		return nil, nil
	}
	var out []drift.Observation
	var walk func(m *priorModule) error
	walk = func(m *priorModule) error {
		for i := range m.Resources {
			r := &m.Resources[i]
			if r.Mode != "" && r.Mode != string(tfjson.ManagedResourceMode) {
				continue
			}
			if r.Address == "" {
				return fmt.Errorf("plan file %s: prior_state has a resource without an address", p.Path)
			}
			var mask any
			if len(r.SensitiveValues) > 0 {
				if err := json.Unmarshal(r.SensitiveValues, &mask); err != nil {
					return fmt.Errorf("plan file %s: prior_state %s sensitive_values: %w", p.Path, r.Address, err)
				}
			}
			values, sensitive := p.digester.Redact(r.Values, mask)
			typ := r.Type
			if typ == "" {
				typ = drift.ResourceType(r.Address)
			}
			out = append(out, drift.Observation{Ref: r.Address, Type: typ, Recorded: values, Actual: values, SensitivePaths: sensitive})
		}
		for i := range m.ChildModules {
			if err := walk(&m.ChildModules[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(&doc.Values.RootModule); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}
