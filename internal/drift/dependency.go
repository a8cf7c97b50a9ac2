package drift

import (
	"fmt"
	"sort"
	"strings"
)

// Values of the decision table's `change` condition beyond drift between the planes (see Input).
const (
	// ChangeDependency: a normal plan changes the resource only where its configuration reads a
	// data source or a remote state output (DependencyChange).
	ChangeDependency = "dependency"
	// ChangeMutableReference: the configuration names something that can move under it (an
	// unpinned module source, a provider without a version constraint, a :latest image).
	ChangeMutableReference = "mutable_reference"
	// ChangeProviderUpgrade: the resource's provider changed version between the recorded state
	// and this plan, and the change is one an upgrade makes (ProviderUpgrade).
	ChangeProviderUpgrade = "provider_upgrade"
	// ChangeFailed: the last apply of the resource did not converge (ReconcileFailure).
	ChangeFailed = "failed"
)

// ChangeKinds lists the values of the decision table's `change` condition.
var ChangeKinds = []string{
	ChangeNoise, ChangeDeleted, ChangeStateOnly, ChangeModified,
	ChangeDependency, ChangeMutableReference, ChangeProviderUpgrade, ChangeFailed,
	ChangeImageDigest, ChangeSecretSync, ChangeSecretConsumer, ChangeUnmanaged, ChangeUnobserved,
	ChangeSyncFailed, ChangeThrash,
}

// DependencyChange is a planned change to a resource that comes only from what its configuration
// reads: every changed attribute the configuration sets references a data source (or a
// terraform_remote_state output), the configuration sets no other changed attribute, and the
// resource did not drift (recorded and actual agree). Sources build it from a normal plan; the
// values are the plan's before (the refreshed resource) and after.
type DependencyChange struct {
	// Sources are the data sources the changed attributes read, as configuration addresses
	// (data.aws_ami.base, module.net.data.terraform_remote_state.vpc).
	Sources []string
	// Paths are the changed attributes the sources explain.
	Paths []Pointer
	// Before and After are the resource's values around the planned change (redacted).
	Before, After any
}

// ReconcileFailure says the last apply of a resource did not converge.
type ReconcileFailure struct {
	// Reason is FailureTainted or FailureDeposed.
	Reason string
	// Deposed is the deposed object's key, for FailureDeposed.
	Deposed string
	// Phase, Revision and Message are the applier's failed sync operation, for FailureSyncFailed
	// (Message as the applier wrote it: the core sanitizes it).
	Phase, Revision, Message string
	// Thrash is the path that thrashes, for FailureThrash.
	Thrash *ReconcileThrashing
}

// Reasons of a ReconcileFailure.
const (
	// FailureTainted: the state records the object as tainted (a create or a provisioner failed).
	FailureTainted = "tainted"
	// FailureDeposed: a create_before_destroy replacement failed midway and left the old object
	// behind, deposed.
	FailureDeposed = "deposed"
	// FailureApplyFailed: the machine-readable log of the unit's last apply says the apply of
	// the resource errored (ReconcileFailure.Message: OpenTofu's error summary, sanitized by the
	// core), or, on the pseudo-resource "apply", that the apply failed as a whole.
	FailureApplyFailed = "apply_failed"
)

// MutableReference is a reference in configuration that can change what is deployed without any
// change in Git.
type MutableReference struct {
	// Kind is RefModuleSource, RefProviderVersion or RefImage.
	Kind string
	// Reference is what is referenced, printable: a module source without credentials, a
	// provider address, an image name.
	Reference string
	// Path is the attribute holding an image reference; empty for modules and providers.
	Path Pointer
	// Why completes "… is mutable: <why>".
	Why string
}

// Kinds of MutableReference.
const (
	RefModuleSource    = "module_source"
	RefProviderVersion = "provider_version"
	RefImage           = "image"
)

// ProviderUpgrade names the versions of a resource's provider in the recorded state and in the
// plan, when they differ.
type ProviderUpgrade struct {
	Provider string
	From, To string
}

// observe classifies one observation: the special kinds a source marks, or drift between the
// planes (observeDrift).
func (ev *evaluator) observe(obs *Observation) []Finding {
	switch {
	case obs.Live != nil:
		return []Finding{ev.liveFinding(obs)}
	case obs.Failure != nil:
		return []Finding{ev.failureFinding(obs)}
	case obs.Dependency != nil:
		if f, ok := ev.dependencyFinding(obs); ok {
			return []Finding{f}
		}
		return nil
	case obs.MutableRef != nil:
		return []Finding{ev.mutableRefFinding(obs)}
	case obs.ProviderUpgrade != nil:
		return ev.observeUpgrade(obs)
	}
	return ev.observeDrift(obs)
}

