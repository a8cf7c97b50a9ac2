package drift

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

//go:embed decisions.yaml
var decisionsYAML []byte

// Table is the decision table: decisions.yaml, compiled.
type Table struct {
	Environments     map[string]Strings `json:"environments"`
	Risk             RiskMatrix         `json:"risk"`
	DomainRules      []DomainRule       `json:"domains"`
	TicketPaths      []string           `json:"ticket_paths"`
	TicketContainers []string           `json:"ticket_containers"`
	// ExpectedClasses are the system working as designed (see Table.Expected).
	ExpectedClasses []Class `json:"expected_classes"`
	// TicketDomains are the domains whose exceptions need a ticket whatever their paths.
	TicketDomains []string `json:"ticket_domains"`
	// ExceptionClasses says what an exception of a class accepts beyond its own class.
	ExceptionClasses map[Class]ExceptionClass `json:"exception_classes"`
	// Signals names, per detector, the domains it runs on (empty: every domain).
	Signals map[string][]string `json:"signals"`
	// AutoHeal bounds auto-heal beyond the rules' auto_heal (see HealBlocker).
	AutoHeal AutoHealRules `json:"auto_heal"`
	// TargetOwners are Kubernetes objects that own fields of the object they point at.
	TargetOwners []TargetOwner `json:"target_owners"`
	// ComputedAttributes are attributes providers compute and never take from configuration,
	// per resource-type glob: their changes are bookkeeping, never drift.
	ComputedAttributes []ComputedAttributes `json:"computed_attributes"`
	// DetectionSLA is, per risk, how soon after a change its drift must be detected (the SLI
	// "detected within the SLA of its risk"), as a Go duration.
	DetectionSLA map[Risk]string `json:"detection_sla"`
	Rules        []Rule          `json:"rules"`
	// FieldManagers classifies Kubernetes field managers. A manager is a name the client chooses,
	// so Identities says which audit-log usernames (globs, "*" not crossing ":") may write under a
	// manager name (glob): an applier's writes are the recorded plane only from these (or the
	// unit's applierIdentities), and a controller's writes to fields Git declares only from these
	// (or the unit's controllerIdentities) when the manager is listed, from any service account or
	// system identity otherwise.
	FieldManagers struct {
		Applier    []string            `json:"applier"`
		Controller []string            `json:"controller"`
		Human      []string            `json:"human"`
		Identities map[string][]string `json:"identities"`
	} `json:"field_managers"`

	envAlias         map[string]string
	defaultEnv       string
	ticketPaths      []Pointer
	ticketContainers []Pointer
}

// ExceptionClass is what an exception of one class accepts.
type ExceptionClass struct {
	// Accepts lists the finding classes the exception accepts (its own class always).
	Accepts []Class `json:"accepts"`
	// Exception is the value the rules' `exception` condition sees when such an exception covers
	// the drift; the finding is decided again with it. Empty: the decision stands.
	Exception string `json:"exception,omitempty"`
}

// AutoHealRules are the table's bounds on auto-heal.
type AutoHealRules struct {
	// NeverHealDomains always need a human, by the finding's domain and the table's own domain
	// for its group/Kind.
	NeverHealDomains []string `json:"never_heal_domains"`
	// AutomatedSyncOnly classes heal only on an application that syncs itself.
	AutomatedSyncOnly []Class `json:"automated_sync_only"`
	// NeverOverridable domains: a unit's domain_override may not turn auto-heal on for them.
	NeverOverridable []string `json:"never_overridable"`
}

// TargetOwner is a Kubernetes object kind that owns fields of the object it points at (an
// HorizontalPodAutoscaler owns its scale target's /spec/replicas).
type TargetOwner struct {
	// Kind is the owning object's group/Kind.
	Kind string `json:"kind"`
	// Target points at the owning object's reference to its target: apiVersion, kind and name
	// (the target is in the owning object's namespace).
	Target string `json:"target"`
	// Paths are the fields of the target the owning object owns.
	Paths []string `json:"paths"`
	// Owner is the controller that writes them (its field manager).
	Owner string `json:"owner"`
	// Reason completes `<Kind> "<name>" …` in the report (e.g. "scales it").
	Reason string `json:"reason"`

	target Pointer
}

