package drift

import (
	"fmt"
	"sort"
	"strings"
)

// Markdown renders the decision table as the documentation page, so the docs are generated
// from the same data the classifier runs on.
func (t *Table) Markdown() string {
	var b strings.Builder
	b.WriteString(`---
page_title: "Decision table"
subcategory: ""
description: |-
  How driftplane classifies drift: the rules, the risk matrix and the resource domains.
---

# Decision table

<!-- Generated from internal/drift/decisions.yaml by ` + "`make generate`" + `; do not edit. -->

Every drifted resource is split by who owns its changed paths (Git, a controller, the runtime; or
provider read noise), and each part becomes one finding. The finding is classified by the **first
rule below whose conditions all match**. A ` + "`computed`" + ` risk comes from the risk matrix.
A finding blocks the plan when no exception accepts it and its risk is at or above the unit's
gate. ` + "`auto_heal`" + ` marks drift that *may* heal itself; it does only when the unit sets
` + "`auto_heal = true`" + `, the desired state is known, and no exception accepts the drift.

## Rules

| # | rule | when | class | risk | action | may self-heal | what it means |
|---|------|------|-------|------|--------|---------------|---------------|
`)
	for i, r := range t.Rules {
		risk := string(r.Then.Risk)
		if r.Then.RiskMin != "" {
			risk += " (at least " + string(r.Then.RiskMin) + ")"
		}
		heal := "no"
		if r.Then.AutoHeal {
			heal = "yes"
		}
		desc := r.Description
		if r.Then.Overridable {
			desc += " *(a unit's `domain_override` applies)*"
		}
		switch r.Then.Blocking {
		case BlockingNever:
			desc += " *(never blocks, whatever the gate)*"
		case BlockingAlways:
			desc += " *(blocks whatever the gate, unless the gate is `none` or an exception accepts it)*"
		}
		fmt.Fprintf(&b, "| %d | `%s` | %s | `%s` | %s | `%s` | %s | %s |\n",
			i+1, r.ID, r.When.markdown(), r.Then.Class, risk, r.Then.Action, heal, desc)
	}
	b.WriteString(`
Conditions: ` + "`change`" + ` is what the three planes say (` + "`noise`" + `: only serialisation
differs; ` + "`deleted`" + `: gone outside IaC; ` + "`state_only`" + `: Git already declares what
runs, only state is behind; ` + "`modified`" + `: anything else). ` + "`signal`" + ` is detected from
the values and never printed: ` + "`identity_widened`" + ` (a policy document grants an action,
resource or principal no earlier grant covered, or drops a deny; or a value is added to an
identity resource) and ` + "`network_open_world`" + ` (` + "`0.0.0.0/0`" + ` or ` + "`::/0`" + `
appears). ` + "`exception: emergency`" + ` means an active exception of class ` + "`EMERGENCY_DRIFT`" + `
covers the drift. Paths use ` + "`*`" + ` for one segment and ` + "`**`" + ` for any number.
` + "`policy`" + ` is a unit policy rule's verdict on one resource as it runs (see the policy rules
guide): ` + "`migrating`" + ` (the recorded state and Git already violated it; its migration window
is open), ` + "`overdue`" + ` (the window is over), ` + "`introduced`" + ` (the recorded or Git-declared
value complies, the running one does not), ` + "`error`" + ` (the rule could not be evaluated);
every other finding is ` + "`none`" + `.

## Risk matrix

Computed risk = domain base + environment adjustment + risk-tier adjustment, never below ` +
		"`" + string(t.Risk.Floor) + "`" + ` and never above ` + "`CRITICAL`" + `.

| domain | base risk |
|--------|-----------|
`)
	for _, d := range Domains {
		fmt.Fprintf(&b, "| %s | `%s` |\n", d, t.Risk.DomainBase[d])
	}
	b.WriteString("\n| environment | adjustment | names |\n|---|---|---|\n")
	for _, env := range EnvironmentClasses {
		fmt.Fprintf(&b, "| %s | %+d | %s |\n", env, t.Risk.EnvironmentAdjust[env], codeList(t.Environments[env]))
	}
	fmt.Fprintf(&b, "\nAny other environment name counts as `%s`.\n\n| risk tier | adjustment |\n|---|---|\n", t.defaultEnv)
	for _, tier := range RiskTiers {
		fmt.Fprintf(&b, "| %s | %+d |\n", tier, t.Risk.TierAdjust[tier])
	}
	b.WriteString("\n## Domains\n\nResource types (OpenTofu) and `group/Kind` (Kubernetes; `/Kind` is the core group), first match wins; a unit's `resource_domains` come first. Everything else is `other`.\n\n| domain | resources |\n|---|---|\n")
	for _, dr := range t.DomainRules {
		fmt.Fprintf(&b, "| %s | %s |\n", dr.Domain, codeList(dr.Resources))
	}
	b.WriteString("\n## Kubernetes field managers\n\nWho owns a changed field comes from the live object's `managedFields`. The most recent manager owning the field decides: an **applier** writes Git's desired state, so a difference there is a pending sync (`STALE_DESIRED_STATE`); a **controller** makes it `CONTROLLER_OWNED_DRIFT`; a **human** manager marks a hand change when no audit log names the person. A unit's `appliers` extend the first list; its ownership rules win over all of these.\n\n| kind | field managers |\n|---|---|\n")
	fmt.Fprintf(&b, "| applier | %s |\n| controller | %s |\n| human | %s |\n", codeList(t.FieldManagers.Applier), codeList(t.FieldManagers.Controller), codeList(t.FieldManagers.Human))
	b.WriteString(`
A field manager is a name the client chooses (` + "`kubectl set image --field-manager=anything-controller`" + `), so
a name is trusted only as far as the evidence goes:

- A field Git declares is a controller's only when an ownership rule says so, or when the audit log's
  writes to the object under that manager all came from a service account or ` + "`system:`" + ` identity
  (` + "`system:anonymous`" + ` and ` + "`system:admin`" + ` are not) — from the identities below or the unit's
  ` + "`controllerIdentities`" + ` when the manager is listed there. Otherwise the change is judged as a
  person's: Git owns the field.
- A field Git does not declare (counted only when a manager set it to a non-default value) keeps
  the name's word, because Git never claimed it, unless the audit log shows someone else wrote under
  that name.
- An applier's fields are the recorded plane without an audit log; with one, only when its writes
  under the applier's name all came from the applier's identities below or the unit's
  ` + "`applierIdentities`" + `. A person writing under the applier's name is a person.
- A name under which the audit log holds no write to the object proves nothing: keep the log
  reaching back past the last sync, or give such fields an ownership rule.
- Without an audit log, findings whose ownership came from a manager name say so.

What remains trusted: anyone who holds a listed identity's credentials (a service-account token,
a client certificate) writes as it; without an audit log, an applier name and the name of a field
Git does not declare are taken at their word.

| field manager | audit-log identities (` + "`*`" + ` never crosses ` + "`:`" + `) |
|---|---|
`)
	managers := make([]string, 0, len(t.FieldManagers.Identities))
	for m := range t.FieldManagers.Identities {
		managers = append(managers, m)
	}
	sort.Strings(managers)
	for _, m := range managers {
		fmt.Fprintf(&b, "| `%s` | %s |\n", m, codeList(t.FieldManagers.Identities[m]))
	}
	b.WriteString("\n## Exceptions that need a ticket\n\nAn exception needs a `ticket` when its resource is in one of the domains " + codeList(t.TicketDomains) +
		" (by the unit's domains and by this table's), when its resource type is a glob, or when one of its paths lies at or below one of these paths")
	b.WriteString(" or above one of the second list:\n\n")
	b.WriteString("- at or below: " + codeList(t.TicketPaths) + "\n- above: " + codeList(t.TicketContainers) + "\n")
	t.markdownDecisions(&b)
	return b.String()
}

