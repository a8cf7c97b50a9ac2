package drift

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

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
	Rules            []Rule             `json:"rules"`
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
}

// Decision is a row's outcome.
type Decision struct {
	Class       Class  `json:"class"`
	Risk        Risk   `json:"risk"`
	RiskMin     Risk   `json:"risk_min,omitempty"`
	Action      Action `json:"action"`
	AutoHeal    bool   `json:"auto_heal,omitempty"`
	Overridable bool   `json:"overridable,omitempty"`
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
		if class == "default" {
			continue
		}
		for _, a := range aliases {
			t.envAlias[strings.ToLower(a)] = class
		}
	}
	if d, ok := t.Environments["default"]; ok && len(d) == 1 {
		t.defaultEnv = d[0]
	} else {
		return nil, fmt.Errorf("environments.default must name one environment class")
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
		for _, d := range r.When.Domain {
			if !oneOf(d, Domains) {
				return nil, fmt.Errorf("rule %s: unknown domain %q", r.ID, d)
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
		len(w.Exception)+len(w.Actor)+len(w.PathsAll)+len(w.PathsAny) == 0 && w.IncidentRequired == nil
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

// ManagerApplier is the kind of a field manager that applies Git's desired state.
const ManagerApplier = "applier"

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
		!w.Actor.has(orDefault(in.Actor, ActorUnknown)) {
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
			if !anyPrefix(p, r.pathsAll) {
				return false
			}
		}
	}
	if len(r.pathsAny) > 0 {
		found := false
		for _, p := range in.Paths {
			if anyPrefix(p, r.pathsAny) {
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
// needs a ticket: identity and network resources always, and paths that change what runs or who
// can reach it.
func (t *Table) NeedsTicket(domain string, paths []Pointer) bool {
	if domain == DomainIdentity || domain == DomainNetwork {
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