// RiskMatrix computes the risk of unexplained drift from domain, environment and tier.
type RiskMatrix struct {
	DomainBase        map[string]Risk `json:"domain_base"`
	EnvironmentAdjust map[string]int  `json:"environment_adjust"`
	TierAdjust        map[string]int  `json:"tier_adjust"`
	Floor             Risk            `json:"floor"`
}

// DomainRule maps resource types (or Kubernetes group/Kind) to a domain.
type DomainRule struct {
	Domain    string   `json:"domain"`
	Resources []string `json:"resources"`
}

// Rule is one row of the table.
type Rule struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	When        When     `json:"when"`
	Then        Decision `json:"then"`

	pathsAll, pathsAny []Pointer
}

// When is a row's condition; empty fields match anything.
type When struct {
	Change           Strings  `json:"change,omitempty"`
	Ownership        Strings  `json:"ownership,omitempty"`
	Signal           Strings  `json:"signal,omitempty"`
	Domain           Strings  `json:"domain,omitempty"`
	Environment      Strings  `json:"environment,omitempty"`
	Tier             Strings  `json:"tier,omitempty"`
	Exception        Strings  `json:"exception,omitempty"`
	Actor            Strings  `json:"actor,omitempty"`
	IncidentRequired *bool    `json:"incident_required,omitempty"`
	PathsAll         []string `json:"paths_all,omitempty"`
	PathsAny         []string `json:"paths_any,omitempty"`
	// Policy is a policy rule's verdict on the resource (PolicyStates); findings of drift
	// between the planes are "none".
	Policy Strings `json:"policy,omitempty"`
}

// Decision is a row's outcome.
type Decision struct {
	Class       Class  `json:"class"`
	Risk        Risk   `json:"risk"`
	RiskMin     Risk   `json:"risk_min,omitempty"`
	Action      Action `json:"action"`
	AutoHeal    bool   `json:"auto_heal,omitempty"`
	Overridable bool   `json:"overridable,omitempty"`
	// Blocking is "" (the unit's gate decides), BlockingNever or BlockingAlways.
	Blocking string `json:"blocking,omitempty"`
	// Rule is the id of the row that decided; filled in by Decide.
	Rule string `json:"-"`
}

// RiskComputed marks a row whose risk comes from the risk matrix.
const RiskComputed Risk = "computed"

// Strings is a YAML scalar-or-list.
type Strings []string

// UnmarshalJSON accepts "x" as ["x"] so the table stays terse.
func (s *Strings) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := yaml.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := yaml.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

