package drift

import (
	"fmt"
	"strconv"
)

// ComputedAttributes is one entry of the table's computed_attributes: attributes that providers
// of these resource types compute and never take from configuration (resource versions,
// generations, uids, etags, ARNs, tags_all mirrors). A change at or below one of Paths never
// forms drift on its own and never raises the class or risk of a real change beside it: an
// out-of-band label bumps a Kubernetes object's resource_version, which says nothing new.
type ComputedAttributes struct {
	// Resources are OpenTofu resource-type globs (kubernetes_*, aws_*).
	Resources []string `json:"resources"`
	// Paths are JSON-pointer patterns in the plan's value shape ("*" for a nested block's list
	// index: /metadata/*/resource_version).
	Paths []string `json:"paths"`

	paths []Pointer
}

// ComputedShape says how much of the value below a schema-learned computed attribute a change
// may touch and still be the attribute's own bookkeeping.
type ComputedShape int

const (
	// ComputedScalar is a string, number or bool attribute: only a change at its exact path.
	ComputedScalar ComputedShape = iota
	// ComputedCollection is a map, list or set of scalars: a change at its path or one element
	// below, whose values are scalars.
	ComputedCollection
)

// ComputedAttr is an attribute a source learned from the provider's schema to be computed and
// not optional. The schema is input like any other (a file a pipeline hands over), so a claim is
// held to what such an attribute can look like: a scalar or a collection of scalars, never a
// nested block; and it is ignored where the resource's configuration sets it.
type ComputedAttr struct {
	Path  Pointer
	Shape ComputedShape
}

// compileComputed parses the computed_attributes section (called from LoadTable).
func (t *Table) compileComputed() error {
	for i := range t.ComputedAttributes {
		c := &t.ComputedAttributes[i]
		field := fmt.Sprintf("computed_attributes[%d]", i)
		if len(c.Resources) == 0 || len(c.Paths) == 0 {
			return fmt.Errorf("%s: resources and paths are required", field)
		}
		for _, r := range c.Resources {
			if r == "" || r == "*" {
				return fmt.Errorf("%s.resources: %q would cover every resource type; name a provider's prefix", field, r)
			}
		}
		for _, p := range c.Paths {
			ptr, err := ParsePointer(p)
			if err != nil {
				return fmt.Errorf("%s.paths: %w", field, err)
			}
			if len(ptr) == 0 || ptr[0] == "*" || ptr[0] == "**" {
				return fmt.Errorf("%s.paths: %q must name its first segment (it would ignore whole resources)", field, p)
			}
			c.paths = append(c.paths, ptr)
		}
	}
	return nil
}

// ComputedPathsFor lists the built-in computed-attribute patterns for an OpenTofu resource type.
func (t *Table) ComputedPathsFor(resourceType string) []Pointer {
	var out []Pointer
	for _, c := range t.ComputedAttributes {
		for _, r := range c.Resources {
			if globSegment(r, resourceType) {
				out = append(out, c.paths...)
				break
			}
		}
	}
	return out
}

// withoutComputed drops the changes that are only provider bookkeeping. The table's own list is
// trusted; the source's schema-learned claims only hold where the resource's configuration is
// known, statically declares the blocks the attribute lies in and does not set the attribute
// itself, where the change has the attribute's shape, and where the dropped changes raise no
// signal (a claim that hides widened identity or an open port is no bookkeeping).
func (ev *evaluator) withoutComputed(obs *Observation, domain string, changes []Change) []Change {
	if len(changes) == 0 || obs.Kind != "" {
		return changes
	}
	builtin := ev.opts.Table.ComputedPathsFor(obs.Type)
	if len(builtin) == 0 && len(obs.Computed) == 0 {
		return changes
	}
	var kept, learned []Change
	for _, c := range changes {
		switch {
		case matchesBuiltinComputed(obs, builtin, c.Path):
		case matchesLearnedComputed(obs, c):
			learned = append(learned, c)
		default:
			kept = append(kept, c)
		}
	}
	if len(learned) > 0 && len(ev.opts.Table.DetectSignals(domain, learned)) > 0 {
		// Put them back in path order, as Diff returned them.
		kept = kept[:0]
		for _, c := range changes {
			if !matchesBuiltinComputed(obs, builtin, c.Path) {
				kept = append(kept, c)
			}
		}
	}
	return kept
}

