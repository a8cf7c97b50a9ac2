package drift

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
)

// ReconcileTracking is the per-path history reconcile thrash is judged on (the API's type, kept
// in the DriftReport's status): keyed digests of each tracked path's live value at successive
// evaluations, never a value.
type ReconcileTracking = v1alpha1.ReconcileTracking

// PathHistory is one tracked path of one object.
type PathHistory = v1alpha1.PathHistory

// PathSample is one path's value at one evaluation.
type PathSample = v1alpha1.PathSample

// ReconcileThrash is a unit's reconcile-thrash bounds as it declares them (ThrashPolicyOf applies
// the defaults).
type ReconcileThrash = v1alpha1.ReconcileThrash

// Defaults and bounds of a unit's reconcileThrash.
const (
	DefaultThrashWindow  = 30 * time.Minute
	DefaultThrashChanges = 3
	MinThrashWindow      = time.Minute
	MaxThrashWindow      = 24 * time.Hour
	MinThrashChanges     = 2
	MaxThrashChanges     = 50
	// MaxTrackedPaths bounds the paths one report tracks; beyond it auto-heal of the application
	// is suspended (ReconcileTracking.Overflow), so flooding the history cannot hide a fight.
	MaxTrackedPaths = 50
)

// HealWriter names driftplane's own auto-heal among a path's writers.
const HealWriter = "argocd-driftplane auto-heal"

// ThrashPolicy is a unit's reconcile-thrash bounds, defaults applied.
type ThrashPolicy struct {
	Window  time.Duration
	Changes int
}

// ThrashPolicyOf is the unit's reconcileThrash with defaults (3 changes in 30m); a unit that
// failed validation gets the defaults.
func ThrashPolicyOf(u *ManagedUnit) ThrashPolicy {
	p := ThrashPolicy{Window: DefaultThrashWindow, Changes: DefaultThrashChanges}
	if u == nil || u.Spec.ReconcileThrash == nil {
		return p
	}
	rt := u.Spec.ReconcileThrash
	if d, err := time.ParseDuration(rt.Window); err == nil && d >= MinThrashWindow && d <= MaxThrashWindow {
		p.Window = d
	}
	if rt.Changes >= MinThrashChanges && rt.Changes <= MaxThrashChanges {
		p.Changes = rt.Changes
	}
	return p
}

// validateThrash checks a unit's reconcileThrash.
func validateThrash(v *validator, s *UnitSpec) {
	rt := s.ReconcileThrash
	if rt == nil {
		return
	}
	if rt.Window != "" {
		if d, err := time.ParseDuration(rt.Window); err != nil || d < MinThrashWindow || d > MaxThrashWindow {
			v.add("spec.reconcileThrash.window", "%q must be a Go duration from %s to %s", rt.Window, MinThrashWindow, MaxThrashWindow)
		}
	}
	if rt.Changes != 0 && (rt.Changes < MinThrashChanges || rt.Changes > MaxThrashChanges) {
		v.add("spec.reconcileThrash.changes", "%d must be from %d to %d (0: the default, %d)", rt.Changes, MinThrashChanges, MaxThrashChanges, DefaultThrashChanges)
	}
}

// ThrashInput is what TrackThrash judges.
type ThrashInput struct {
	// Previous is the tracking the last evaluation kept (nil at first).
	Previous *ReconcileTracking
	// Objects are this evaluation's compared objects (Kubernetes observations: Recorded is Git's,
	// Actual what runs, FieldOwner who owns a path).
	Objects []Observation
	// HealLanded says when the sync a heal asked for at requested (MarkHealed) finished on the
	// object (Argo CD's operation succeeded with the object synced); a heal not known to have
	// landed is not counted yet, since the applier may not have written anything, nor one that
	// ended in the second requested names (whole seconds cannot order them).
	HealLanded func(o *Observation, requested time.Time) (time.Time, bool)
	// WrittenAt says when a field manager last wrote the object (managedFields' time), so a value
	// seen again after a heal landed counts as written again only when its writer wrote after it.
	WrittenAt func(o *Observation, manager string) (time.Time, bool)
	// Digester keys the value digests (the installation's key).
	Digester *Digester
	Now      time.Time
	Policy   ThrashPolicy
}

// ThrashResult is the tracking to keep and the observations of thrashing paths.
type ThrashResult struct {
	Tracking *ReconcileTracking
	// Thrashing are observations (Failure reason FailureThrash) for the evaluation to decide.
	Thrashing []Observation
}