func (s Strings) has(v string) bool {
	if len(s) == 0 {
		return true
	}
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Input is what the table decides on: one group of changes to one resource.
type Input struct {
	Change           string // noise | deleted | state_only | modified
	Ownership        string // git | controller | runtime
	Signals          []string
	Domain           string
	Environment      string // raw unit environment; aliases are resolved here
	Tier             string
	Exception        string // none | emergency
	Actor            string // human | breakglass | controller | service | unknown
	IncidentRequired bool
	Paths            []Pointer
	// KubernetesBlocks: Paths are a Terraform kubernetes_* resource's, whose one-item blocks are
	// lists; rule paths in the Kubernetes spelling match them too (KubernetesPlanePath).
	KubernetesBlocks bool
	Policy           string // none | migrating | overdue | introduced | error (PolicyStates)
}

// Input values.
const (
	ChangeNoise     = "noise"
	ChangeDeleted   = "deleted"
	ChangeStateOnly = "state_only"
	ChangeModified  = "modified"

	OwnerGit        = "git"
	OwnerController = "controller"
	OwnerRuntime    = "runtime"
	// OwnerApplier: the GitOps applier itself wrote the live value (the recorded plane).
	OwnerApplier = "applier"

	SignalIdentityWidened  = "identity_widened"
	SignalNetworkOpenWorld = "network_open_world"

	ExceptionNone      = "none"
	ExceptionEmergency = "emergency"

	ActorHuman      = "human"
	ActorBreakGlass = "breakglass"
	ActorController = "controller"
	ActorService    = "service"
	ActorUnknown    = "unknown"
)

// envDefaultKey is the environments entry naming the class of any other environment name.
const envDefaultKey = "default"

var defaultTable = mustLoadTable(decisionsYAML)

// DefaultTable returns the built-in decision table.
func DefaultTable() *Table { return defaultTable }

func mustLoadTable(data []byte) *Table {
	t, err := LoadTable(data)
	if err != nil {
		panic("drift: built-in decisions.yaml: " + err.Error())
	}
	return t
}

// LoadTable decodes and checks a decision table.
func LoadTable(data []byte) (*Table, error) {
	t := &Table{}
	if err := yaml.UnmarshalStrict(data, t); err != nil {
		return nil, err
	}
	t.envAlias = map[string]string{}
	for class, aliases := range t.Environments {
		if class == envDefaultKey {
			continue
		}
		for _, a := range aliases {
			t.envAlias[strings.ToLower(a)] = class
		}
	}
	if d, ok := t.Environments[envDefaultKey]; ok && len(d) == 1 && oneOf(d[0], EnvironmentClasses) {
		t.defaultEnv = d[0]
	} else {
		return nil, fmt.Errorf("environments.default must name one environment class (%s)", strings.Join(EnvironmentClasses, ", "))
	}
	for class := range t.Environments {
		if class != envDefaultKey && !oneOf(class, EnvironmentClasses) {
			return nil, fmt.Errorf("environments: unknown environment class %q (%s)", class, strings.Join(EnvironmentClasses, ", "))
		}
	}
	for _, r := range Risks {
		d, err := time.ParseDuration(t.DetectionSLA[r])
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("detection_sla.%s: want a positive duration such as 15m, got %q", r, t.DetectionSLA[r])
		}
	}
	for r := range t.DetectionSLA {
		if !oneOf(r, Risks) {
			return nil, fmt.Errorf("detection_sla: unknown risk %q", r)
		}
	}
	for _, env := range EnvironmentClasses {
		if _, ok := t.Risk.EnvironmentAdjust[env]; !ok {
			return nil, fmt.Errorf("risk.environment_adjust has no entry for environment class %q", env)
		}
	}
	for _, d := range Domains {
		if _, ok := t.Risk.DomainBase[d]; !ok {
			return nil, fmt.Errorf("risk.domain_base has no entry for domain %q", d)
		}
	}
	for _, dr := range t.DomainRules {
		if !oneOf(dr.Domain, Domains) {
			return nil, fmt.Errorf("domains: unknown domain %q", dr.Domain)
		}
	}
	for _, p := range t.TicketPaths {
		ptr, err := ParsePointer(p)
		if err != nil {
			return nil, fmt.Errorf("ticket_paths: %w", err)
		}
		t.ticketPaths = append(t.ticketPaths, ptr)
	}
	for _, p := range t.TicketContainers {
		ptr, err := ParsePointer(p)
		if err != nil {
			return nil, fmt.Errorf("ticket_containers: %w", err)
		}
		for _, tok := range ptr {
			if tok == "**" {
				return nil, fmt.Errorf("ticket_containers: %q: \"**\" is not allowed here", p)
			}
		}
		t.ticketContainers = append(t.ticketContainers, ptr)
	}
	if err := t.checkDecisions(); err != nil {
		return nil, err
	}
	if err := t.compileComputed(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i := range t.Rules {
		r := &t.Rules[i]
		if r.ID == "" || seen[r.ID] {
			return nil, fmt.Errorf("rules[%d]: missing or duplicate id %q", i, r.ID)
		}
		seen[r.ID] = true
		if !oneOf(r.Then.Class, Classes) {
			return nil, fmt.Errorf("rule %s: unknown class %q", r.ID, r.Then.Class)
		}
		if r.Then.Risk != RiskComputed && r.Then.Risk.Level() < 0 {
			return nil, fmt.Errorf("rule %s: unknown risk %q", r.ID, r.Then.Risk)
		}
		if r.Then.RiskMin != "" && r.Then.RiskMin.Level() < 0 {
			return nil, fmt.Errorf("rule %s: unknown risk_min %q", r.ID, r.Then.RiskMin)
		}
		if !oneOf(r.Then.Action, Actions) {
			return nil, fmt.Errorf("rule %s: unknown action %q", r.ID, r.Then.Action)
		}
		if err := checkPolicyRow(r); err != nil {
			return nil, err
		}
		if err := checkChangeRow(r); err != nil {
			return nil, err
		}
		for _, d := range r.When.Domain {
			if !oneOf(d, Domains) {
				return nil, fmt.Errorf("rule %s: unknown domain %q", r.ID, d)
			}
		}
		for _, e := range r.When.Environment {
			if !oneOf(e, EnvironmentClasses) {
				return nil, fmt.Errorf("rule %s: unknown environment class %q", r.ID, e)
			}
		}
		for _, p := range r.When.PathsAll {
			ptr, err := ParsePointer(p)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.ID, err)
			}
			r.pathsAll = append(r.pathsAll, ptr)
		}
		for _, p := range r.When.PathsAny {
			ptr, err := ParsePointer(p)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.ID, err)
			}
			r.pathsAny = append(r.pathsAny, ptr)
		}
	}
	if n := len(t.Rules); n == 0 || !t.Rules[n-1].When.isEmpty() {
		return nil, fmt.Errorf("the last rule must match everything, so no drift goes unclassified")
	}
	return t, nil
}

