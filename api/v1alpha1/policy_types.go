package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Go field order of every spec type below is its JSON order, which the core's canonical JSON
// (policy_json, hashes, evidence) depends on: do not reorder fields.

// DriftManagedUnit is one stack or application whose drift is governed together.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories=driftplane
type DriftManagedUnit struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec DriftManagedUnitSpec `json:"spec"`
}

// DriftManagedUnitList is a list of DriftManagedUnits.
//
// +kubebuilder:object:root=true
type DriftManagedUnitList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DriftManagedUnit `json:"items"`
}

// DriftManagedUnitSpec is the policy part of a DriftManagedUnit.
type DriftManagedUnitSpec struct {
	// Kind is opentofu-stack or kubernetes; kubernetes when omitted in YAML (the Argo CD side).
	// +kubebuilder:validation:Enum=opentofu-stack;kubernetes
	Kind string `json:"kind,omitempty"`
	// Owner is the owning team.
	// +required
	Owner string `json:"owner"`
	// Environment is e.g. prod, staging or dev.
	// +required
	Environment string `json:"environment"`
	// RiskTier is critical, high, standard or low.
	// +required
	// +kubebuilder:validation:Enum=critical;high;standard;low
	RiskTier string `json:"riskTier"`
	// Gate is the lowest risk that fails a plan or degrades an application; "none" never does.
	// +kubebuilder:validation:Enum=critical;high;medium;low;info;none
	Gate         string `json:"gate,omitempty"`
	Source       string `json:"source,omitempty"`
	StateBackend string `json:"stateBackend,omitempty"`
	// Schedule is how often the unit is evaluated: a Go duration ("1h"), "@every 1h", "@hourly",
	// "@daily", "@weekly" or a five-field cron expression. A unit with no successful evaluation
	// for two scheduled intervals is stale: never clean, and each stale period counts against
	// its budgets' objectives.
	Schedule string `json:"schedule,omitempty"`
	// RequirePinnedProviders reports every provider the stack's configuration uses without a
	// version constraint as a mutable reference (PIN_REFERENCE), from a normal plan. Off by
	// default: the committed lock file usually pins them.
	RequirePinnedProviders bool `json:"requirePinnedProviders,omitempty"`
	// AutoHeal lets findings whose decision allows it be healed without a human.
	AutoHeal bool `json:"autoHeal,omitempty"`
	// PullRequests lets the Argo CD reporter, when it is given a forge, accept drift into Git
	// itself: findings whose recommended action is GIT_UPDATE_PR (an emergency change under a live
	// exception, stale desired state) get a pull request to the application's repository, as
	// `driftplane reconcile` opens them, and their closure is verified. Off by default: nothing
	// writes to a repository unless its unit asks.
	PullRequests bool `json:"pullRequests,omitempty"`
	// IncidentRequired makes every unexplained manual change an incident, not just a revert.
	IncidentRequired bool `json:"incidentRequired,omitempty"`
	// BreakGlassGroups are the identity groups whose members make emergency changes.
	BreakGlassGroups []string `json:"breakGlassGroups,omitempty"`
	// MaxExceptionDays bounds how far ahead of the evaluation an exception may expire (default
	// 90, at most 365).
	MaxExceptionDays int `json:"maxExceptionDays,omitempty"`
	// Appliers are extra Kubernetes field managers that apply Git's desired state.
	Appliers []string `json:"appliers,omitempty"`
	// ApplierIdentities are the audit-log usernames (globs) the GitOps applier writes as, e.g.
	// system:serviceaccount:argocd:argocd-application-controller. With an audit log, a write under
	// an applier's field-manager name by any other identity is a person's change, not a pending sync.
	ApplierIdentities []string `json:"applierIdentities,omitempty"`
	// ControllerIdentities maps a controller's field-manager name (glob) to the audit-log usernames
	// (globs) it writes as. With an audit log, a field Git declares is controller-owned only when the
	// write came from a service account or system identity, and, when the manager is listed here,
	// from one of its identities.
	ControllerIdentities map[string][]string `json:"controllerIdentities,omitempty"`
	OwnershipRules       []OwnershipRule     `json:"ownershipRules,omitempty"`
	DomainOverrides      []DomainOverride    `json:"domainOverrides,omitempty"`
	ResourceDomains      map[string]string   `json:"resourceDomains,omitempty"`
	// Budgets state how much drift the unit tolerates per domain or class; an exhausted budget
	// escalates: every unaccepted drift it counts blocks, whatever the gate.
	Budgets []DriftBudget `json:"budgets,omitempty"`
	// PolicyRules are CEL rules every resource of the unit must satisfy at runtime. A violation
	// the recorded state already had is POLICY_DRIFT (a migration, blocking once since +
	// migrationWindow has passed); one that out-of-band drift introduced is unauthorized drift.
	// +listType=map
	// +listMapKey=id
	PolicyRules []PolicyRule `json:"policyRules,omitempty"`
	// UnmanagedAllowed are objects expected to run in the unit's namespaces though no Git
	// source declares them and no controller owns them (Kubernetes units): they are not
	// UNMANAGED_RESOURCE findings.
	UnmanagedAllowed []UnmanagedAllowance `json:"unmanagedAllowed,omitempty"`
	// ReconcileThrash bounds reconcile-thrash detection (Kubernetes units; default 3 changes in
	// 30m).
	ReconcileThrash *ReconcileThrash `json:"reconcileThrash,omitempty"`
}