// thrashKeyCheck is digested to tell whether stored samples were taken with the same key.
const thrashKeyCheck = "driftplane reconcile-thrash key check"

type pathKey struct{ ref, path string }

// TrackThrash samples every path that drifts now or was tracked before, and says which thrash:
// changed at least Policy.Changes times within Policy.Window, with more than one writer (or a
// writer that cannot be named). Changes are counted in evaluation order, between consecutive
// samples whose digests differ; a sample after which driftplane's auto-heal synced the path
// back counts the heal as a change, and the value changing away from Git's again as another.
// Time only bounds the window, and it never runs backwards: a clock set back is treated as
// standing still, so it can neither drop samples nor make old changes look new.
func TrackThrash(in ThrashInput) ThrashResult {
	pol := in.Policy
	if pol.Window <= 0 {
		pol.Window = DefaultThrashWindow
	}
	if pol.Changes <= 0 {
		pol.Changes = DefaultThrashChanges
	}
	keyID := string(in.Digester.Digest(thrashKeyCheck))
	now := in.Now.UTC().Truncate(time.Second)
	prev := map[pathKey]PathHistory{}
	if in.Previous != nil {
		for _, h := range in.Previous.Paths {
			if in.Previous.KeyID != keyID {
				// Digests under another key cannot be compared: start the path afresh.
				h.Samples = nil
			}
			for _, s := range h.Samples {
				if at, err := time.Parse(time.RFC3339, s.At); err == nil && at.After(now) {
					now = at
				}
			}
			prev[pathKey{h.Ref, h.Path}] = h
		}
	}
	byRef := map[string]*Observation{}
	tracked := map[pathKey]bool{}
	for k := range prev {
		tracked[k] = true
	}
	for i := range in.Objects {
		o := &in.Objects[i]
		if o.Failure != nil || o.Dependency != nil || o.MutableRef != nil || o.Live != nil {
			continue
		}
		byRef[o.Ref] = o
		if o.Deleted {
			continue
		}
		for _, c := range Diff(o.Recorded, o.Actual) {
			if !c.Noise {
				tracked[pathKey{o.Ref, c.Path.String()}] = true
			}
		}
	}
	stamp := now.Format(time.RFC3339)
	type judged struct {
		h        PathHistory
		changes  int
		writers  []string
		unknown  bool
		drifted  bool
		lastMove int
	}
	var all []judged
	for k := range tracked {
		o := byRef[k.ref]
		if o == nil {
			continue // the object left the application: nothing to sample
		}
		p, err := ParsePointer(k.path)
		if err != nil {
			continue
		}
		h := prev[k]
		h.Ref, h.Path = k.ref, k.path
		h.Group, h.Kind, h.Namespace, h.Name = o.Group, o.Kind, o.Namespace, o.Name
		h.Samples = append([]PathSample(nil), h.Samples...)
		cur := sampleAt(in.Digester, o, p, stamp)
		if landed, ok := healLanded(in.HealLanded, o, h.Samples); ok {
			last := &h.Samples[len(h.Samples)-1]
			// The heal wrote Git's value. When the value now is not Git's, someone wrote it again
			// after: visibly (another value), or the same value by a writer that wrote after the
			// heal landed. Then Git's value in between is a sample of its own, by the heal; else
			// the heal shows (or will) as an ordinary change.
			rewrote := cur.Drifted && (cur.Digest != last.Digest || writtenAfter(in.WrittenAt, o, cur.Manager, landed))
			if rewrote {
				at := landed
				if prevAt, err := time.Parse(time.RFC3339, last.At); err == nil && at.Before(prevAt) {
					at = prevAt
				}
				if at.After(now) {
					at = now
				}
				h.Samples = append(h.Samples, PathSample{At: at.Format(time.RFC3339), Digest: gitDigest(in.Digester, o, p), Manager: HealWriter})
			}
		}
		// Only changes are kept: an evaluation that sees the last value again adds nothing, so
		// however often the reporter evaluates, the history holds the changes of the window. A
		// heal not known to have landed stays pending on the last sample until it does.
		if n := len(h.Samples); n == 0 || h.Samples[n-1].Digest != cur.Digest {
			h.Samples = append(h.Samples, cur)
		}
		h.Samples = pruneSamples(h.Samples, now, pol)
		j := judged{h: h, drifted: h.Samples[len(h.Samples)-1].Drifted}
		j.changes, j.writers, j.unknown, j.lastMove = countChanges(h.Samples, now, pol.Window)
		if j.changes == 0 && !j.drifted {
			continue // settled on Git's value: nothing left to watch
		}
		all = append(all, j)
	}
	isThrash := func(j judged) bool {
		return j.changes >= pol.Changes && (len(j.writers) >= 2 || j.unknown)
	}
	// Thrashing paths first, then the busiest, so a flood of other paths never evicts them.
	sort.Slice(all, func(a, b int) bool {
		x, y := all[a], all[b]
		if isThrash(x) != isThrash(y) {
			return isThrash(x)
		}
		if x.changes != y.changes {
			return x.changes > y.changes
		}
		if x.lastMove != y.lastMove {
			return x.lastMove > y.lastMove
		}
		if x.h.Ref != y.h.Ref {
			return x.h.Ref < y.h.Ref
		}
		return x.h.Path < y.h.Path
	})
	res := ThrashResult{Tracking: &ReconcileTracking{KeyID: keyID}}
	if len(all) > MaxTrackedPaths {
		all = all[:MaxTrackedPaths]
		res.Tracking.Overflow = true
	}
	window := formatWindow(pol.Window)
	for _, j := range all {
		res.Tracking.Paths = append(res.Tracking.Paths, j.h)
		if !isThrash(j) {
			continue
		}
		o := byRef[j.h.Ref]
		writers := append([]string(nil), j.writers...)
		if j.unknown {
			writers = append(writers, "an unnamed writer")
		}
		res.Thrashing = append(res.Thrashing, Observation{
			Ref: o.Ref, Type: o.Type, Group: o.Group, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name,
			Labels: o.Labels, SensitivePaths: o.SensitivePaths, Recorded: o.Recorded, Actual: o.Actual, // context only
			Failure: &ReconcileFailure{Reason: FailureThrash, Thrash: &ReconcileThrashing{
				Path: MustPointer(j.h.Path), Changes: j.changes, Window: window, Writers: writers}},
		})
	}
	sort.Slice(res.Tracking.Paths, func(a, b int) bool {
		x, y := res.Tracking.Paths[a], res.Tracking.Paths[b]
		if x.Ref != y.Ref {
			return x.Ref < y.Ref
		}
		return x.Path < y.Path
	})
	sort.SliceStable(res.Thrashing, func(a, b int) bool {
		return res.Thrashing[a].Ref+"|"+res.Thrashing[a].Failure.Thrash.Path.String() < res.Thrashing[b].Ref+"|"+res.Thrashing[b].Failure.Thrash.Path.String()
	})
	return res
}

