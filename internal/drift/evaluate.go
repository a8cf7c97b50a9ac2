package drift

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Observation is one resource seen on the three planes, as a source (plan JSON, Kubernetes,
// state) hands it to the core. Values are JSON-shaped and already redacted (see Redact).
type Observation struct {
	// Ref is the resource's address (module.x.aws_iam_role.r) or group/version/kind/namespace/name.
	Ref string
	// Type is the OpenTofu resource type, or "group/Kind" for Kubernetes, used for the domain and
	// for ownership rules.
	Type string
	// Kubernetes selectors for ownership rules; empty for OpenTofu.
	Group, Kind, Namespace, Name string
	Labels                       map[string]string

	// Deleted means the resource no longer exists though it is recorded (or declared).
	Deleted bool
	// Recorded and Actual are the resource as the engine remembers it and as it runs.
	Recorded, Actual any
	// Desired is what Git declares, when the source knows it (a normal plan; rendered manifests).
	Desired      any
	DesiredKnown bool
	// DesiredUnknown lists paths whose desired value is not known until apply.
	DesiredUnknown []Pointer
	// SensitivePaths were redacted by the source; findings name them but never their values.
	SensitivePaths []Pointer
	// FieldOwner, when set, names the manager that owns a path (Kubernetes managedFields) and its
	// kind: ManagerApplier, ActorController, ActorHuman or "".
	FieldOwner func(Pointer) (owner, kind string)
	// Actor is who changed the resource, when an audit source says so; ActorOf, when set, says it
	// per changed path and wins over Actor.
	Actor   *Actor
	ActorOf func(Pointer) *Actor
	// OwnershipNote, when set, qualifies ownership that came from FieldOwner (e.g. "ownership rests
	// on field-manager names only: no audit log was given"); it is added to those findings.
	OwnershipNote string
	// Computed are attributes the provider's schema says it computes and never takes from
	// configuration; with the table's computed_attributes, their changes are not drift (see
	// ComputedAttr for what a claim is held to).
	Computed []ComputedAttr
	// Configuration is the resource's `expressions` from the plan's configuration section, or nil
	// when the source does not know it; no computed attribute it sets is ignored.
	Configuration map[string]any
	// Dependency, Failure and MutableRef mark an observation that is not drift between the
	// planes (see observe); at most one is set, and then Recorded and Actual are context only.
	Dependency *DependencyChange
	Failure    *ReconcileFailure
	MutableRef *MutableReference
	// ProviderUpgrade, when set, says the resource's provider changed version between the
	// recorded state and this observation (see observeUpgrade).
	ProviderUpgrade *ProviderUpgrade
	// Live marks a fact a live-object detector saw (a moved image digest, a secret not
	// delivered, an unmanaged object); like Dependency, Recorded and Actual are context only.
	Live *LiveCheck
	// Created is the live object's creation time (Kubernetes), zero when unknown: a policy rule
	// gives a migration window only to objects created before its since.
	Created time.Time
}

// Actor is who made a change, from an audit source (Kubernetes audit log, CloudTrail).
type Actor struct {
	Username  string   `json:"username"`
	Groups    []string `json:"groups,omitempty"`
	UserAgent string   `json:"user_agent,omitempty"`
	Time      string   `json:"time,omitempty"`
	// Manager is the Kubernetes field manager the change was made as.
	Manager string `json:"manager,omitempty"`
	// Kind is human, breakglass, controller, service or unknown.
	Kind string `json:"kind"`
}

func (ev *evaluator) actorOf(obs *Observation, p Pointer) *Actor {
	a := obs.Actor
	if obs.ActorOf != nil {
		if x := obs.ActorOf(p); x != nil {
			a = x
		}
	}
	if a == nil {
		return nil
	}
	c := *a
	if c.Kind == "" {
		c.Kind = ActorUnknown
	}
	// Break-glass is a property of the unit's policy, not of the audit record.
	for _, g := range c.Groups {
		for _, bg := range ev.unit.Spec.BreakGlassGroups {
			if g == bg {
				c.Kind = ActorBreakGlass
			}
		}
	}
	return &c
}

// Options tune an evaluation.
type Options struct {
	Table *Table
	// Now is an explicit evaluation time. It may only move the evaluation later than Clock (to ask
	// "will this still pass next week"), never earlier: an evaluation time in the past would
	// revive expired exceptions.
	Now time.Time
	// Clock is the real clock; only tests of the core replace it.
	Clock func() time.Time
	// DetectedAt is stamped on every finding; sources pass their own observation time (the plan's
	// timestamp) so the same input always yields the same bytes.
	DetectedAt string
	// Resources are every resource of the unit as it runs, drifted or not (a plan's prior
	// state): policy rules judge these besides the observations.
	Resources []Observation
}

// Option is a functional option for Evaluate.
type Option func(*Options)

// WithTable evaluates against a decision table other than the built-in one.
func WithTable(t *Table) Option { return func(o *Options) { o.Table = t } }

// WithNow asks for the evaluation at t; a t before the real clock is ignored (see Options.Now).
func WithNow(t time.Time) Option { return func(o *Options) { o.Now = t } }

// WithClock replaces the real clock. Front ends never expose it: it exists so the core's own
// tests can fix time.
func WithClock(c func() time.Time) Option { return func(o *Options) { o.Clock = c } }

// EvaluationTime is when exceptions are judged: the real clock, or the explicit time when later.
func (o Options) EvaluationTime() time.Time {
	clock := o.Clock
	if clock == nil {
		clock = time.Now
	}
	now := clock().UTC()
	if o.Now.After(now) {
		return o.Now.UTC()
	}
	return now
}

// WithResources gives the unit's whole inventory (Options.Resources) for its policy rules.
func WithResources(rs []Observation) Option { return func(o *Options) { o.Resources = rs } }

// WithDetectedAt stamps findings with the time the source observed the drift.
func WithDetectedAt(ts string) Option { return func(o *Options) { o.DetectedAt = ts } }

// Evaluate classifies every observation of a unit, applies its exceptions and gate, and returns
// the report. It does not mutate its inputs.
func Evaluate(unit *ManagedUnit, exceptions []*Exception, observations []Observation, opts ...Option) (*Report, error) {
	o := Options{Table: DefaultTable()}
	for _, opt := range opts {
		opt(&o)
	}
	at := o.EvaluationTime()
	if unit == nil {
		return nil, fmt.Errorf("no unit to evaluate")
	}
	policy, err := unit.validate(o.Table)
	if err != nil {
		return nil, err
	}
	for _, e := range exceptions {
		if err := e.ValidateIn(o.Table, unit, at); err != nil {
			return nil, err
		}
	}
	ev := &evaluator{opts: o, unit: unit, at: at, policy: policy}
	rep := &Report{Unit: unit.Metadata.Name, Gate: unit.Spec.Gate, Findings: []Finding{}}
	var own []*Exception
	for _, e := range exceptions {
		if e.Spec.Unit != unit.Metadata.Name {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("exception %s belongs to unit %q, not %q; it was ignored", e.ID(), e.Spec.Unit, unit.Metadata.Name))
			continue
		}
		own = append(own, e)
	}
	sort.SliceStable(own, func(i, j int) bool { return own[i].ID() < own[j].ID() })
	ev.exceptions = own

	for i := range observations {
		rep.Findings = append(rep.Findings, ev.observe(&observations[i])...)
	}
	policyFindings, blocking := ev.policyFindings(observations, &rep.Warnings)
	rep.Findings = append(rep.Findings, policyFindings...)
	sortFindings(rep.Findings)
	gateRisk, gated := GateRisk(unit.Spec.Gate)
	rep.Status = StatusClean
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if !o.Table.Expected(f.DriftClass) {
			rep.Status = StatusDrifted
		}
		if f.AcceptedBy == "" && !o.Table.Expected(f.DriftClass) && blocks(blocking[f.FindingID], gated, gateRisk, f.Risk) {
			f.Blocking = true
			rep.BlockingCount++
		}
	}
	rep.Summary = summarize(rep, o.Table)
	return rep, nil
}