// PolicyRule is a CEL expression over one resource as it actually runs (resource.values without
// sensitive values, resource.type, resource.address; unit.name, unit.environment, unit.tier) that
// must evaluate to true for every resource it applies to.
type PolicyRule struct {
	// ID names the rule in findings, e.g. "owner-tag".
	// +required
	ID string `json:"id"`
	// AppliesTo are resource-type globs ("aws_s3_*"); Kubernetes resources match "group/Kind"
	// globs ("apps/*", "/ConfigMap"). Empty: every resource.
	AppliesTo []string `json:"appliesTo,omitempty"`
	// Expression is a CEL expression returning bool: true when the resource complies.
	// +required
	Expression string `json:"expression"`
	// Message says what compliance means; it is shown with every violation.
	Message string `json:"message,omitempty"`
	// Since is when the rule took effect (RFC 3339). Omitted: the rule is in effect from the
	// start and pre-existing violations get no migration window.
	Since string `json:"since,omitempty"`
	// MigrationWindow is how long after Since pre-existing violations may stay before they
	// block, as a Go duration (e.g. "720h").
	MigrationWindow string `json:"migrationWindow,omitempty"`
}

// DriftBudget is how much drift of one domain or class (at or above a risk) a unit tolerates:
// at most MaxOpen unaccepted drifts open at once, none open longer than MaxAge. Its state is ok
// (nothing counted), burning (drift counted, within bounds) or exhausted (a bound broken).
type DriftBudget struct {
	// Name says what the budget protects, e.g. "identity-zero-unclassified".
	// +required
	Name string `json:"name"`
	// Domain and Class select the drift counted (empty: any); MinRisk counts drift at or above it.
	Domain string `json:"domain,omitempty"`
	// +kubebuilder:validation:Enum=UNAUTHORIZED_RUNTIME_DRIFT;EMERGENCY_DRIFT;DEPENDENCY_DRIFT;STALE_DESIRED_STATE;STATE_DRIFT;FAILED_RECONCILIATION;POLICY_DRIFT;SECRET_DELIVERY_DRIFT;UNMANAGED_RESOURCE;UNKNOWN
	Class string `json:"class,omitempty"`
	// +kubebuilder:validation:Enum=CRITICAL;HIGH;MEDIUM;LOW;INFO
	MinRisk string `json:"minRisk,omitempty"`
	// MaxOpen is how many unaccepted drifts may be open at once (0: none).
	// +kubebuilder:validation:Minimum=0
	MaxOpen *int `json:"maxOpen,omitempty"`
	// MaxAge is how long one may stay open, as a Go duration (e.g. "10m", "168h"); judged on the
	// lifecycle ledger's first sighting, so it needs a ledger.
	MaxAge string `json:"maxAge,omitempty"`
	// DetectWithin is how long after the change (as the audit source dates it) a drift may be
	// first seen, as a Go duration (e.g. "15m"); judged only where the change time is known.
	DetectWithin string `json:"detectWithin,omitempty"`
	// Objective turns MaxAge and DetectWithin into an SLO: the share of the drift the budget
	// counts that must meet them over a window. Without it, one breach exhausts the budget.
	Objective *BudgetObjective `json:"objective,omitempty"`
}

// BudgetObjective is a budget's service-level objective: Target percent of judged drifts (each
// resolution against MaxAge, each detection against DetectWithin, and each time the unit went
// stale) must be good over Window.
type BudgetObjective struct {
	// Target is a percentage between 0 and 100 written as a decimal string, e.g. "95" or "99.9"
	// (a string: Kubernetes APIs avoid floats).
	// +required
	// +kubebuilder:validation:Pattern=`^(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)$`
	Target string `json:"target"`
	// Window is the period the objective is judged over, as a Go duration (e.g. "720h").
	// +required
	Window string `json:"window"`
}

// OwnershipRule says who owns which paths of the resources it matches. Paths not named by any
// rule are owned by Git.
type OwnershipRule struct {
	Name            string           `json:"name,omitempty"`
	Resource        ResourceMatch    `json:"resource"`
	GitOwned        []string         `json:"gitOwned,omitempty"`
	RuntimeOwned    []string         `json:"runtimeOwned,omitempty"`
	ControllerOwned []ControllerPath `json:"controllerOwned,omitempty"`
}