// special builds a finding that is not drift between the planes, decided by the table on the
// change kind alone (ownership Git: the unit's own configuration).
func (ev *evaluator) special(obs *Observation, change string, changes []Change, tag string, evidence any) (Finding, group, string) {
	t := ev.opts.Table
	domain := t.DomainFor(obs.Type, ev.unit.Spec.ResourceDomains)
	g := group{change: change, ownership: OwnerGit, changes: changes}
	d := t.Decide(ev.input(domain, g, ExceptionNone), ev.unit.Spec.DomainOverrides)
	f := Finding{
		DetectedAt:    ev.opts.DetectedAt,
		Unit:          ev.unit.Metadata.Name,
		Owner:         ev.unit.Spec.Owner,
		Environment:   ev.unit.Spec.Environment,
		Domain:        domain,
		ResourceRef:   obs.Ref,
		ChangedFields: []string{},
		Changes:       changes,
	}
	for _, c := range changes {
		f.ChangedFields = append(f.ChangedFields, c.Path.String())
	}
	for _, ps := range f.ChangedFields {
		for _, sp := range obs.SensitivePaths {
			if p := MustPointer(ps); p.HasPrefix(sp) || sp.HasPrefix(p) {
				f.SensitiveFields = append(f.SensitiveFields, ps)
				break
			}
		}
	}
	if len(changes) > 0 {
		f.Evidence = evidenceDigest(obs.Ref, false, changes)
	} else {
		f.Evidence = ContentDigest(evidence)
	}
	// The tag keeps the id apart from a drift finding on the same paths of the same resource.
	f.FindingID = findingID(f.Unit, f.ResourceRef, append(append([]string(nil), f.ChangedFields...), tag), f.Evidence)
	ev.apply(&f, d, obs)
	return f, g, domain
}

// failureFinding is FAILED_RECONCILIATION for a resource whose last apply did not converge. It
// never heals: applying again is what already failed.
func (ev *evaluator) failureFinding(obs *Observation) Finding {
	fl := obs.Failure
	if fl.Reason == FailureSyncFailed || fl.Reason == FailureThrash {
		return ev.reconcileFinding(obs)
	}
	f, g, domain := ev.special(obs, ChangeFailed, nil, "failed:"+fl.Reason, struct{ Ref, Reason, Deposed string }{obs.Ref, fl.Reason, fl.Deposed})
	f.AutoHealAllowed = false
	switch fl.Reason {
	case FailureApplyFailed:
		// The summary is the provider's words and may quote a value: sanitized, strictly for
		// the secrets domain, like an applier's message on the Kubernetes plane.
		msg := SanitizeMessage(fl.Message, domain == DomainSecrets || ev.opts.Table.DomainFor(obs.Type, nil) == DomainSecrets)
		if msg == "" {
			msg = "no message given"
		}
		f.Explanation = fmt.Sprintf("The last apply failed here: %s. Applying again is what failed: investigate before applying again; it is never auto-healed", msg)
	case FailureDeposed:
		f.Explanation = fmt.Sprintf("The last apply did not converge: a replacement failed midway and left deposed object %s behind in the state; investigate why before applying again", fl.Deposed)
	default:
		f.Explanation = "The last apply did not converge: the state records the resource as tainted (its create or a provisioner failed), so the next apply replaces it; investigate why before applying again"
	}
	if !ev.opts.Table.Expected(f.DriftClass) {
		ev.applyExceptions(&f, obs, domain, g)
	}
	return f
}

// dependencyFinding is DEPENDENCY_DRIFT for a planned change that only what the resource reads
// explains. The source vouches that the resource did not drift; the paths are checked again
// here so a source cannot hand over a change the sources do not explain.
func (ev *evaluator) dependencyFinding(obs *Observation) (Finding, bool) {
	dep := obs.Dependency
	var changes []Change
	for _, c := range Diff(dep.Before, dep.After) {
		for _, p := range dep.Paths {
			if c.Path.HasPrefix(p) {
				changes = append(changes, c)
				break
			}
		}
	}
	if len(changes) == 0 || len(dep.Sources) == 0 {
		return Finding{}, false
	}
	f, g, domain := ev.special(obs, ChangeDependency, changes, "dependency", nil)
	f.AutoHealAllowed = false
	sources := append([]string(nil), dep.Sources...)
	sort.Strings(sources)
	f.Explanation = fmt.Sprintf("The planned change comes from what the configuration reads: %s changed, the configuration and the recorded state did not. Plan again and validate the result before applying; pin the reference (an immutable id or version) so it cannot move under the configuration", strings.Join(sources, ", "))
	if !ev.opts.Table.Expected(f.DriftClass) {
		ev.applyExceptions(&f, obs, domain, g)
	}
	return f, true
}