// sampleAt is the path's value now, as a keyed digest, whether it differs from Git's, and its
// field manager.
func sampleAt(d *Digester, o *Observation, p Pointer, at string) PathSample {
	type present struct {
		Present bool `json:"present"`
		Value   any  `json:"value"`
	}
	var live, git present
	if !o.Deleted {
		live.Value, live.Present = ValueAt(o.Actual, p)
	}
	git.Value, git.Present = ValueAt(o.Recorded, p)
	s := PathSample{At: at, Digest: string(d.Digest(live))}
	s.Drifted = s.Digest != string(d.Digest(git))
	if o.FieldOwner != nil && live.Present {
		owner, _ := o.FieldOwner(p)
		s.Manager = SanitizeName(owner)
	}
	return s
}

// healLanded says when a heal asked for after the last sample landed.
func healLanded(landed func(*Observation, time.Time) (time.Time, bool), o *Observation, ss []PathSample) (time.Time, bool) {
	if landed == nil || len(ss) == 0 || !ss[len(ss)-1].Healed {
		return time.Time{}, false
	}
	requested, err := time.Parse(time.RFC3339, ss[len(ss)-1].At)
	if err != nil {
		return time.Time{}, false
	}
	at, ok := landed(o, requested)
	at = at.UTC().Truncate(time.Second)
	// Every time here is a whole second (the sample's stamp, the operation's end, managedFields'
	// time). A heal that ended in the second its value was seen cannot be told from an operation
	// that ended before the value was written, and a read then served from a cache that predates
	// the heal shows the writer's value with a time in that very second, which would pass for a
	// write after the heal (a relabel and its one heal taken for 3 changes). So it is not counted
	// as landed: the return to Git's value still shows as an ordinary change, and while a writer
	// keeps rewriting, the sample keeps its stamp, so a later heal lands in a later second.
	if !ok || !at.After(requested) {
		return time.Time{}, false
	}
	return at, true
}