func (w When) isEmpty() bool {
	return len(w.Change)+len(w.Ownership)+len(w.Signal)+len(w.Domain)+len(w.Environment)+len(w.Tier)+
		len(w.Exception)+len(w.Actor)+len(w.PathsAll)+len(w.PathsAny)+len(w.Policy) == 0 && w.IncidentRequired == nil
}

// EnvironmentClass maps a unit's environment name to prod, staging or dev.
func (t *Table) EnvironmentClass(env string) string {
	if c, ok := t.envAlias[strings.ToLower(strings.TrimSpace(env))]; ok {
		return c
	}
	return t.defaultEnv
}

// DomainFor returns the domain of an OpenTofu resource type or a Kubernetes "group/Kind"; the
// unit's own resourceDomains come first.
func (t *Table) DomainFor(resource string, unitDomains map[string]string) string {
	if len(unitDomains) > 0 {
		keys := make([]string, 0, len(unitDomains))
		for k := range unitDomains {
			keys = append(keys, k)
		}
		// Longest pattern first, so a specific entry beats a glob.
		sort.Slice(keys, func(i, j int) bool {
			if len(keys[i]) != len(keys[j]) {
				return len(keys[i]) > len(keys[j])
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			if globSegment(k, resource) {
				return unitDomains[k]
			}
		}
	}
	for _, dr := range t.DomainRules {
		for _, pat := range dr.Resources {
			if globSegment(pat, resource) {
				return dr.Domain
			}
		}
	}
	return DomainOther
}

// ManagerApplier is the kind of a field manager that applies Git's desired state: the fields it
// writes are the applier's (OwnerApplier), the same concept.
const ManagerApplier = OwnerApplier

// ManagerKind classifies a Kubernetes field manager by its name as ManagerApplier,
// ActorController, ActorHuman or "". extraAppliers are the unit's own. The name is only what the
// client claimed: the Kubernetes plane (package kube) trusts an applier or a controller name for
// a field Git declares only as far as an ownership rule, the audit log and Identities bear it out.
func (t *Table) ManagerKind(manager string, extraAppliers ...string) string {
	for _, p := range append(append([]string(nil), t.FieldManagers.Applier...), extraAppliers...) {
		if globSegment(p, manager) {
			return ManagerApplier
		}
	}
	for _, p := range t.FieldManagers.Controller {
		if globSegment(p, manager) {
			return ActorController
		}
	}
	for _, p := range t.FieldManagers.Human {
		if globSegment(p, manager) {
			return ActorHuman
		}
	}
	return ""
}

// ComputeRisk is the matrix risk for unexplained drift.
func (t *Table) ComputeRisk(domain, envClass, tier string) Risk {
	level := t.Risk.DomainBase[domain].Level() + t.Risk.EnvironmentAdjust[envClass] + t.Risk.TierAdjust[tier]
	if floor := t.Risk.Floor.Level(); level < floor {
		level = floor
	}
	return riskAt(level)
}

// Decide returns the first matching row's decision, with computed risk resolved and the unit's
// domain overrides applied.
func (t *Table) Decide(in Input, overrides []DomainOverride) Decision {
	env := t.EnvironmentClass(in.Environment)
	for i := range t.Rules {
		r := &t.Rules[i]
		if !r.matches(in, env) {
			continue
		}
		d := r.Then
		d.Rule = r.ID
		if d.Risk == RiskComputed {
			d.Risk = t.ComputeRisk(in.Domain, env, in.Tier)
		}
		if d.RiskMin != "" && d.Risk.Level() < d.RiskMin.Level() {
			d.Risk = d.RiskMin
		}
		if d.Overridable {
			for _, o := range overrides {
				if o.Domain != in.Domain {
					continue
				}
				if o.Risk != "" {
					d.Risk = Risk(strings.ToUpper(o.Risk))
				}
				if o.Action != "" {
					d.Action = Action(strings.ToUpper(o.Action))
				}
				if o.AutoHeal != nil {
					d.AutoHeal = *o.AutoHeal
				}
				d.Rule = r.ID + "+override:" + o.Domain
			}
		}
		return d
	}
	panic("unreachable: LoadTable guarantees a catch-all rule")
}

func (r *Rule) matches(in Input, env string) bool {
	w := r.When
	if !w.Change.has(in.Change) || !w.Ownership.has(in.Ownership) || !w.Domain.has(in.Domain) ||
		!w.Environment.has(env) || !w.Tier.has(in.Tier) || !w.Exception.has(orDefault(in.Exception, ExceptionNone)) ||
		!w.Actor.has(orDefault(in.Actor, ActorUnknown)) || !w.Policy.has(orDefault(in.Policy, PolicyNone)) {
		return false
	}
	if w.IncidentRequired != nil && *w.IncidentRequired != in.IncidentRequired {
		return false
	}
	if len(w.Signal) > 0 {
		found := false
		for _, s := range in.Signals {
			if w.Signal.has(s) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(r.pathsAll) > 0 {
		if len(in.Paths) == 0 {
			return false
		}
		for _, p := range in.Paths {
			if !anyPrefixIn(p, r.pathsAll, in.KubernetesBlocks) {
				return false
			}
		}
	}
	if len(r.pathsAny) > 0 {
		found := false
		for _, p := range in.Paths {
			if anyPrefixIn(p, r.pathsAny, in.KubernetesBlocks) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func anyPrefix(p Pointer, patterns []Pointer) bool {
	for _, pat := range patterns {
		if p.HasPrefix(pat) {
			return true
		}
	}
	return false
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// NeedsTicket reports whether accepting drift on these paths of a resource of this domain
// needs a ticket: resources of the ticket_domains (identity, network) always, and paths that
// change what runs or who can reach it.
func (t *Table) NeedsTicket(domain string, paths []Pointer) bool {
	if t.TicketDomain(domain) {
		return true
	}
	for _, p := range paths {
		if anyPrefix(p, t.ticketPaths) {
			return true
		}
		for _, c := range t.ticketContainers {
			if prefixesOverlap(p, c) {
				return true
			}
		}
	}
	return false
}

// signalDetectors are the detectors the table's signals section may name, in the order their
// signals are raised.
var signalDetectors = []struct {
	signal string
	detect func([]Change) bool
}{
	{SignalIdentityWidened, identityWidened},
	{SignalNetworkOpenWorld, networkOpenedToWorld},
}

// checkDecisions checks the sections that are not rows: ticket domains, exception classes,
// signals, auto-heal bounds and target owners. Every error names the field.
func (t *Table) checkDecisions() error {
	checkDomains := func(field string, ds []string) error {
		for _, d := range ds {
			if !oneOf(d, Domains) {
				return fmt.Errorf("%s: unknown domain %q", field, d)
			}
		}
		return nil
	}
	checkClasses := func(field string, cs []Class) error {
		for _, c := range cs {
			if !oneOf(c, Classes) {
				return fmt.Errorf("%s: unknown class %q", field, c)
			}
		}
		return nil
	}
	if err := checkClasses("expected_classes", t.ExpectedClasses); err != nil {
		return err
	}
	if len(t.TicketDomains) == 0 {
		return fmt.Errorf("ticket_domains: is required (the domains whose exceptions always need a ticket)")
	}
	if err := checkDomains("ticket_domains", t.TicketDomains); err != nil {
		return err
	}
	for c, ec := range t.ExceptionClasses {
		field := "exception_classes." + string(c)
		if !oneOf(c, Classes) {
			return fmt.Errorf("exception_classes: unknown class %q", c)
		}
		if err := checkClasses(field+".accepts", ec.Accepts); err != nil {
			return err
		}
		if ec.Exception == ExceptionNone {
			return fmt.Errorf("%s.exception: %q is the value when no exception applies; name another or leave it out", field, ExceptionNone)
		}
	}
	for name, ds := range t.Signals {
		known := false
		for _, d := range signalDetectors {
			known = known || d.signal == name
		}
		if !known {
			return fmt.Errorf("signals: unknown detector %q", name)
		}
		if err := checkDomains("signals."+name, ds); err != nil {
			return err
		}
	}
	for _, d := range signalDetectors {
		if _, ok := t.Signals[d.signal]; !ok {
			return fmt.Errorf("signals: no entry for detector %q (an empty list runs it on every domain)", d.signal)
		}
	}
	if len(t.AutoHeal.NeverHealDomains) == 0 {
		return fmt.Errorf("auto_heal.never_heal_domains: is required (the domains whose drift always needs a human)")
	}
	if err := checkDomains("auto_heal.never_heal_domains", t.AutoHeal.NeverHealDomains); err != nil {
		return err
	}
	if err := checkClasses("auto_heal.automated_sync_only", t.AutoHeal.AutomatedSyncOnly); err != nil {
		return err
	}
	if err := checkDomains("auto_heal.never_overridable", t.AutoHeal.NeverOverridable); err != nil {
		return err
	}
	for i := range t.TargetOwners {
		o := &t.TargetOwners[i]
		field := fmt.Sprintf("target_owners[%d]", i)
		if g, k, ok := strings.Cut(o.Kind, "/"); !ok || k == "" || strings.Contains(g+k, "*") {
			return fmt.Errorf("%s.kind: %q is not group/Kind (\"/Kind\" for the core group; no globs)", field, o.Kind)
		}
		ptr, err := ParsePointer(o.Target)
		if err != nil || len(ptr) == 0 {
			return fmt.Errorf("%s.target: %q must point at the reference to the target object", field, o.Target)
		}
		o.target = ptr
		if len(o.Paths) == 0 {
			return fmt.Errorf("%s.paths: is required", field)
		}
		for _, p := range o.Paths {
			ptr, err := ParsePointer(p)
			if err != nil {
				return fmt.Errorf("%s.paths: %w", field, err)
			}
			if why := scopeError(ptr, true); why != "" {
				return fmt.Errorf("%s.paths: %q %s", field, p, why)
			}
		}
		if strings.TrimSpace(o.Owner) == "" || strings.TrimSpace(o.Reason) == "" {
			return fmt.Errorf("%s: owner and reason are required", field)
		}
	}
	return nil
}

// TicketDomain reports whether every exception on a resource of this domain needs a ticket.
func (t *Table) TicketDomain(domain string) bool { return oneOf(domain, t.TicketDomains) }

// ExceptionAccepts reports whether an exception of class exception may accept a finding of class
// finding: its own class, and what exception_classes adds.
func (t *Table) ExceptionAccepts(exception, finding Class) bool {
	return exception == finding || oneOf(finding, t.ExceptionClasses[exception].Accepts)
}

// DetectSignals runs the detectors the signals section enables for the domain over a group of
// changes and returns the signals they raise, in detector order.
func (t *Table) DetectSignals(domain string, changes []Change) []string {
	var out []string
	for _, d := range signalDetectors {
		if ds := t.Signals[d.signal]; len(ds) > 0 && !oneOf(domain, ds) {
			continue
		}
		if d.detect(changes) {
			out = append(out, d.signal)
		}
	}
	return out
}

// Expected reports whether drift of this class is the system working as designed
// (expected_classes), so it never blocks and does not make a unit "drifted".
func (t *Table) Expected(c Class) bool { return oneOf(c, t.ExpectedClasses) }

// DetectionSLAFor is how soon drift of risk r must be detected (0 for an unknown risk).
func (t *Table) DetectionSLAFor(r Risk) time.Duration {
	d, _ := time.ParseDuration(t.DetectionSLA[r])
	return d
}