func (ev *evaluator) mutableRefFinding(obs *Observation) Finding {
	m := obs.MutableRef
	var changes []Change
	if len(m.Path) > 0 {
		changes = []Change{{Path: m.Path, Before: m.Reference, After: m.Reference}}
	}
	f, g, domain := ev.special(obs, ChangeMutableReference, changes, "mutable:"+m.Kind, struct{ Ref, Kind, Reference string }{obs.Ref, m.Kind, m.Reference})
	f.AutoHealAllowed = false
	what := map[string]string{RefModuleSource: "Module source", RefProviderVersion: "Provider", RefImage: "Image"}[m.Kind]
	f.Explanation = fmt.Sprintf("%s %s is mutable: %s; pin it so what is deployed changes only with Git", orDefault(what, "Reference"), m.Reference, m.Why)
	if !ev.opts.Table.Expected(f.DriftClass) {
		ev.applyExceptions(&f, obs, domain, g)
	}
	return f
}

// observeUpgrade classifies drift of a resource whose provider changed version. What the noise
// rules explain stays PROVIDER_READ_NOISE; an attribute the new version reads that the old did
// not (or no longer reads) is DEPENDENCY_DRIFT naming both versions. A value that changed from
// one value to another, or an element added to or removed from a list, is not what an upgrade
// does, so it is judged as any drift: an out-of-band edit made during an upgrade cannot pass as
// the upgrade. So are changes an ownership rule decides and changes a detector raises a signal on.
func (ev *evaluator) observeUpgrade(obs *Observation) []Finding {
	t := ev.opts.Table
	domain := t.DomainFor(obs.Type, ev.unit.Spec.ResourceDomains)
	up := obs.ProviderUpgrade
	var shaped []Change
	if !obs.Deleted {
		for _, c := range ev.withoutComputed(obs, domain, Diff(obs.Recorded, obs.Actual)) {
			if c.Noise || (c.Before != nil && c.After != nil) || !attributeOf(obs, c.Path) {
				continue
			}
			if kind, _, _ := ev.ownerOf(obs, c.Path); kind != OwnerGit {
				continue
			}
			if len(t.DetectSignals(domain, []Change{c})) > 0 {
				continue
			}
			shaped = append(shaped, c)
		}
	}
	rest := *obs
	rest.ProviderUpgrade = nil
	for _, c := range shaped {
		rest.Actual = withValue(rest.Actual, c.Path, c.Before)
	}
	out := ev.observeDrift(&rest)
	versions := fmt.Sprintf("provider %s was upgraded from %s to %s", up.Provider, up.From, up.To)
	for i := range out {
		if out[i].DriftClass == ClassProviderReadNoise {
			out[i].ProviderUpgrade = true
			out[i].Explanation = joinSentences(out[i].Explanation, "The "+versions+"; the values are semantically equal")
		}
	}
	if len(shaped) > 0 {
		f, g, dom := ev.special(obs, ChangeProviderUpgrade, shaped, "provider_upgrade", nil)
		f.ProviderUpgrade = true
		f.AutoHealAllowed = false
		f.Explanation = "The " + versions + ", and the new version reads attributes the old one did not (or no longer reads them). Plan again and validate before applying; pin the provider version"
		if !t.Expected(f.DriftClass) {
			ev.applyExceptions(&f, obs, dom, g)
		}
		out = append(out, f)
	}
	return out
}

// attributeOf reports whether p names an attribute (a key of an object on both sides), not an
// element of a list: an element added to a list (another ingress rule) is never what an upgrade
// does.
func attributeOf(obs *Observation, p Pointer) bool {
	if len(p) == 0 {
		return false
	}
	parent := p[:len(p)-1]
	for _, v := range []any{obs.Recorded, obs.Actual} {
		pv, ok := ValueAt(v, parent)
		if _, isMap := pv.(map[string]any); !ok || !isMap {
			return false
		}
	}
	return true
}

