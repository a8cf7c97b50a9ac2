package drift

import (
	"fmt"
	"sort"
	"strings"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
)

// ObjectFinding is a finding on one Kubernetes object, with the object's group, kind, namespace
// and name, as a DriftReport's status holds it (the Lua health check, having no string library,
// cannot split them out of resource_ref).
type ObjectFinding struct {
	Finding
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// FirstObservedAt is when the report first showed this drift (by fingerprint).
	FirstObservedAt string `json:"firstObservedAt,omitempty"`
}

// HealTarget is one object auto-heal may ask the GitOps applier to sync back to Git.
type HealTarget = v1alpha1.HealTarget

// HealPlan is the bounded auto-heal decision for one evaluation.
type HealPlan struct {
	Targets []HealTarget `json:"targets,omitempty"`
	// Skipped says, per finding, why it is not healed.
	Skipped []string `json:"skipped,omitempty"`
}

// HealApp is what auto-heal needs to know about the application.
type HealApp struct {
	// Healthy: Argo CD reports the application Healthy.
	Healthy bool
	// AutomatedSync: the application syncs itself (spec.syncPolicy.automated). Only then may a
	// pending sync (Git ahead of the cluster) be healed: healing it is a deploy.
	AutomatedSync bool
	// Suspended, when set, says why nothing of the application may heal now (more paths change
	// than reconcile thrash can track).
	Suspended string
}

// PlanHeal decides what may heal without a human: only findings the decision table lets heal
// (Table.HealBlocker: auto_heal_allowed, not accepted by an exception, outside the
// table's never-heal domains by the finding's domain and by the table's own for its group/Kind,
// on a Healthy application, a pending sync only on an application that syncs itself), where one
// AutoHealPolicy applying to the object allows the path of every changed field and denies none
// (a deny covers the fields above it too); and only when the objects to heal are no more than the
// policy's maxObjectsPerReconcile (5 when unset; 0 heals nothing). Anything else is skipped with
// its reason.
func (table *Table) PlanHeal(policies []*AutoHealPolicy, findings []ObjectFinding, app HealApp) HealPlan {
	var plan HealPlan
	skip := func(f ObjectFinding, why string) {
		plan.Skipped = append(plan.Skipped, fmt.Sprintf("%s %s: %s", f.ResourceRef, strings.Join(f.ChangedFields, ","), why))
	}
	type key struct{ group, kind, ns, name string }
	targets := map[key]*HealTarget{}
	limits := map[string]int{}
	suspended := SuspendedHeal(findings)
	for _, f := range findings {
		if table.Expected(f.DriftClass) {
			continue
		}
		// Before anything else may allow it: a heal is a sync of the whole object, which either
		// already failed or joins a fight over one of its fields.
		if app.Suspended != "" {
			skip(f, app.Suspended)
			continue
		}
		if why, ok := suspended[f.Group+"/"+f.Kind+"/"+f.Namespace+"/"+f.Name]; ok {
			skip(f, why)
			continue
		}
		if why := table.HealBlocker(HealCandidate{Finding: &f.Finding, Type: f.Group + "/" + f.Kind,
			AppHealthy: app.Healthy, AppAutomatedSync: app.AutomatedSync}); why != "" {
			skip(f, why)
			continue
		}
		pol := matchingPolicy(policies, f)
		if pol == nil {
			skip(f, "no AutoHealPolicy applies to "+f.Kind)
			continue
		}
		if why := pathsAllowed(pol, f.ChangedFields); why != "" {
			skip(f, "AutoHealPolicy "+pol.Metadata.Name+" "+why)
			continue
		}
		k := key{f.Group, f.Kind, f.Namespace, f.Name}
		t := targets[k]
		if t == nil {
			t = &HealTarget{Group: f.Group, Kind: f.Kind, Namespace: f.Namespace, Name: f.Name, Policy: pol.Metadata.Name}
			targets[k] = t
			limits[pol.Metadata.Name] = pol.MaxObjects() // 5 when unset, 0 heals nothing, never unlimited
		}
		t.Findings = append(t.Findings, f.FindingID)
		t.Paths = append(t.Paths, f.ChangedFields...)
	}
	perPolicy := map[string]int{}
	for _, t := range targets {
		perPolicy[t.Policy]++
	}
	for _, t := range targets {
		if limit := limits[t.Policy]; perPolicy[t.Policy] > limit {
			plan.Skipped = append(plan.Skipped, fmt.Sprintf("%s/%s: AutoHealPolicy %s allows %d objects per reconcile, %d drifted; healing none",
				t.Kind, t.Name, t.Policy, limit, perPolicy[t.Policy]))
			continue
		}
		plan.Targets = append(plan.Targets, *t)
	}
	sort.Slice(plan.Targets, func(i, j int) bool {
		a, b := plan.Targets[i], plan.Targets[j]
		return a.Kind+"/"+a.Namespace+"/"+a.Name < b.Kind+"/"+b.Namespace+"/"+b.Name
	})
	sort.Strings(plan.Skipped)
	return plan
}