// markdownDecisions renders the sections that are not rows: expected classes, what exceptions
// accept, where the detectors run, the bounds on auto-heal and the fields owned through another
// object.
func (t *Table) markdownDecisions(b *strings.Builder) {
	fmt.Fprintf(b, "\n## Expected drift\n\nDrift of class %s is the system working as designed: it never blocks, does not make a unit drifted, is never healed and needs no exception (an exception cannot name these classes, nor `%s`).\n",
		codeList(classStrings(t.ExpectedClasses)), ClassUnknown)
	b.WriteString("\n## What an exception accepts\n\nAn exception accepts drift of its own `drift_class`; these classes accept more. When one covers the drift, the finding is decided again with the rules' `exception` condition set as shown.\n\n| exception class | also accepts | rules see `exception` |\n|---|---|---|\n")
	classes := make([]string, 0, len(t.ExceptionClasses))
	for c := range t.ExceptionClasses {
		classes = append(classes, string(c))
	}
	sort.Strings(classes)
	for _, c := range classes {
		ec := t.ExceptionClasses[Class(c)]
		var accepts []string
		for _, a := range ec.Accepts {
			if string(a) != c {
				accepts = append(accepts, string(a))
			}
		}
		as := "*(the decision stands)*"
		if ec.Exception != "" {
			as = "`" + ec.Exception + "`"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", c, codeList(accepts), as)
	}
	b.WriteString("\n## Signals\n\nA detector reads what a change means and raises its `signal`; it runs on these domains only.\n\n| signal | domains |\n|---|---|\n")
	for _, d := range signalDetectors {
		domains := "every domain"
		if ds := t.Signals[d.signal]; len(ds) > 0 {
			domains = codeList(ds)
		}
		fmt.Fprintf(b, "| `%s` | %s |\n", d.signal, domains)
	}
	b.WriteString(`
## Auto-heal

A finding's ` + "`auto_heal_allowed`" + ` is true only when its rule says ` + "`auto_heal`" + `, the unit enables
auto-heal, the desired state is known and fresh, and no exception accepts the drift. The Argo CD
reporter then heals it without a human only when all of these hold too:

- neither the finding's domain nor this table's domain for its resource is one of ` + codeList(t.AutoHeal.NeverHealDomains) + `;
- the object exists and changed (a missing object is Argo CD's sync to create), and the application is Healthy;
`)
	if len(t.AutoHeal.AutomatedSyncOnly) > 0 {
		fmt.Fprintf(b, "- drift of class %s heals only on an application that syncs itself (`spec.syncPolicy.automated`);\n", codeList(classStrings(t.AutoHeal.AutomatedSyncOnly)))
	}
	b.WriteString("- an AutoHealPolicy applying to the object allows the path of every changed field and denies none, within its `maxObjectsPerReconcile`.\n")
	if len(t.AutoHeal.NeverOverridable) > 0 {
		fmt.Fprintf(b, "\nA unit's `domain_override` may not turn auto-heal on for %s.\n", codeList(t.AutoHeal.NeverOverridable))
	}
	if len(t.TargetOwners) > 0 {
		b.WriteString("\n## Fields owned through another object\n\nWhen an application holds one of these objects, the Argo CD plugin leaves the fields it owns out of the object it points at, so Argo CD never syncs Git's value over the controller's.\n\n| object | points at its target with | owns | owner |\n|---|---|---|---|\n")
		for _, o := range t.TargetOwners {
			fmt.Fprintf(b, "| `%s` | `%s` | %s | `%s` |\n", o.Kind, o.Target, codeList(o.Paths), o.Owner)
		}
	}
	if len(t.ComputedAttributes) > 0 {
		b.WriteString("\n## Provider bookkeeping\n\nAttributes a provider computes and never takes from configuration change with every write (an out-of-band label bumps a Kubernetes object's `resource_version`). A change at or below these paths never forms drift on its own and never raises the class or risk of a real change beside it, unless the plan's configuration sets the attribute. `drift_finding`'s `provider_schema_json_path` and `driftplane scan` add what the provider's own schema says (computed, not optional), believed only for unset scalars or collections of scalars whose change raises no signal. Paths of `kubernetes_*` resources also match rules, ownership and exceptions in the Kubernetes spelling: `/metadata/0/labels/team` is `/metadata/labels/team`.\n\n| resources | paths |\n|---|---|\n")
		for _, c := range t.ComputedAttributes {
			fmt.Fprintf(b, "| %s | %s |\n", codeList(c.Resources), codeList(c.Paths))
		}
	}
	markdownReconcile(b)
	markdownLive(b)
	markdownReconcileArgo(b)
	b.WriteString("\n## Detection SLA\n\nHow soon after a change (the audit source's time) its drift must be first seen, per risk; `driftplane slo` reports the share detected within it.\n\n| risk | detected within |\n|---|---|\n")
	for i := len(Risks) - 1; i >= 0; i-- {
		fmt.Fprintf(b, "| %s | %s |\n", Risks[i], t.DetectionSLAFor(Risks[i]))
	}
}

func classStrings(cs []Class) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func (w When) markdown() string {
	var parts []string
	add := func(name string, vals []string) {
		if len(vals) > 0 {
			parts = append(parts, name+": "+codeList(vals))
		}
	}
	add("change", w.Change)
	add("ownership", w.Ownership)
	add("signal", w.Signal)
	add("domain", w.Domain)
	add("environment", w.Environment)
	add("tier", w.Tier)
	add("exception", w.Exception)
	add("actor", w.Actor)
	if w.IncidentRequired != nil {
		parts = append(parts, fmt.Sprintf("incident_required: `%v`", *w.IncidentRequired))
	}
	add("every path under", w.PathsAll)
	add("a path under", w.PathsAny)
	add("policy", w.Policy)
	if len(parts) == 0 {
		return "*(anything)*"
	}
	return strings.Join(parts, "; ")
}

func codeList(vals []string) string {
	v := append([]string(nil), vals...)
	if len(v) > 12 {
		sort.Strings(v)
	}
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = "`" + s + "`"
	}
	return strings.Join(q, ", ")
}