// withValue returns v with the value at p replaced (nil removes a map key), copying only the
// maps and lists on the way; v itself is not mutated.
func withValue(v any, p Pointer, val any) any {
	if len(p) == 0 {
		return val
	}
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = e
		}
		if len(p) == 1 && val == nil {
			delete(m, p[0])
		} else {
			m[p[0]] = withValue(x[p[0]], p[1:], val)
		}
		return m
	case []any:
		i := -1
		if _, err := fmt.Sscan(p[0], &i); err != nil || i < 0 || i >= len(x) {
			return v
		}
		l := append([]any(nil), x...)
		l[i] = withValue(x[i], p[1:], val)
		return l
	}
	return v
}

// checkChangeRow refuses a row whose change condition names no change kind: it would never match.
func checkChangeRow(r *Rule) error {
	for _, c := range r.When.Change {
		if !oneOf(c, ChangeKinds) {
			return fmt.Errorf("rule %s: unknown change %q (%s)", r.ID, c, strings.Join(ChangeKinds, ", "))
		}
	}
	return nil
}

// MaxFailureRiskEscalation caps the risk a repeated failure is raised to.
const MaxFailureRiskEscalation = RiskHigh

// EscalateRepeatedFailures raises by one level (capped at MaxFailureRiskEscalation, never
// lowered) the risk of every FAILED_RECONCILIATION finding whose fingerprint the previous
// evaluation already had open with the same class: a control loop that fails again is worse than
// one that failed once. previous maps an open fingerprint to its class. Blocking, the count and
// the summary follow the new risk. Findings need their Fingerprint set.
func EscalateRepeatedFailures(rep *Report, unit *ManagedUnit, t *Table, previous map[string]Class) {
	if rep == nil || unit == nil || len(previous) == 0 {
		return
	}
	if t == nil {
		t = DefaultTable()
	}
	gateRisk, gated := GateRisk(unit.Spec.Gate)
	changed := false
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.DriftClass != ClassFailedReconciliation || f.Fingerprint == "" || previous[f.Fingerprint] != ClassFailedReconciliation {
			continue
		}
		level := f.Risk.Level() + 1
		if level > MaxFailureRiskEscalation.Level() {
			level = MaxFailureRiskEscalation.Level()
		}
		if level <= f.Risk.Level() {
			continue
		}
		f.Risk = riskAt(level)
		f.Explanation = joinSentences(f.Explanation, "The same failure was open at the previous evaluation, so its risk was raised to "+string(f.Risk))
		changed = true
		if !f.Blocking && f.AcceptedBy == "" && !t.Expected(f.DriftClass) && blocks("", gated, gateRisk, f.Risk) {
			f.Blocking = true
			rep.BlockingCount++
		}
	}
	if changed {
		rep.Summary = summarize(rep, t)
	}
}

// markdownReconcile documents the change kinds a plan marks besides drift between the planes.
func markdownReconcile(b *strings.Builder) {
	b.WriteString("\n## Dependencies, mutable references and failed applies\n\n" +
		"Besides drift between the planes, a plan says more, and the rows above with a `change` of these kinds decide it:\n\n" +
		"- `dependency`: a **normal** plan (not refresh-only) changes a resource only in attributes whose configuration expressions reference a data source (`data.*`, including `terraform_remote_state` outputs); attributes the configuration does not set may follow. The finding names the data sources. A resource that also drifted (recorded state differs from what runs) is never decided here: its planned change may just undo an out-of-band edit, which stays its own finding. A change to any other attribute the configuration sets (a constant, a variable) is a change in Git, not dependency drift.\n" +
		"- `mutable_reference`: a normal plan's configuration names a module source without `?ref=` (git) or an exact `version` (registry), or an image attribute (`image`, `*_image`, `image_uri`, `image_url`) without a digest whose tag is missing or `latest`; providers without a version constraint too when the source asks for it (the dependency lock file usually pins them). Credentials in a source are never printed.\n" +
		"- `provider_upgrade`: the resource's provider version differs between the recorded state's and the plan's lock files (a version missing on either side is not judged). Drift the noise rules explain stays `PROVIDER_READ_NOISE`, marked `provider_upgrade`; an attribute the new version reads that the old one did not (or no longer reads) is decided here, naming both versions. A value changed from one value to another, a list element added or removed, a path an ownership rule decides and a change a detector flags are judged as any drift, so an out-of-band edit cannot pass as the upgrade.\n" +
		"- `failed`: the state records an object as tainted (a failed create or provisioner) or a failed replacement left a deposed object; any plan, refresh-only included. It never heals. With a ledger, a failure still open at the next evaluation (same fingerprint and class) is raised one risk level, up to " + string(MaxFailureRiskEscalation) + ".\n")
}
