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
			obs := drift.Observation{Ref: r.Address, Type: typ, Recorded: values, Actual: values, SensitivePaths: sensitive}
			if err := p.desired(&obs, mask); err != nil {
				return fmt.Errorf("plan file %s: resource_changes %s: %w", p.Path, r.Address, err)
			}
			out = append(out, obs)
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

// desired adds a normal plan's desired value (resource_changes after) to a prior-state resource,
// so a rule can tell a violation Git declares from one the runtime brought.
func (p *Plan) desired(obs *drift.Observation, priorMask any) error {
	rc := p.changes[obs.Ref]
	if p.RefreshOnly || rc == nil || len(rc.Change.After) == 0 || isNull(rc.Change.After) ||
		(rc.Change.Actions.Delete() && !rc.Change.Actions.Replace()) {
		return nil
	}
	var after, unknown, mask any
	for _, f := range []struct {
		raw rawValue
		dst *any
	}{{rc.Change.After, &after}, {rc.Change.AfterUnknown, &unknown}, {rc.Change.AfterSensitive, &mask}} {
		if len(f.raw) == 0 {
			continue
		}
		if err := json.Unmarshal(f.raw, f.dst); err != nil {
			return err
		}
	}
	desired, sensitive := p.digester.Redact(after, priorMask, mask)
	obs.Desired, obs.DesiredKnown = desired, true
	obs.DesiredUnknown = unknownPaths(unknown, drift.Pointer{})
	obs.SensitivePaths = drift.UnionPointers(obs.SensitivePaths, sensitive)
	return nil
}
