package scan

import "github.com/driftplane/terraform-provider-drift/internal/drift"

// classHelp says what a SARIF rule of a class's id means; a result's ruleId is its finding's
// class, so code-scanning front ends can show the meaning beside every result.
func classHelp(c drift.Class) string {
	switch c {
	case drift.ClassUnauthorizedRuntime:
		return "Something changed outside IaC that no rule explains; Git wins."
	case drift.ClassEmergency:
		return "A change made under an emergency exception or by a break-glass identity."
	case drift.ClassControllerOwned:
		return "A controller or the runtime owns the changed fields; the system working."
	case drift.ClassProviderReadNoise:
		return "Only the provider's serialisation changed (also across a provider upgrade, when the values are semantically equal)."
	case drift.ClassDependency:
		return "What the configuration reads changed (a data source, remote state, a provider upgrade), or it names a mutable reference: plan again and validate (REPLAN_AND_VALIDATE), pin the reference (PIN_REFERENCE)."
	case drift.ClassStaleDesiredState:
		return "Git changed and the sync is pending."
	case drift.ClassState:
		return "The recorded state is behind what runs (deleted outside, or only the state differs)."
	case drift.ClassFailedReconciliation:
		return "The last apply or sync did not converge (a tainted or deposed object, an apply or sync that errored, a field two writers fight over): investigate the control loop (INVESTIGATE_CONTROL_LOOP); never auto-healed."
	case drift.ClassPolicy:
		return "The resource violates a policy rule it predates; migrate it (MIGRATION_PLAN) before the rule's migration window ends, after which it blocks. A violation brought in out of band is UNAUTHORIZED_RUNTIME_DRIFT naming the rule."
	case drift.ClassSecretDelivery:
		return "A secret did not reach its consumers (a failing or stale sync, Pods started before the Secret changed), judged from metadata only: fix the sync (FIX_SECRET_SYNC), then restart the consumers (RESTART_CONSUMERS_AFTER_SECRET_SYNC)."
	case drift.ClassUnmanaged:
		return "An object runs where the unit manages objects of its kind, but no Git source declares it and no controller owns it: import it (IMPORT), or delete it after review."
	case drift.ClassUnknown:
		return "Drift could not be observed or judged; unknown is never clean."
	}
	return ""
}

// sarifRules is the SARIF driver's rule list: one rule per drift class.
func sarifRules() []any {
	out := make([]any, 0, len(drift.Classes))
	for _, c := range drift.Classes {
		out = append(out, map[string]any{
			"id":               string(c),
			"shortDescription": map[string]any{"text": string(c)},
			"fullDescription":  map[string]any{"text": classHelp(c)},
		})
	}
	return out
}