type evaluator struct {
	opts       Options
	at         time.Time
	unit       *ManagedUnit
	exceptions []*Exception
	policy     *PolicyProgram
}

type group struct {
	change    string
	ownership string
	owners    []string
	actor     *Actor
	changes   []Change
	// viaManager: some change's ownership came from the source's field managers, not a rule.
	viaManager bool
	// kubernetesBlocks: the resource is a Terraform kubernetes_* one (see KubernetesPlanePath).
	kubernetesBlocks bool
	// policy is a policy rule's verdict (PolicyStates); empty for drift between the planes.
	policy string
}

// observeDrift classifies drift between the planes (observe dispatches the other kinds).
func (ev *evaluator) observeDrift(obs *Observation) []Finding {
	t := ev.opts.Table
	domain := t.DomainFor(obs.Type, ev.unit.Spec.ResourceDomains)
	if obs.Deleted {
		return []Finding{ev.finding(obs, domain, group{change: ChangeDeleted, ownership: OwnerGit})}
	}
	changes := ev.withoutComputed(obs, domain, Diff(obs.Recorded, obs.Actual))
	if len(changes) == 0 {
		return nil
	}
	var noise group
	noise.change, noise.ownership = ChangeNoise, OwnerGit
	// One finding per (ownership, actor): two people's changes to one object are two decisions.
	type key struct{ ownership, actor string }
	groups := map[key]*group{}
	ownerNames := map[key]map[string]bool{}
	for _, c := range changes {
		if c.Noise {
			noise.changes = append(noise.changes, c)
			continue
		}
		kind, name, viaManager := ev.ownerOf(obs, c.Path)
		actor := ev.actorOf(obs, c.Path)
		k := key{ownership: kind}
		if actor != nil {
			k.actor = actor.Username
		}
		g := groups[k]
		if g == nil {
			g = &group{change: ChangeModified, ownership: kind, actor: actor}
			groups[k] = g
			ownerNames[k] = map[string]bool{}
		}
		g.changes = append(g.changes, c)
		g.viaManager = g.viaManager || viaManager
		if name != "" {
			ownerNames[k][name] = true
		}
	}
	var out []Finding
	if len(noise.changes) > 0 {
		out = append(out, ev.finding(obs, domain, noise))
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	rank := map[string]int{OwnerGit: 0, OwnerApplier: 1, OwnerController: 2, OwnerRuntime: 3}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ownership != keys[j].ownership {
			return rank[keys[i].ownership] < rank[keys[j].ownership]
		}
		return keys[i].actor < keys[j].actor
	})
	for _, k := range keys {
		g := groups[k]
		for n := range ownerNames[k] {
			g.owners = append(g.owners, n)
		}
		sort.Strings(g.owners)
		if k.ownership == OwnerGit && ev.stateOnly(obs, g.changes) {
			g.change = ChangeStateOnly
		}
		out = append(out, ev.finding(obs, domain, *g))
	}
	return out
}