// MarkHealed records that auto-heal asked to sync these objects' paths back to Git after the
// evaluation that kept tracking: the last sample of each such path is marked, and the next
// evaluations count the heal once it has landed (ThrashInput.HealLanded).
func MarkHealed(tracking *ReconcileTracking, targets []HealTarget) {
	if tracking == nil {
		return
	}
	healed := map[string]bool{}
	for _, t := range targets {
		for _, p := range t.Paths {
			healed[t.Group+"/"+t.Kind+"/"+t.Namespace+"/"+t.Name+"|"+p] = true
		}
	}
	for i := range tracking.Paths {
		h := &tracking.Paths[i]
		if n := len(h.Samples); n > 0 && healed[h.Group+"/"+h.Kind+"/"+h.Namespace+"/"+h.Name+"|"+h.Path] {
			h.Samples[n-1].Healed = true
		}
	}
}

// gitDigest is the keyed digest of Git's value at p, as sampleAt digests values.
func gitDigest(d *Digester, o *Observation, p Pointer) string {
	type present struct {
		Present bool `json:"present"`
		Value   any  `json:"value"`
	}
	var git present
	git.Value, git.Present = ValueAt(o.Recorded, p)
	return string(d.Digest(git))
}

func writtenAfter(writtenAt func(*Observation, string) (time.Time, bool), o *Observation, manager string, t time.Time) bool {
	if writtenAt == nil || manager == "" {
		return false
	}
	w, ok := writtenAt(o, manager)
	return ok && !w.Before(t)
}

// pruneSamples keeps the samples within the window and the last one before it (the baseline the
// first change in the window is counted against), at most 2×changes+4 of them.
func pruneSamples(ss []PathSample, now time.Time, pol ThrashPolicy) []PathSample {
	from := now.Add(-pol.Window)
	first := 0
	for i, s := range ss {
		if at, err := time.Parse(time.RFC3339, s.At); err == nil && at.Before(from) {
			first = i // the newest sample before the window is the baseline
		}
	}
	ss = ss[first:]
	if max := 2*pol.Changes + 4; len(ss) > max {
		ss = ss[len(ss)-max:]
	}
	return ss
}

// countChanges counts the changes within the window (by the later sample's time; a time that
// does not parse counts as within) and names their writers. lastMove is the index of the last
// change, for ordering.
func countChanges(ss []PathSample, now time.Time, window time.Duration) (n int, writers []string, unknown bool, lastMove int) {
	from := now.Add(-window)
	names := map[string]bool{}
	add := func(w string) {
		if w == "" {
			unknown = true
			return
		}
		names[w] = true
	}
	for i := 1; i < len(ss); i++ {
		a, b := ss[i-1], ss[i]
		if at, err := time.Parse(time.RFC3339, b.At); err == nil && at.Before(from) {
			continue
		}
		if a.Digest != b.Digest {
			n++
			add(b.Manager)
			lastMove = i
		}
	}
	for w := range names {
		writers = append(writers, w)
	}
	sort.Strings(writers)
	return n, writers, unknown, lastMove
}

// formatWindow prints a window the way a unit writes it: 30m, 2h, 1h30m.
func formatWindow(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return fmt.Sprint(d)
	}
	return s
}

// SuspendedHeal says, per object (group/Kind/namespace/name), why auto-heal of it is suspended:
// a FAILED_RECONCILIATION finding is open on it (its sync failed, or a path thrashes), whatever
// accepts or gates it, since a heal is a sync of the whole object.
func SuspendedHeal(findings []ObjectFinding) map[string]string {
	out := map[string]string{}
	for _, f := range findings {
		if f.DriftClass != ClassFailedReconciliation {
			continue
		}
		k := f.Group + "/" + f.Kind + "/" + f.Namespace + "/" + f.Name
		if _, ok := out[k]; ok {
			continue
		}
		what := "its last sync failed"
		if len(f.ChangedFields) > 0 { // a sync failure names no field; thrash names its path
			what = "reconcile thrash on " + strings.Join(f.ChangedFields, ",")
		}
		out[k] = "auto-heal suspended: " + what + " (" + string(f.RecommendedAction) + ")"
	}
	return out
}
