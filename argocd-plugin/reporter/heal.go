package reporter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// HealTarget is one object the reporter may ask Argo CD to sync back to Git.
type HealTarget struct {
	Group     string   `json:"group"`
	Kind      string   `json:"kind"`
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Findings  []string `json:"findings"`
	Paths     []string `json:"paths"`
	Policy    string   `json:"policy"`
}

// HealPlan is the bounded auto-heal decision for one evaluation.
type HealPlan struct {
	Targets []HealTarget `json:"targets,omitempty"`
	// Skipped says, per finding, why it is not healed.
	Skipped []string `json:"skipped,omitempty"`
}

// neverHealed are domains whose drift always needs a human: healing identity or network exposure
// silently hides an incident, and reverting data can lose it.
var neverHealed = map[string]bool{drift.DomainIdentity: true, drift.DomainNetwork: true, drift.DomainData: true, drift.DomainSecrets: true}

// PlanHeal decides what may heal without a human: only findings the decision table and the unit
// allow (auto_heal_allowed), not accepted by an exception, outside identity, network, data and
// secrets, on an application that is Healthy, where one AutoHealPolicy applying to the object allows
// the path of every changed field and denies none; and only when the objects to heal are no more
// than the policy's maxObjectsPerReconcile. Anything else is skipped with its reason.
func PlanHeal(p *Policy, st Status, appHealthy bool) HealPlan {
	var plan HealPlan
	skip := func(f StatusFinding, why string) {
		plan.Skipped = append(plan.Skipped, fmt.Sprintf("%s %s: %s", f.ResourceRef, strings.Join(f.ChangedFields, ","), why))
	}
	type key struct{ group, kind, ns, name string }
	targets := map[key]*HealTarget{}
	limits := map[string]int{}
	for _, f := range st.Findings {
		if f.DriftClass.Expected() {
			continue
		}
		switch {
		case !f.AutoHealAllowed:
			skip(f, "the decision does not allow auto-heal (rule "+f.Rule+", or the unit's autoHeal is off)")
			continue
		case f.AcceptedBy != "":
			skip(f, "accepted by "+f.AcceptedBy)
			continue
		case neverHealed[f.Domain]:
			skip(f, f.Domain+" drift is never auto-healed")
			continue
		case f.Deleted || len(f.ChangedFields) == 0:
			skip(f, "a missing object is Argo CD's sync to create, not a heal")
			continue
		case !appHealthy:
			skip(f, "the application is not Healthy")
			continue
		}
		pol := matchingPolicy(p.AutoHealPolicies, f)
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
			limits[pol.Metadata.Name] = pol.Spec.MaxObjectsPerReconcile
		}
		t.Findings = append(t.Findings, f.FindingID)
		t.Paths = append(t.Paths, f.ChangedFields...)
	}
	perPolicy := map[string]int{}
	for _, t := range targets {
		perPolicy[t.Policy]++
	}
	for _, t := range targets {
		if limit := limits[t.Policy]; limit > 0 && perPolicy[t.Policy] > limit {
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

func matchingPolicy(ps []*drift.AutoHealPolicy, f StatusFinding) *drift.AutoHealPolicy {
	for _, p := range ps {
		s := p.Spec.AppliesTo
		if len(s.Kinds) > 0 && !contains(s.Kinds, f.Kind) {
			continue
		}
		if len(s.Namespaces) > 0 && !contains(s.Namespaces, f.Namespace) {
			continue
		}
		if len(s.Labels) > 0 {
			continue // label selectors need the live object; a policy scoped by labels never matches blind
		}
		return p
	}
	return nil
}

func pathsAllowed(p *drift.AutoHealPolicy, fields []string) string {
	for _, cf := range fields {
		ptr, err := drift.ParsePointer(cf)
		if err != nil {
			return "cannot read path " + cf
		}
		for _, d := range p.Spec.DeniedPaths {
			if dp, err := drift.ParsePointer(d); err == nil && ptr.HasPrefix(dp) {
				return "denies " + cf
			}
		}
		allowed := false
		for _, a := range p.Spec.AllowedPaths {
			if ap, err := drift.ParsePointer(a); err == nil && ptr.HasPrefix(ap) {
				allowed = true
				break
			}
		}
		if !allowed {
			return "does not allow " + cf
		}
	}
	return ""
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// SyncResources asks Argo CD to sync only the given objects of an application back to Git
// (POST /api/v1/applications/{name}/sync with a resource list; no pruning).
func (c *ArgoClient) SyncResources(ctx context.Context, app, appNamespace string, targets []HealTarget) error {
	type res struct {
		Group     string `json:"group"`
		Kind      string `json:"kind"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	}
	body := struct {
		Name         string `json:"name"`
		AppNamespace string `json:"appNamespace,omitempty"`
		Prune        bool   `json:"prune"`
		Resources    []res  `json:"resources"`
	}{Name: app, AppNamespace: appNamespace}
	for _, t := range targets {
		body.Resources = append(body.Resources, res{t.Group, t.Kind, t.Namespace, t.Name})
	}
	js, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/api/v1/applications/"+url.PathEscape(app)+"/sync", bytes.NewReader(js))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("argocd-server %s: sync %s: %w", c.BaseURL, app, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("argocd-server %s: sync %s: %s: %s", c.BaseURL, app, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