func matchesBuiltinComputed(obs *Observation, patterns []Pointer, p Pointer) bool {
	for _, pat := range patterns {
		if !p.HasPrefix(pat) {
			continue
		}
		if obs.Configuration != nil && configurationSets(obs.Configuration, pat, false) {
			continue
		}
		return true
	}
	return false
}

func matchesLearnedComputed(obs *Observation, c Change) bool {
	if obs.Configuration == nil {
		return false
	}
	for _, a := range obs.Computed {
		switch a.Shape {
		case ComputedScalar:
			if !c.Path.Matches(a.Path) || !isScalar(c.Before) || !isScalar(c.After) {
				continue
			}
		case ComputedCollection:
			below := c.Path.Matches(a.Path.Child("*"))
			if !below && !c.Path.Matches(a.Path) {
				continue
			}
			if below && (!isScalar(c.Before) || !isScalar(c.After)) {
				continue
			}
			if !below && (!scalarCollection(c.Before) || !scalarCollection(c.After)) {
				continue
			}
		default:
			continue
		}
		if configurationSets(obs.Configuration, a.Path, true) {
			continue
		}
		return true
	}
	return false
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func scalarCollection(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if !isScalar(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !isScalar(e) {
				return false
			}
		}
	}
	return true
}

// configurationSets reports whether a resource's configuration expressions (the plan's
// configuration section: attributes as expression objects, nested blocks as objects, lists of
// objects or maps of objects) set the attribute at pattern, or anything that could hold it. With
// strict, a block on the way that configuration does not declare statically counts as set too:
// `dynamic` blocks are left out of the plan's configuration, so their attributes cannot be shown
// to be unset.
func configurationSets(expressions map[string]any, pattern Pointer, strict bool) bool {
	if len(pattern) == 0 {
		return true
	}
	// The top level is the resource's own block, never an expression, even with no arguments.
	child, ok := expressions[pattern[0]]
	if !ok {
		return strict && len(pattern) > 1
	}
	return configSets(child, pattern[1:], strict)
}

func configSets(node any, pattern Pointer, strict bool) bool {
	if len(pattern) == 0 {
		return true
	}
	switch x := node.(type) {
	case map[string]any:
		if isExpression(x) {
			// An attribute set as a whole sets everything below it.
			return true
		}
		if pattern[0] == "*" {
			// A map-nested block keyed by label.
			for _, v := range x {
				if configSets(v, pattern[1:], strict) {
					return true
				}
			}
			return strict && len(x) == 0
		}
		child, ok := x[pattern[0]]
		if !ok {
			// The attribute itself unset is what a computed claim needs; a block on the way
			// unset may be dynamic.
			return strict && len(pattern) > 1
		}
		return configSets(child, pattern[1:], strict)
	case []any:
		if pattern[0] == "*" {
			for _, v := range x {
				if configSets(v, pattern[1:], strict) {
					return true
				}
			}
			return strict && len(x) == 0
		}
		i, err := strconv.Atoi(pattern[0])
		if err != nil || i < 0 || i >= len(x) {
			return strict
		}
		return configSets(x[i], pattern[1:], strict)
	}
	// Anything else is not the shape of an expressions object: it cannot show the attribute
	// unset.
	return true
}

// isExpression recognises an attribute's expression object ({"constant_value": …} and/or
// {"references": […]}, or {} for an expression with neither). A nested block's object holds
// attribute names instead; a block whose only attributes are named like these is taken for an
// expression, which only ever keeps a change.
func isExpression(m map[string]any) bool {
	if len(m) == 0 {
		return true
	}
	for k := range m {
		if k != "constant_value" && k != "references" {
			return false
		}
	}
	return true
}
