package drift

import (
	"fmt"
	"strings"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
)

// KindDriftReport is the kind of the report object the Argo CD plugin adds to every application
// and the reporter reads back.
const KindDriftReport = v1alpha1.KindDriftReport

// Class is a drift class: what the divergence means.
type Class string

// Drift classes (DESIGN.md).
const (
	ClassUnauthorizedRuntime  Class = "UNAUTHORIZED_RUNTIME_DRIFT"
	ClassEmergency            Class = "EMERGENCY_DRIFT"
	ClassControllerOwned      Class = "CONTROLLER_OWNED_DRIFT"
	ClassProviderReadNoise    Class = "PROVIDER_READ_NOISE"
	ClassDependency           Class = "DEPENDENCY_DRIFT"
	ClassStaleDesiredState    Class = "STALE_DESIRED_STATE"
	ClassState                Class = "STATE_DRIFT"
	ClassFailedReconciliation Class = "FAILED_RECONCILIATION"
	ClassPolicy               Class = "POLICY_DRIFT"
	// ClassSecretDelivery: a secret did not reach its consumers (an ExternalSecret not synced, a
	// SealedSecret not unsealed, Pods still on a Secret's old version), judged from metadata only.
	ClassSecretDelivery Class = "SECRET_DELIVERY_DRIFT"
	// ClassUnmanaged: an object runs in a unit's namespaces, of a kind the unit manages, that no
	// Git source declares and no controller owns.
	ClassUnmanaged Class = "UNMANAGED_RESOURCE"
	ClassUnknown   Class = "UNKNOWN"
)

// Classes lists every class in documentation order.
var Classes = []Class{
	ClassUnauthorizedRuntime, ClassEmergency, ClassControllerOwned, ClassProviderReadNoise,
	ClassDependency, ClassStaleDesiredState, ClassState, ClassFailedReconciliation, ClassPolicy,
	ClassSecretDelivery, ClassUnmanaged, ClassUnknown,
}

// Expected reports whether drift of this class is the system working as designed, so it never
// blocks and does not make a unit "drifted": the built-in table's expected_classes.
func (c Class) Expected() bool { return DefaultTable().Expected(c) }

// Risk is how much harm a finding can do, ordered INFO < LOW < MEDIUM < HIGH < CRITICAL.
type Risk string

// Risks.
const (
	RiskInfo     Risk = "INFO"
	RiskLow      Risk = "LOW"
	RiskMedium   Risk = "MEDIUM"
	RiskHigh     Risk = "HIGH"
	RiskCritical Risk = "CRITICAL"
)

// Risks in ascending order.
var Risks = []Risk{RiskInfo, RiskLow, RiskMedium, RiskHigh, RiskCritical}

// Level is the risk's rank, 0 (INFO) to 4 (CRITICAL); -1 for an unknown value.
func (r Risk) Level() int {
	for i, x := range Risks {
		if x == r {
			return i
		}
	}
	return -1
}

func riskAt(level int) Risk {
	if level < 0 {
		level = 0
	}
	if level >= len(Risks) {
		level = len(Risks) - 1
	}
	return Risks[level]
}

// Action is what should be done about a finding.
type Action string

// Recommended actions.
const (
	ActionRuntimeRevert     Action = "RUNTIME_REVERT"
	ActionGitUpdatePR       Action = "GIT_UPDATE_PR"
	ActionStateRefresh      Action = "STATE_REFRESH"
	ActionImport            Action = "IMPORT"
	ActionStateMove         Action = "STATE_MOVE"
	ActionIgnore            Action = "IGNORE"
	ActionIncident          Action = "INCIDENT"
	ActionIncidentAndRevert Action = "INCIDENT_AND_REVERT"
	// ActionMigrationPlan: bring a resource that predates a policy rule into compliance before
	// the rule's migration window ends.
	ActionMigrationPlan Action = "MIGRATION_PLAN"
	// ActionReplanAndValidate: what a configuration reads changed; plan again and validate the
	// result before applying.
	ActionReplanAndValidate Action = "REPLAN_AND_VALIDATE"
	// ActionPinReference: replace a mutable reference (module source, provider, image) with an
	// immutable one.
	ActionPinReference Action = "PIN_REFERENCE"
	// ActionInvestigateControlLoop: the engine tried and failed to converge; find out why before
	// applying again.
	ActionInvestigateControlLoop Action = "INVESTIGATE_CONTROL_LOOP"
	// ActionRestartConsumers: the Secret was updated after its consumers started; restart them
	// (a rollout) so they read the new version.
	ActionRestartConsumers Action = "RESTART_CONSUMERS_AFTER_SECRET_SYNC"
	// ActionFixSecretSync: the secret's sync itself is failing or stale (an ExternalSecret not
	// Ready or not refreshed, a SealedSecret not unsealed); fix the sync before anything else.
	ActionFixSecretSync Action = "FIX_SECRET_SYNC"
)

// Actions lists every action.
var Actions = []Action{
	ActionRuntimeRevert, ActionGitUpdatePR, ActionStateRefresh, ActionImport, ActionStateMove,
	ActionIgnore, ActionIncident, ActionIncidentAndRevert, ActionMigrationPlan,
	ActionReplanAndValidate, ActionPinReference, ActionInvestigateControlLoop,
	ActionRestartConsumers, ActionFixSecretSync,
}

// Domains a resource belongs to; they drive default risk.
const (
	DomainIdentity = "identity"
	DomainNetwork  = "network"
	DomainSecrets  = "secrets"
	DomainData     = "data"
	DomainCompute  = "compute"
	DomainWorkload = "workload"
	DomainCost     = "cost"
	DomainOther    = "other"
)

// Domains lists every domain.
var Domains = []string{DomainIdentity, DomainNetwork, DomainSecrets, DomainData, DomainCompute, DomainWorkload, DomainCost, DomainOther}

// Risk tiers of a unit.
var RiskTiers = []string{"critical", "high", "standard", "low"}

// Environment classes: every unit environment name maps to one (decisions.yaml environments).
const (
	EnvProd    = "prod"
	EnvStaging = "staging"
	EnvDev     = "dev"
)

// EnvironmentClasses lists the environment classes, most sensitive first.
var EnvironmentClasses = []string{EnvProd, EnvStaging, EnvDev}

// Gates that are not a risk name: GateNone never blocks; DefaultGate is a unit's gate when it
// names none.
const (
	GateNone    = "none"
	DefaultGate = "high"
)

// Gates: a risk name in lower case, or GateNone.
var Gates = []string{"critical", DefaultGate, "medium", "low", "info", GateNone}

// GateRisk returns the risk a gate blocks at, and false for GateNone.
func GateRisk(gate string) (Risk, bool) {
	if gate == "" || gate == GateNone {
		return "", false
	}
	return Risk(strings.ToUpper(gate)), true
}

func oneOf[T ~string](v T, set []T) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

func quoteList[T ~string](set []T) string {
	q := make([]string, len(set))
	for i, s := range set {
		q[i] = fmt.Sprintf("%q", string(s))
	}
	return strings.Join(q, ", ")
}