// stateOnly: Git already declares every changed value, so only the recorded state is behind.
func (ev *evaluator) stateOnly(obs *Observation, changes []Change) bool {
	if !obs.DesiredKnown {
		return false
	}
	for _, c := range changes {
		for _, u := range obs.DesiredUnknown {
			if c.Path.HasPrefix(u) || u.HasPrefix(c.Path) {
				return false
			}
		}
		d, ok := ValueAt(obs.Desired, c.Path)
		if !ok {
			d = nil
		}
		if !Equivalent(d, c.After) {
			return false
		}
	}
	return true
}

type ownerClaim struct {
	pattern Pointer
	kind    string
	name    string
}

// ownerOf resolves who owns a path: the most specific matching rule path wins (Git on a tie,
// because reporting drift is the safe side), then the source's field manager, then Git.
func (ev *evaluator) ownerOf(obs *Observation, p Pointer) (kind, name string, viaManager bool) {
	var best *ownerClaim
	consider := func(c ownerClaim) {
		if !pathHasPrefix(p, c.pattern, obs.Kind == "" && TerraformKubernetesType(obs.Type)) {
			return
		}
		if best == nil || c.pattern.specificity() > best.pattern.specificity() ||
			(c.pattern.specificity() == best.pattern.specificity() && c.kind == OwnerGit) {
			cc := c
			best = &cc
		}
	}
	for _, r := range ev.unit.Spec.OwnershipRules {
		if !ruleMatches(r.Resource, obs) {
			continue
		}
		for _, s := range r.GitOwned {
			consider(ownerClaim{MustPointer(s), OwnerGit, ""})
		}
		for _, s := range r.RuntimeOwned {
			consider(ownerClaim{MustPointer(s), OwnerRuntime, OwnerRuntime})
		}
		for _, c := range r.ControllerOwned {
			consider(ownerClaim{MustPointer(c.Path), OwnerController, c.Owner})
		}
	}
	if best != nil {
		return best.kind, best.name, false
	}
	if obs.FieldOwner != nil {
		switch owner, kind := obs.FieldOwner(p); kind {
		case ActorController:
			return OwnerController, owner, true
		case ManagerApplier:
			return OwnerApplier, owner, true
		}
	}
	return OwnerGit, "", false
}

