package drift

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$`)

// Normalize fills defaults that the YAML and HCL syntaxes leave implicit, so both produce the
// same canonical JSON.
func (u *ManagedUnit) Normalize() {
	if u.APIVersion == "" {
		u.APIVersion = APIVersion
	}
	if u.Kind == "" {
		u.Kind = KindManagedUnit
	}
	if u.Spec.Kind == "" {
		u.Spec.Kind = UnitKubernetes
	}
	if u.Spec.Gate == "" {
		u.Spec.Gate = DefaultGate
	}
	u.Spec.RiskTier = strings.ToLower(u.Spec.RiskTier)
	u.Spec.Gate = strings.ToLower(u.Spec.Gate)
	for i := range u.Spec.DomainOverrides {
		o := &u.Spec.DomainOverrides[i]
		o.Risk = strings.ToUpper(o.Risk)
		o.Action = strings.ToUpper(o.Action)
	}
}

// Validate checks a unit, reporting every problem at once.
func (u *ManagedUnit) Validate() error { return u.ValidateWith(DefaultTable()) }

// ValidateWith is Validate with a given decision table (for the domains whose auto-heal a
// domain override may not turn on).
func (u *ManagedUnit) ValidateWith(t *Table) error {
	_, err := u.validate(t)
	return err
}

// validate is ValidateWith returning the unit's policy rules as it compiled them, so that an
// evaluation compiles each CEL expression once.
func (u *ManagedUnit) validate(t *Table) (*PolicyProgram, error) {
	u.Normalize()
	v := &validator{}
	if u.APIVersion != APIVersion {
		v.add("apiVersion", "must be %q", APIVersion)
	}
	if u.Kind != KindManagedUnit {
		v.add("kind", "must be %q", KindManagedUnit)
	}
	if u.Metadata.Name == "" {
		v.add("metadata.name", "is required")
	} else if !nameRE.MatchString(u.Metadata.Name) {
		v.add("metadata.name", "%q must be letters, digits, '.', '_' or '-', starting and ending with a letter or digit", u.Metadata.Name)
	}
	s := &u.Spec
	if s.Kind != UnitOpenTofuStack && s.Kind != UnitKubernetes {
		v.add("spec.kind", "%q is not one of %q, %q", s.Kind, UnitOpenTofuStack, UnitKubernetes)
	}
	if strings.TrimSpace(s.Owner) == "" {
		v.add("spec.owner", "is required: every unit has an owning team")
	}
	if strings.TrimSpace(s.Environment) == "" {
		v.add("spec.environment", "is required (e.g. prod, staging, dev)")
	}
	if !oneOf(s.RiskTier, RiskTiers) {
		v.add("spec.riskTier", "%q is not one of %s", s.RiskTier, quoteList(RiskTiers))
	}
	if !oneOf(s.Gate, Gates) {
		v.add("spec.gate", "%q is not one of %s", s.Gate, quoteList(Gates))
	}
	for i, r := range s.OwnershipRules {
		validateOwnershipRule(v, fmt.Sprintf("spec.ownershipRules[%d]", i), s.Kind, r)
	}
	for i, o := range s.DomainOverrides {
		f := fmt.Sprintf("spec.domainOverrides[%d]", i)
		if !oneOf(o.Domain, Domains) {
			v.add(f+".domain", "%q is not one of %s", o.Domain, quoteList(Domains))
		}
		if o.Risk != "" && Risk(o.Risk).Level() < 0 {
			v.add(f+".risk", "%q is not one of %s", o.Risk, quoteList(Risks))
		}
		if o.Action != "" && !oneOf(Action(o.Action), Actions) {
			v.add(f+".action", "%q is not one of %s", o.Action, quoteList(Actions))
		}
		if o.AutoHeal != nil && *o.AutoHeal && oneOf(o.Domain, t.AutoHeal.NeverOverridable) {
			v.add(f+".autoHeal", "%s drift never heals silently", o.Domain)
		}
	}
	seenBudget := map[string]bool{}
	for i, b := range s.Budgets {
		f := fmt.Sprintf("spec.budgets[%d]", i)
		switch {
		case !nameRE.MatchString(b.Name):
			v.add(f+".name", "%q: want letters, digits, '.', '_' or '-'", b.Name)
		case seenBudget[b.Name]:
			v.add(f+".name", "%q is declared twice", b.Name)
		}
		seenBudget[b.Name] = true
		if b.Domain != "" && !oneOf(b.Domain, Domains) {
			v.add(f+".domain", "%q is not one of %s", b.Domain, quoteList(Domains))
		}
		if b.Class != "" && (!oneOf(Class(b.Class), Classes) || t.Expected(Class(b.Class))) {
			v.add(f+".class", "%q is not a class of unexpected drift", b.Class)
		}
		if b.MinRisk != "" && Risk(b.MinRisk).Level() < 0 {
			v.add(f+".minRisk", "%q is not one of %s", b.MinRisk, quoteList(Risks))
		}
		if b.MaxOpen != nil && *b.MaxOpen < 0 {
			v.add(f+".maxOpen", "%d is negative", *b.MaxOpen)
		}
		if b.MaxAge != "" {
			if d, err := time.ParseDuration(b.MaxAge); err != nil || d <= 0 {
				v.add(f+".maxAge", "%q is not a positive duration such as 10m or 168h", b.MaxAge)
			}
		}
		if b.DetectWithin != "" {
			if d, err := time.ParseDuration(b.DetectWithin); err != nil || d <= 0 {
				v.add(f+".detectWithin", "%q is not a positive duration such as 15m", b.DetectWithin)
			}
		}
		if b.MaxOpen == nil && b.MaxAge == "" && b.DetectWithin == "" {
			v.add(f, "budget %q bounds nothing: set maxOpen, maxAge, detectWithin or several", b.Name)
		}
		if o := b.Objective; o != nil {
			if _, err := ParseTarget(o.Target); err != nil {
				v.add(f+".objective.target", "%v", err)
			}
			if d, err := time.ParseDuration(o.Window); err != nil || d <= 0 {
				v.add(f+".objective.window", "%q is not a positive duration such as 720h", o.Window)
			} else if d > MaxObjectiveWindow {
				v.add(f+".objective.window", "%q is longer than %s", o.Window, MaxObjectiveWindow)
			}
			if b.MaxAge == "" && b.DetectWithin == "" {
				v.add(f+".objective", "an objective judges maxAge and detectWithin: set at least one")
			}
		}
	}
	policy := compilePolicyRules(v, s.PolicyRules)
	validateUnmanagedAllowed(v, s)
	validateThrash(v, s)
	if s.Schedule != "" {
		if _, err := StaleAfter(s.Schedule); err != nil {
			v.add("spec.schedule", "%v", err)
		}
	}
	if s.MaxExceptionDays < 0 || s.MaxExceptionDays > MaxExceptionDaysLimit {
		v.add("spec.maxExceptionDays", "%d is outside 1..%d (0 or unset means %d)", s.MaxExceptionDays, MaxExceptionDaysLimit, DefaultMaxExceptionDays)
	}
	for pat, d := range s.ResourceDomains {
		if !oneOf(d, Domains) {
			v.add("spec.resourceDomains["+pat+"]", "%q is not one of %s", d, quoteList(Domains))
		}
	}
	if err := v.result(fmt.Sprintf("%s %q", KindManagedUnit, u.Metadata.Name)); err != nil {
		return nil, err
	}
	return policy, nil
}

func validateOwnershipRule(v *validator, f, unitKind string, r OwnershipRule) {
	m := r.Resource
	tofu := m.Type != "" || m.Address != ""
	k8s := m.Group != "" || m.Kind != "" || m.Namespace != "" || m.Name != "" || len(m.Labels) > 0
	switch {
	case !tofu && !k8s:
		v.add(f+".resource", "names no resource: set type or address (OpenTofu) or kind (Kubernetes)")
	case tofu && k8s:
		v.add(f+".resource", "mixes OpenTofu (type/address) and Kubernetes (group/kind/namespace/name/labels) selectors")
	case unitKind == UnitOpenTofuStack && k8s:
		v.add(f+".resource", "selects Kubernetes objects but the unit is an %s", UnitOpenTofuStack)
	case unitKind == UnitKubernetes && tofu:
		v.add(f+".resource", "selects OpenTofu resources but the unit is %s", UnitKubernetes)
	case k8s && m.Kind == "":
		v.add(f+".resource.kind", "is required for a Kubernetes selector")
	}
	if len(r.GitOwned)+len(r.RuntimeOwned)+len(r.ControllerOwned) == 0 {
		v.add(f, "owns no paths: set gitOwned, runtimeOwned or controllerOwned")
	}
	checkPaths := func(field string, paths []string) {
		for i, p := range paths {
			ptr, err := ParsePointer(p)
			if err != nil {
				v.add(fmt.Sprintf("%s[%d]", field, i), "%v", err)
				continue
			}
			if len(ptr) == 0 {
				v.add(fmt.Sprintf("%s[%d]", field, i), "the whole object cannot be owned by one party; name a path")
			}
		}
	}
	checkPaths(f+".gitOwned", r.GitOwned)
	checkPaths(f+".runtimeOwned", r.RuntimeOwned)
	for i, c := range r.ControllerOwned {
		cf := fmt.Sprintf("%s.controllerOwned[%d]", f, i)
		checkPaths(cf+".path", []string{c.Path})
		if strings.TrimSpace(c.Owner) == "" {
			v.add(cf+".owner", "is required: name the controller (e.g. horizontal-pod-autoscaler)")
		}
	}
}

// Normalize fills the envelope defaults.
func (e *Exception) Normalize() {
	if e.APIVersion == "" {
		e.APIVersion = APIVersion
	}
	if e.Kind == "" {
		e.Kind = KindException
	}
}

// Validate checks an exception against the house rules: scoped, expiring, ticketed where it
// touches identity, network exposure or what runs.
func (e *Exception) Validate() error { return e.ValidateWith(DefaultTable()) }

// ValidateWith is Validate with a given decision table (for its domains and ticket paths).
func (e *Exception) ValidateWith(t *Table) error { return e.validate(t, nil, time.Time{}) }

// ValidateIn validates an exception as an evaluation of unit at time at sees it: its reference
// must be of the unit's kind, the unit's own resource domains count for the ticket rule, and it
// may not expire more than the unit's maxExceptionDays after at.
func (e *Exception) ValidateIn(t *Table, unit *ManagedUnit, at time.Time) error {
	return e.validate(t, unit, at)
}

func (e *Exception) validate(t *Table, unit *ManagedUnit, at time.Time) error {
	e.Normalize()
	v := &validator{}
	if e.APIVersion != APIVersion {
		v.add("apiVersion", "must be %q", APIVersion)
	}
	if e.Kind != KindException {
		v.add("kind", "must be %q", KindException)
	}
	if e.Metadata.Name == "" {
		v.add("metadata.name", "is required (the exception id, e.g. EXC-1)")
	} else if !nameRE.MatchString(e.Metadata.Name) {
		v.add("metadata.name", "%q must be letters, digits, '.', '_' or '-'", e.Metadata.Name)
	}
	s := &e.Spec
	if s.Unit == "" {
		v.add("spec.unit", "is required: an exception belongs to one unit")
	}
	cls := Class(s.DriftClass)
	if !oneOf(cls, Classes) {
		v.add("spec.driftClass", "%q is not one of %s", s.DriftClass, quoteList(Classes))
	} else if t.Expected(cls) || cls == ClassUnknown {
		v.add("spec.driftClass", "%s is never blocking and needs no exception; %s cannot be accepted", s.DriftClass, ClassUnknown)
	}
	resource := strings.TrimSpace(s.Resource)
	kubernetes := IsKubernetesRef(resource)
	switch {
	case resource == "":
		v.add("spec.resource", "is required: the address (or group/version/Kind/namespace/name) the exception accepts")
	case resource == "*" || strings.Trim(resource, "*./") == "":
		v.add("spec.resource", "%q matches every resource; an exception must be scoped to a resource", s.Resource)
	case kubernetes && len(strings.Split(resource, "/")) != 5:
		v.add("spec.resource", "%q is not a Kubernetes reference group/version/Kind/namespace/name (empty segments for the core group and cluster-scoped objects, e.g. /v1/Secret/web/db)", s.Resource)
	case unit != nil && unit.Spec.Kind == UnitKubernetes && !kubernetes:
		v.add("spec.resource", "%q is an OpenTofu address, but unit %q is a Kubernetes unit: name group/version/Kind/namespace/name", s.Resource, unit.Metadata.Name)
	case unit != nil && unit.Spec.Kind == UnitOpenTofuStack && kubernetes:
		v.add("spec.resource", "%q is a Kubernetes reference, but unit %q is an OpenTofu stack: name a resource address", s.Resource, unit.Metadata.Name)
	}
	var paths []Pointer
	for i, p := range s.Paths {
		f := fmt.Sprintf("spec.paths[%d]", i)
		ptr, err := ParsePointer(p)
		if err != nil {
			v.add(f, "%v", err)
			continue
		}
		if why := scopeError(ptr, kubernetes); why != "" {
			v.add(f, "%q %s", p, why)
			continue
		}
		paths = append(paths, ptr)
	}
	if len(s.Paths) == 0 {
		// A deletion has no paths: STATE_DRIFT on one exactly-named resource is still scoped, because
		// the class itself limits it to state divergence and never accepts a value change.
		if cls != ClassState || strings.Contains(resource, "*") {
			v.add("spec.paths", "is required: an exception accepts named fields, not a whole resource (only a %s exception on one exactly-named resource may omit paths)", ClassState)
		}
	}
	if strings.TrimSpace(s.Reason) == "" {
		v.add("spec.reason", "is required: say why the drift is accepted")
	}
	if strings.TrimSpace(s.ApprovedBy) == "" {
		v.add("spec.approvedBy", "is required: who approved it")
	}
	if s.ExpiresAt == "" {
		v.add("spec.expiresAt", "is required: every exception expires (RFC 3339, e.g. 2026-12-01T00:00:00Z)")
	} else if _, err := time.Parse(time.RFC3339, s.ExpiresAt); err != nil {
		v.add("spec.expiresAt", "%q is not an RFC 3339 time (e.g. 2026-12-01T00:00:00Z)", s.ExpiresAt)
	} else if !at.IsZero() {
		if why := e.LifetimeError(at, unit.MaxExceptionDays()); why != "" {
			v.add("spec.expiresAt", "%s", why)
		}
	}
	if strings.TrimSpace(s.Ticket) == "" && resource != "" {
		if what := ticketReason(t, unit, resource, paths); what != "" {
			v.add("spec.ticket", "is required: the exception touches %s", what)
		}
	}
	return v.result(fmt.Sprintf("%s %q", KindException, e.Metadata.Name))
}

// ticketReason says what makes an exception need a ticket, or "". A wildcard in a type, group
// or kind is resolved to every domain it could match, and the most sensitive one decides.
func ticketReason(t *Table, unit *ManagedUnit, resource string, paths []Pointer) string {
	var unitDomains map[string]string
	if unit != nil {
		unitDomains = unit.Spec.ResourceDomains
	}
	pattern := exceptionTypePattern(resource)
	if !IsKubernetesRef(resource) && strings.Contains(pattern, "*") {
		return "resources of any type matching " + pattern
	}
	// The built-in table's domains count even when the unit maps the type elsewhere: a
	// repository cannot move its own IAM resources out of the identity domain to dodge a ticket.
	domains := append(t.domainsMatching(pattern, nil), t.domainsMatching(pattern, unitDomains)...)
	for _, d := range domains {
		if t.TicketDomain(d) {
			return d + " (" + resource + ")"
		}
	}
	if TerraformKubernetesType(pattern) {
		// A kubernetes_* path is its Kubernetes spelling too: accepting /spec/0/template accepts
		// the containers' images below it.
		paths = withKubernetesPlanePaths(paths)
	}
	for _, d := range domains {
		if t.NeedsTicket(d, paths) {
			return "identity, network exposure or what runs (image, command, securityContext)"
		}
	}
	return ""
}

// Validate checks an AutoHealPolicy.
func (p *AutoHealPolicy) Validate() error {
	v := &validator{}
	if p.APIVersion != APIVersion {
		v.add("apiVersion", "must be %q", APIVersion)
	}
	if p.Metadata.Name == "" {
		v.add("metadata.name", "is required")
	}
	if len(p.Spec.AllowedPaths) == 0 {
		v.add("spec.allowedPaths", "is required: auto-heal names what it may touch")
	}
	// Auto-heal acts on Kubernetes objects only, so its allowed paths follow the Kubernetes scope
	// rule of exceptions. Denied paths may be broad (denying more is safe), but must parse.
	for i, s := range p.Spec.AllowedPaths {
		ptr, err := ParsePointer(s)
		if err != nil {
			v.add(fmt.Sprintf("spec.allowedPaths[%d]", i), "%v", err)
		} else if why := scopeError(ptr, true); why != "" {
			v.add(fmt.Sprintf("spec.allowedPaths[%d]", i), "%q %s", s, why)
		}
	}
	for i, s := range p.Spec.DeniedPaths {
		ptr, err := ParsePointer(s)
		if err != nil {
			v.add(fmt.Sprintf("spec.deniedPaths[%d]", i), "%v", err)
		} else if len(ptr) == 0 {
			v.add(fmt.Sprintf("spec.deniedPaths[%d]", i), "is empty; to heal nothing set maxObjectsPerReconcile: 0")
		}
	}
	if p.Spec.MaxObjectsPerReconcile != nil && *p.Spec.MaxObjectsPerReconcile < 0 {
		v.add("spec.maxObjectsPerReconcile", "must not be negative")
	}
	return v.result(fmt.Sprintf("%s %q", KindAutoHealPolicy, p.Metadata.Name))
}
