package drift

import "fmt"

// autoHealAllowed is the evaluation's half of the auto-heal condition: the deciding rule allows
// auto-heal (decisions.yaml `auto_heal`), the unit consents, the desired state is known and
// fresh, and no exception accepts the drift (accepted drift is never healed away).
func autoHealAllowed(d Decision, unit *ManagedUnit, obs *Observation, acceptedBy string) bool {
	return d.AutoHeal && unit.Spec.AutoHeal && obs.DesiredKnown && len(obs.DesiredUnknown) == 0 && acceptedBy == ""
}

// HealCandidate is what the controller's half of the auto-heal condition looks at: one evaluated
// finding on one Kubernetes object of an application, and the application's state.
type HealCandidate struct {
	Finding *Finding
	// Type is the object's group/Kind ("/Kind" for the core group): the table's own domain for it
	// counts as well as the finding's, so a unit cannot map a Secret or a Role out of a never-heal
	// domain.
	Type string
	// AppHealthy: the application is Healthy.
	AppHealthy bool
	// AppAutomatedSync: the application syncs itself (spec.syncPolicy.automated).
	AppAutomatedSync bool
}

// HealBlocker says why a finding may not heal without a human, or "" when the decision table
// lets it (the unit's AutoHealPolicy, which names the paths that may heal, is still to be asked):
// the evaluation allowed it, no exception accepts it, neither its domain nor the table's domain
// for its group/Kind is one of auto_heal.never_heal_domains, the object exists and changed, the
// application is Healthy, and a class of auto_heal.automated_sync_only heals only on an
// application that syncs itself.
func (t *Table) HealBlocker(c HealCandidate) string {
	f := c.Finding
	switch typeDomain := t.DomainFor(c.Type, nil); {
	case !f.AutoHealAllowed:
		return "the decision does not allow auto-heal (rule " + f.Rule + ", or the unit's autoHeal is off)"
	case f.AcceptedBy != "":
		return "accepted by " + f.AcceptedBy
	case oneOf(f.Domain, t.AutoHeal.NeverHealDomains):
		return f.Domain + " drift is never auto-healed"
	case oneOf(typeDomain, t.AutoHeal.NeverHealDomains):
		return typeDomain + " drift is never auto-healed (" + c.Type + " in the built-in decision table, whatever the unit maps it to)"
	case f.Deleted || len(f.ChangedFields) == 0:
		return "a missing object is Argo CD's sync to create, not a heal"
	case !c.AppHealthy:
		return "the application is not Healthy"
	case oneOf(f.DriftClass, t.AutoHeal.AutomatedSyncOnly) && !c.AppAutomatedSync:
		what := string(f.DriftClass)
		if f.DriftClass == ClassStaleDesiredState {
			what = "a pending sync"
		}
		return fmt.Sprintf("%s is healed only when the application itself syncs automatically (spec.syncPolicy.automated)", what)
	}
	return ""
}