func ruleMatches(m ResourceMatch, obs *Observation) bool {
	if m.Type != "" && !globSegment(m.Type, obs.Type) {
		return false
	}
	if m.Address != "" && !MatchAddress(m.Address, obs.Ref) {
		return false
	}
	if m.Kind != "" {
		if obs.Kind == "" || !globSegment(m.Kind, obs.Kind) || !globSegment(m.Group, obs.Group) {
			return false
		}
	}
	if m.Namespace != "" && !globSegment(m.Namespace, obs.Namespace) {
		return false
	}
	if m.Name != "" && !globSegment(m.Name, obs.Name) {
		return false
	}
	for k, v := range m.Labels {
		if obs.Labels[k] != v {
			return false
		}
	}
	return true
}

func (ev *evaluator) input(domain string, g group, exception string) Input {
	in := Input{
		Change:           g.change,
		Ownership:        g.ownership,
		Domain:           domain,
		Environment:      ev.unit.Spec.Environment,
		Tier:             ev.unit.Spec.RiskTier,
		Exception:        exception,
		Actor:            ActorUnknown,
		IncidentRequired: ev.unit.Spec.IncidentRequired,
		Policy:           orDefault(g.policy, PolicyNone),
	}
	if g.actor != nil {
		in.Actor = g.actor.Kind
	}
	for _, c := range g.changes {
		in.Paths = append(in.Paths, c.Path)
	}
	in.KubernetesBlocks = g.kubernetesBlocks
	if g.change == ChangeModified {
		in.Signals = ev.opts.Table.DetectSignals(domain, g.changes)
	}
	return in
}

func (ev *evaluator) finding(obs *Observation, domain string, g group) Finding {
	t := ev.opts.Table
	g.kubernetesBlocks = obs.Kind == "" && TerraformKubernetesType(obs.Type)
	in := ev.input(domain, g, ExceptionNone)
	d := t.Decide(in, ev.unit.Spec.DomainOverrides)
	f := Finding{
		DetectedAt:    ev.opts.DetectedAt,
		Unit:          ev.unit.Metadata.Name,
		Owner:         ev.unit.Spec.Owner,
		Environment:   ev.unit.Spec.Environment,
		Domain:        domain,
		ResourceRef:   obs.Ref,
		ChangedFields: []string{},
		Deleted:       g.change == ChangeDeleted,
	}
	if g.actor != nil {
		f.Actor = g.actor.Username
		f.ActorDetail = g.actor
	}
	sensitive := map[string]bool{}
	for _, c := range g.changes {
		ps := c.Path.String()
		f.ChangedFields = append(f.ChangedFields, ps)
		for _, sp := range obs.SensitivePaths {
			if c.Path.HasPrefix(sp) || sp.HasPrefix(c.Path) {
				sensitive[ps] = true
			}
		}
	}
	for _, ps := range f.ChangedFields {
		if sensitive[ps] {
			f.SensitiveFields = append(f.SensitiveFields, ps)
		}
	}
	f.Evidence = evidenceDigest(obs.Ref, f.Deleted, g.changes)
	f.Changes = g.changes
	f.FindingID = findingID(f.Unit, f.ResourceRef, f.ChangedFields, f.Evidence)
	ev.apply(&f, d, obs)
	if len(g.owners) > 0 {
		f.Explanation = "owned by " + strings.Join(g.owners, ", ")
	}
	if g.actor != nil {
		f.Explanation = joinSentences(f.Explanation, describeActor(g.actor))
	}
	if g.viaManager && obs.OwnershipNote != "" {
		f.Explanation = joinSentences(f.Explanation, obs.OwnershipNote)
	}
	if !t.Expected(f.DriftClass) {
		ev.applyExceptions(&f, obs, domain, g)
	}
	return f
}