func matchingPolicy(ps []*AutoHealPolicy, f ObjectFinding) *AutoHealPolicy {
	for _, p := range ps {
		if p == nil {
			continue
		}
		s := p.Spec.AppliesTo
		if len(s.Kinds) > 0 && !oneOf(f.Kind, s.Kinds) {
			continue
		}
		if len(s.Namespaces) > 0 && !oneOf(f.Namespace, s.Namespaces) {
			continue
		}
		if len(s.Labels) > 0 {
			continue // label selectors need the live object; a policy scoped by labels never matches blind
		}
		return p
	}
	return nil
}

// pathsAllowed says why a policy does not let the changed fields heal, or "" when it does. A
// malformed path in the policy heals nothing under it: a deny that cannot be read must not
// become no deny.
func pathsAllowed(p *AutoHealPolicy, fields []string) string {
	denied := make([]Pointer, 0, len(p.Spec.DeniedPaths))
	for _, d := range p.Spec.DeniedPaths {
		dp, err := ParsePointer(d)
		if err != nil {
			return fmt.Sprintf("has a malformed denied path %q (%v), so it heals nothing", d, err)
		}
		denied = append(denied, dp)
	}
	allowed := make([]Pointer, 0, len(p.Spec.AllowedPaths))
	for _, a := range p.Spec.AllowedPaths {
		ap, err := ParsePointer(a)
		if err != nil {
			return fmt.Sprintf("has a malformed allowed path %q (%v), so it heals nothing", a, err)
		}
		if len(ap) == 0 || ap[0] == "**" {
			return fmt.Sprintf("allows %q, the whole object, so it heals nothing", a)
		}
		allowed = append(allowed, ap)
	}
	for _, cf := range fields {
		ptr, err := ParsePointer(cf)
		if err != nil {
			return "cannot read path " + cf
		}
		for i, dp := range denied {
			// Below the deny, or above it: healing /…/containers/name=x rewrites its image too.
			if prefixesOverlap(ptr, dp) {
				return "denies " + cf + " (deniedPaths " + p.Spec.DeniedPaths[i] + ")"
			}
		}
		ok := false
		for _, ap := range allowed {
			if ptr.HasPrefix(ap) {
				ok = true
				break
			}
		}
		if !ok {
			return "does not allow " + cf
		}
	}
	return ""
}

// ObjectFindings joins findings with the objects they are on (by resource_ref), blocking
// findings first and then by risk, so a status, a health message or `kubectl get` leads with
// what matters.
func ObjectFindings(fs []Finding, obs []Observation) []ObjectFinding {
	byRef := make(map[string]*Observation, len(obs))
	for i := range obs {
		byRef[obs[i].Ref] = &obs[i]
	}
	out := make([]ObjectFinding, 0, len(fs))
	for _, f := range fs {
		of := ObjectFinding{Finding: f}
		if o := byRef[f.ResourceRef]; o != nil {
			of.Group, of.Kind, of.Namespace, of.Name = o.Group, o.Kind, o.Namespace, o.Name
		}
		out = append(out, of)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Blocking != out[j].Blocking {
			return out[i].Blocking
		}
		return out[i].Risk.Level() > out[j].Risk.Level()
	})
	return out
}
