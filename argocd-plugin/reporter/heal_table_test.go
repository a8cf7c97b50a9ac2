package reporter

import (
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/tabletest"
)

// Issue 10 point 3: the never-heal domains and the classes that heal only on an application that
// syncs itself come from the decision table (auto_heal), not from the reporter.
func TestPlanHealFollowsTheTable(t *testing.T) {
	table := func(old, new string) *drift.Table { return tabletest.With(t, old, new) }
	pol := healPolicy(nil, []string{"/metadata/labels", "/data"}, nil)
	secret := healFinding("s", "Secret", "db", drift.DomainSecrets, "/data/password")
	secret.Group = ""
	st := Status{Findings: []StatusFinding{secret}}
	if p := planHeal(drift.DefaultTable(), pol, st, AppState{Healthy: true}); len(p.Targets) != 0 || !skippedHas(p, "secrets drift is never auto-healed") {
		t.Errorf("built-in table healed a Secret: %+v", p)
	}
	healSecrets := table("never_heal_domains: [identity, network, data, secrets]", "never_heal_domains: [identity, network, data]")
	if p := planHeal(healSecrets, pol, st, AppState{Healthy: true}); len(p.Targets) != 1 || p.Targets[0].Name != "db" {
		t.Errorf("never_heal_domains without secrets: %+v", p)
	}

	pending := healFinding("f", "Deployment", "web", drift.DomainWorkload, "/metadata/labels/tier")
	pending.DriftClass = drift.ClassStaleDesiredState
	st = Status{Findings: []StatusFinding{pending}}
	if p := planHeal(drift.DefaultTable(), pol, st, AppState{Healthy: true}); len(p.Targets) != 0 || !skippedHas(p, "spec.syncPolicy.automated") {
		t.Errorf("built-in table healed a pending sync on a manually synced application: %+v", p)
	}
	anySync := table("automated_sync_only: [STALE_DESIRED_STATE]", "automated_sync_only: []")
	if p := planHeal(anySync, pol, st, AppState{Healthy: true}); len(p.Targets) != 1 {
		t.Errorf("automated_sync_only: []: %+v", p)
	}
}