func (ev *evaluator) apply(f *Finding, d Decision, obs *Observation) {
	f.DriftClass, f.Risk, f.RecommendedAction, f.Rule = d.Class, d.Risk, d.Action, d.Rule
	f.AutoHealAllowed = autoHealAllowed(d, ev.unit, obs, f.AcceptedBy)
}

func (ev *evaluator) applyExceptions(f *Finding, obs *Observation, domain string, g group) {
	var reasons []string
	for _, e := range ev.exceptions {
		if !MatchAddress(e.Spec.Resource, f.ResourceRef) {
			continue
		}
		if missing := uncovered(e, f); len(missing) > 0 {
			if f.Deleted {
				reasons = append(reasons, fmt.Sprintf("exception %s names paths, but the resource was deleted (only a %s exception without paths accepts a deletion)", e.ID(), ClassState))
			} else {
				reasons = append(reasons, fmt.Sprintf("exception %s does not cover %s", e.ID(), strings.Join(missing, ", ")))
			}
			continue
		}
		exClass := Class(e.Spec.DriftClass)
		if !ev.opts.Table.ExceptionAccepts(exClass, f.DriftClass) {
			reasons = append(reasons, fmt.Sprintf("exception %s accepts %s, but this is %s", e.ID(), exClass, f.DriftClass))
			continue
		}
		if e.Expired(ev.at) {
			reasons = append(reasons, fmt.Sprintf("exception %s expired at %s", e.ID(), e.Spec.ExpiresAt))
			continue
		}
		if as := ev.opts.Table.ExceptionClasses[exClass].Exception; as != "" {
			d := ev.opts.Table.Decide(ev.input(domain, g, as), ev.unit.Spec.DomainOverrides)
			ev.apply(f, d, obs)
		}
		f.AcceptedBy = e.ID()
		f.AutoHealAllowed = false
		f.Explanation = joinSentences(f.Explanation, fmt.Sprintf("Accepted by exception %s until %s (ticket %s, approved by %s)", e.ID(), e.Spec.ExpiresAt, orDefault(e.Spec.Ticket, "none"), e.Spec.ApprovedBy))
		return
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "no exception matches "+f.ResourceRef)
	}
	f.Explanation = joinSentences(f.Explanation, "Not accepted: "+strings.Join(reasons, "; "))
}

func joinSentences(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return strings.TrimSuffix(a, ".") + ". " + b
}

func describeActor(a *Actor) string {
	s := "Changed"
	if a.Username != "" {
		s += " by " + a.Username
	}
	if len(a.Groups) > 0 {
		s += " (groups " + strings.Join(a.Groups, ", ") + ")"
	}
	if a.Manager != "" {
		s += " as field manager " + a.Manager
	}
	if a.UserAgent != "" {
		s += " via " + a.UserAgent
	}
	if a.Time != "" {
		s += " at " + a.Time
	}
	return s
}

// uncovered lists the changed fields none of the exception's paths covers. An exception without
// paths (only valid for STATE_DRIFT on one resource) covers a deletion and nothing else.
func uncovered(e *Exception, f *Finding) []string {
	if f.Deleted {
		if len(e.Spec.Paths) == 0 {
			return nil
		}
		return []string{"(deleted resource)"}
	}
	if len(e.Spec.Paths) == 0 {
		return f.ChangedFields
	}
	var missing []string
	kubernetesBlocks := !IsKubernetesRef(f.ResourceRef) && TerraformKubernetesType(ResourceType(f.ResourceRef))
	for _, cf := range f.ChangedFields {
		p := MustPointer(cf)
		ok := false
		for _, ep := range e.Spec.Paths {
			if pp, err := ParsePointer(ep); err == nil && pathHasPrefix(p, pp, kubernetesBlocks) {
				ok = true
				break
			}
		}
		if !ok {
			missing = append(missing, cf)
		}
	}
	return missing
}