// UnmanagedAllowance is one expected unmanaged object (or set of them): a Kubernetes match and
// why it may run outside Git.
type UnmanagedAllowance struct {
	// +required
	Resource ResourceMatch `json:"resource"`
	// +required
	Reason string `json:"reason"`
}

// ResourceMatch selects resources: OpenTofu ones by type and/or address, Kubernetes ones by
// group, kind, namespace, name and labels. "*" globs within one segment.
type ResourceMatch struct {
	Type      string            `json:"type,omitempty"`
	Address   string            `json:"address,omitempty"`
	Group     string            `json:"group,omitempty"`
	Kind      string            `json:"kind,omitempty"`
	Namespace string            `json:"namespace,omitempty"`
	Name      string            `json:"name,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// ControllerPath is a path owned by a named controller, optionally only under a condition
// (documentation for humans today; e.g. "an HPA targets this Deployment").
type ControllerPath struct {
	// +required
	Path string `json:"path"`
	// +required
	Owner     string `json:"owner"`
	Condition string `json:"condition,omitempty"`
}

// DomainOverride replaces the default decision for unexplained drift in one domain.
type DomainOverride struct {
	// +required
	Domain   string `json:"domain"`
	Risk     string `json:"risk,omitempty"`
	Action   string `json:"action,omitempty"`
	AutoHeal *bool  `json:"autoHeal,omitempty"`
}

// DriftOwnershipRule is an ownership rule shipped as its own document and merged into the unit it
// sits beside.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories=driftplane
type DriftOwnershipRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec OwnershipRule `json:"spec"`
}

// DriftOwnershipRuleList is a list of DriftOwnershipRules.
//
// +kubebuilder:object:root=true
type DriftOwnershipRuleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DriftOwnershipRule `json:"items"`
}

// DriftException is a scoped, expiring acceptance of drift.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories=driftplane
type DriftException struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec DriftExceptionSpec `json:"spec"`
}

// DriftExceptionList is a list of DriftExceptions.
//
// +kubebuilder:object:root=true
type DriftExceptionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DriftException `json:"items"`
}

// DriftExceptionSpec is the acceptance itself.
type DriftExceptionSpec struct {
	// Unit is the DriftManagedUnit the exception belongs to.
	// +required
	Unit string `json:"unit"`
	// Resource is an OpenTofu address or a Kubernetes group/kind/namespace/name reference; "*"
	// globs within one segment.
	// +required
	Resource string   `json:"resource"`
	Paths    []string `json:"paths,omitempty"`
	// +required
	// +kubebuilder:validation:Enum=UNAUTHORIZED_RUNTIME_DRIFT;EMERGENCY_DRIFT;CONTROLLER_OWNED_DRIFT;PROVIDER_READ_NOISE;DEPENDENCY_DRIFT;STALE_DESIRED_STATE;STATE_DRIFT;FAILED_RECONCILIATION;POLICY_DRIFT;SECRET_DELIVERY_DRIFT;UNMANAGED_RESOURCE;UNKNOWN
	DriftClass string `json:"driftClass"`
	// +required
	Reason string `json:"reason"`
	Ticket string `json:"ticket,omitempty"`
	// +required
	ApprovedBy string `json:"approvedBy"`
	// ExpiresAt is an RFC 3339 time.
	// +required
	// +kubebuilder:validation:Format=date-time
	ExpiresAt string `json:"expiresAt"`
}

// AutoHealPolicy bounds what the Argo CD reporter may heal on its own.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories=driftplane
type AutoHealPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec AutoHealPolicySpec `json:"spec"`
}

// AutoHealPolicyList is a list of AutoHealPolicies.
//
// +kubebuilder:object:root=true
type AutoHealPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AutoHealPolicy `json:"items"`
}

// AutoHealPolicySpec is the bound itself.
type AutoHealPolicySpec struct {
	AppliesTo    AutoHealScope `json:"appliesTo"`
	AllowedPaths []string      `json:"allowedPaths,omitempty"`
	DeniedPaths  []string      `json:"deniedPaths,omitempty"`
	// MaxObjectsPerReconcile bounds how many objects one reconcile may heal: unset means
	// the default (5), 0 means heal nothing (never "unlimited").
	// +kubebuilder:validation:Minimum=0
	MaxObjectsPerReconcile *int `json:"maxObjectsPerReconcile,omitempty"`
	RequireHealthy         bool `json:"requireHealthyBeforeHeal,omitempty"`
	EvidenceRequired       bool `json:"evidenceRequired,omitempty"`
}

// AutoHealScope selects the objects an AutoHealPolicy applies to.
type AutoHealScope struct {
	Kinds      []string          `json:"kinds,omitempty"`
	Namespaces []string          `json:"namespaces,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
}
