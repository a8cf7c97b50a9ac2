package drift

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

var thrashKey, _ = NewDigester([]byte("0123456789abcdef0123456789abcdef"))

// labelled is a Deployment whose label app is Git's "web" and runs as live (absent when ""),
// written by manager.
func labelled(live, manager string) Observation {
	actual := map[string]any{"metadata": map[string]any{"labels": map[string]any{}}}
	if live != "" {
		actual["metadata"].(map[string]any)["labels"].(map[string]any)["app"] = live
	}
	return Observation{Ref: "apps/v1/Deployment/web/web", Type: "apps/Deployment", Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web",
		DesiredKnown: true,
		Recorded:     map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "web"}}},
		Actual:       actual,
		FieldOwner:   func(Pointer) (string, string) { return manager, "" },
	}
}

// thrashRun feeds the tracker one observation per step, a minute apart from t0 unless at says
// otherwise, and returns the result of the last step.
type thrashStep struct {
	live, manager string
	at            time.Time
	healed        bool // the previous evaluation's auto-heal synced the label back, landing 30s ago
	stale         bool // the value's writer wrote it before the heal landed (a stale read)
	pending       bool // the heal's sync has not finished
}

func thrashRun(t *testing.T, pol ThrashPolicy, steps []thrashStep) ThrashResult {
	t.Helper()
	var res ThrashResult
	t0 := now
	for i, s := range steps {
		at := s.at
		if at.IsZero() {
			at = t0.Add(time.Duration(i) * time.Minute)
		}
		in := ThrashInput{Previous: res.Tracking, Objects: []Observation{labelled(s.live, s.manager)}, Digester: thrashKey, Now: at, Policy: pol}
		if s.healed {
			// The previous evaluation's auto-heal synced the label back.
			MarkHealed(res.Tracking, []HealTarget{{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web", Paths: []string{"/metadata/labels/app"}}})
			s := s
			in.HealLanded = func(*Observation, time.Time) (time.Time, bool) { return at.Add(-30 * time.Second), !s.pending }
			in.WrittenAt = func(_ *Observation, m string) (time.Time, bool) {
				if s.stale {
					return at.Add(-time.Hour), m == s.manager
				}
				return at.Add(-10 * time.Second), m == s.manager
			}
		}
		res = TrackThrash(in)
	}
	return res
}

func thrashLead(res ThrashResult) string {
	if len(res.Thrashing) == 0 {
		return ""
	}
	return ThrashExplanation(res.Thrashing[0].Failure.Thrash)
}

var defaultThrash = ThrashPolicy{Window: 30 * time.Minute, Changes: 3}

func TestTrackThrash(t *testing.T) {
	fight := []thrashStep{{live: "hacked", manager: "label-fighter"}, {live: "web", manager: "argocd-controller"},
		{live: "hacked", manager: "label-fighter"}, {live: "web", manager: "argocd-controller"}}
	t.Run("a self-heal fight is thrash", func(t *testing.T) {
		res := thrashRun(t, defaultThrash, fight)
		if got := thrashLead(res); got != "thrash: /metadata/labels/app changed 3 times in 30m by argocd-controller, label-fighter" {
			t.Errorf("%q", got)
		}
		o := res.Thrashing[0]
		if o.Ref != "apps/v1/Deployment/web/web" || o.Failure.Reason != FailureThrash || o.Kind != "Deployment" {
			t.Errorf("%+v", o)
		}
	})
	t.Run("evaluating often does not crowd changes out", func(t *testing.T) {
		var steps []thrashStep
		for i, f := range fight {
			for j := 0; j < 20; j++ {
				g := f
				g.at = now.Add(time.Duration(i*20+j) * time.Second)
				steps = append(steps, g)
			}
		}
		if got := thrashLead(thrashRun(t, defaultThrash, steps)); !strings.Contains(got, "changed 3 times") {
			t.Errorf("%q", got)
		}
	})
	t.Run("below the threshold is not", func(t *testing.T) {
		if res := thrashRun(t, defaultThrash, fight[:3]); len(res.Thrashing) != 0 || len(res.Tracking.Paths) != 1 {
			t.Errorf("2 changes: %q, %d paths", thrashLead(res), len(res.Tracking.Paths))
		}
	})
	t.Run("the unit's threshold and window count", func(t *testing.T) {
		if res := thrashRun(t, ThrashPolicy{Window: 30 * time.Minute, Changes: 4}, fight); len(res.Thrashing) != 0 {
			t.Errorf("changes: 4: %q", thrashLead(res))
		}
		// Three changes a minute apart do not fit a 90-second window.
		if res := thrashRun(t, ThrashPolicy{Window: 90 * time.Second, Changes: 3}, fight); len(res.Thrashing) != 0 {
			t.Errorf("window 2m: %q", thrashLead(res))
		}
	})
	t.Run("one writer alone (an autoscaler) is not a fight", func(t *testing.T) {
		one := []thrashStep{{live: "a", manager: "hpa"}, {live: "b", manager: "hpa"}, {live: "a", manager: "hpa"}, {live: "b", manager: "hpa"}, {live: "a", manager: "hpa"}}
		if res := thrashRun(t, defaultThrash, one); len(res.Thrashing) != 0 {
			t.Errorf("%q", thrashLead(res))
		}
	})
	t.Run("a writer that cannot be named counts as another", func(t *testing.T) {
		// The label removed and put back: the absent value has no manager.
		res := thrashRun(t, defaultThrash, []thrashStep{{live: "x", manager: "m"}, {live: ""}, {live: "x", manager: "m"}, {live: ""}})
		if got := thrashLead(res); got != "thrash: /metadata/labels/app changed 3 times in 30m by m, an unnamed writer" {
			t.Errorf("%q", got)
		}
	})
	t.Run("driftplane's own heals count, seen or not", func(t *testing.T) {
		// The fighter rewrites faster than the reporter evaluates: every sample shows its value,
		// but each was healed in between.
		res := thrashRun(t, defaultThrash, []thrashStep{{live: "hacked", manager: "label-fighter"},
			{live: "hacked", manager: "label-fighter", healed: true}})
		if got := thrashLead(res); got != "" {
			t.Errorf("one heal: %q", got)
		}
		res = thrashRun(t, defaultThrash, []thrashStep{{live: "hacked", manager: "label-fighter"},
			{live: "hacked", manager: "label-fighter", healed: true}, {live: "hacked", manager: "label-fighter", healed: true}})
		if got := thrashLead(res); got != "thrash: /metadata/labels/app changed 4 times in 30m by argocd-driftplane auto-heal, label-fighter" {
			t.Errorf("two heals: %q", got)
		}
		// A heal whose sync has not finished, or a read that predates it, is no change yet; the
		// heal shows once Git's value does.
		for _, late := range []thrashStep{{live: "hacked", manager: "alice", healed: true, pending: true}, {live: "hacked", manager: "alice", healed: true, stale: true}} {
			res = thrashRun(t, defaultThrash, []thrashStep{{live: "hacked", manager: "alice"}, late, {live: "web", manager: "argocd-controller"}})
			if len(res.Thrashing) != 0 || len(res.Tracking.Paths) != 1 || len(res.Tracking.Paths[0].Samples) != 2 {
				t.Errorf("%+v: %q %+v", late, thrashLead(res), res.Tracking.Paths)
			}
		}
		// A heal that held (Git's value stays) is one change, not a fight.
		res = thrashRun(t, defaultThrash, []thrashStep{{live: "hacked", manager: "alice"}, {live: "web", manager: "argocd-controller", healed: true}})
		if len(res.Thrashing) != 0 || len(res.Tracking.Paths) != 1 {
			t.Errorf("a heal that held: %q %+v", thrashLead(res), res.Tracking.Paths)
		}
	})
	t.Run("window edges", func(t *testing.T) {
		w := 30 * time.Minute
		steps := []thrashStep{{live: "hacked", manager: "f", at: now}, {live: "web", manager: "argocd-controller", at: now.Add(time.Minute)},
			{live: "hacked", manager: "f", at: now.Add(2 * time.Minute)}, {live: "web", manager: "argocd-controller", at: now.Add(3 * time.Minute)}}
		// Still a fight when judged with the first change exactly at the window's start...
		edge := append(append([]thrashStep(nil), steps...), thrashStep{live: "web", manager: "argocd-controller", at: now.Add(time.Minute + w)})
		if got := thrashLead(thrashRun(t, defaultThrash, edge)); !strings.Contains(got, "changed 3 times") {
			t.Errorf("at the edge: %q", got)
		}
		// ...and not a second later, when it has left the window.
		past := append(append([]thrashStep(nil), steps...), thrashStep{live: "web", manager: "argocd-controller", at: now.Add(time.Minute + w + time.Second)})
		res := thrashRun(t, defaultThrash, past)
		if len(res.Thrashing) != 0 {
			t.Errorf("past the edge: %q", thrashLead(res))
		}
		// The sample before the window stays as the baseline; nothing older.
		if s := res.Tracking.Paths[0].Samples; len(s) != 3 || s[0].At != now.Add(time.Minute).Format(time.RFC3339) {
			t.Errorf("samples kept: %+v", s)
		}
	})
	t.Run("a clock going backwards neither forgets nor shortens", func(t *testing.T) {
		steps := []thrashStep{{live: "hacked", manager: "f", at: now}, {live: "web", manager: "argocd-controller", at: now.Add(time.Minute)},
			{live: "hacked", manager: "f", at: now.Add(-2 * time.Hour)}, {live: "web", manager: "argocd-controller", at: now.Add(-3 * time.Hour)}}
		res := thrashRun(t, defaultThrash, steps)
		if got := thrashLead(res); !strings.Contains(got, "changed 3 times in 30m") {
			t.Errorf("%q", got)
		}
		for _, s := range res.Tracking.Paths[0].Samples {
			if s.At != now.Add(time.Minute).Format(time.RFC3339) && s.At != now.Format(time.RFC3339) {
				t.Errorf("a sample stamped back in time: %+v", s)
			}
		}
		// Back at the real time, the window runs from the newest stamp: 30 minutes later the
		// changes have left it.
		steps = append(steps, thrashStep{live: "web", manager: "argocd-controller", at: now.Add(32 * time.Minute)})
		if res := thrashRun(t, defaultThrash, steps); len(res.Thrashing) != 0 {
			t.Errorf("after the window: %q", thrashLead(res))
		}
	})
	t.Run("a settled path is forgotten", func(t *testing.T) {
		steps := append(append([]thrashStep(nil), fight...), thrashStep{live: "web", manager: "argocd-controller", at: now.Add(2 * time.Hour)})
		if res := thrashRun(t, defaultThrash, steps); len(res.Tracking.Paths) != 0 || len(res.Thrashing) != 0 {
			t.Errorf("%+v", res.Tracking.Paths)
		}
	})
	t.Run("another digest key starts afresh", func(t *testing.T) {
		res := thrashRun(t, defaultThrash, fight)
		other, _ := NewDigester([]byte("fedcba9876543210fedcba9876543210"))
		next := TrackThrash(ThrashInput{Previous: res.Tracking, Objects: []Observation{labelled("hacked", "label-fighter")}, Digester: other, Now: now.Add(5 * time.Minute), Policy: defaultThrash})
		if len(next.Thrashing) != 0 || len(next.Tracking.Paths) != 1 || len(next.Tracking.Paths[0].Samples) != 1 {
			t.Errorf("%+v", next.Tracking)
		}
	})
}

// TestTrackThrashKeepsNoValue: the history holds keyed digests, never a value, whatever the path.
func TestTrackThrashKeepsNoValue(t *testing.T) {
	res := thrashRun(t, defaultThrash, []thrashStep{{live: "s3cr3t-Hunter2", manager: "f"}, {live: "web", manager: "argocd-controller"}})
	b, _ := json.Marshal(res.Tracking)
	if strings.Contains(string(b), "s3cr3t") || !strings.Contains(string(b), DigestPrefix) {
		t.Errorf("%s", b)
	}
}

// TestTrackThrashOverflow: a flood of drifting paths after a fight began keeps the thrashing
// path (it sorts first) and says the history overflowed, which suspends every heal of the
// application; a flood before it is the same overflow.
func TestTrackThrashOverflow(t *testing.T) {
	var res ThrashResult
	for step := 0; step < 6; step++ {
		var objs []Observation
		if step >= 4 {
			for i := 0; i < MaxTrackedPaths+10; i++ {
				o := labelled("x", "m")
				o.Ref, o.Name = fmt.Sprintf("apps/v1/Deployment/web/w%02d", i), fmt.Sprintf("w%02d", i)
				objs = append(objs, o)
			}
		}
		fighter := labelled([]string{"hacked", "web"}[step%2], []string{"f", "argocd-controller"}[step%2])
		fighter.Ref, fighter.Name = "apps/v1/Deployment/web/zz-fight", "zz-fight"
		objs = append(objs, fighter)
		res = TrackThrash(ThrashInput{Previous: res.Tracking, Objects: objs, Digester: thrashKey, Now: now.Add(time.Duration(step) * time.Minute), Policy: defaultThrash})
		if step == 3 && (len(res.Thrashing) != 1 || res.Tracking.Overflow) {
			t.Fatalf("before the flood: %+v", res.Tracking)
		}
	}
	if !res.Tracking.Overflow || len(res.Tracking.Paths) != MaxTrackedPaths || len(res.Thrashing) != 1 || res.Thrashing[0].Name != "zz-fight" {
		t.Errorf("overflow %v, %d paths, thrashing %+v", res.Tracking.Overflow, len(res.Tracking.Paths), res.Thrashing)
	}
}

func TestThrashPolicyOf(t *testing.T) {
	if p := ThrashPolicyOf(argoUnit()); p != defaultThrash {
		t.Errorf("defaults: %+v", p)
	}
	u := argoUnit(func(u *ManagedUnit) { u.Spec.ReconcileThrash = &ReconcileThrash{Window: "10m", Changes: 5} })
	if p := ThrashPolicyOf(u); p.Window != 10*time.Minute || p.Changes != 5 {
		t.Errorf("%+v", p)
	}
	if err := u.Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []ReconcileThrash{{Window: "10s"}, {Window: "48h"}, {Window: "soon"}, {Changes: 1}, {Changes: 51}, {Changes: -1}} {
		u := argoUnit(func(u *ManagedUnit) { u.Spec.ReconcileThrash = &bad })
		if err := u.Validate(); err == nil || !strings.Contains(err.Error(), "spec.reconcileThrash") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestPlanHealSuspended: no heal fires on an object with a thrashing path or a failed sync, and
// none at all when the history overflowed; other objects still heal.
func TestPlanHealSuspended(t *testing.T) {
	pol := &AutoHealPolicy{Metadata: Metadata{Name: "labels"}, Spec: AutoHealPolicySpec{AllowedPaths: []string{"/metadata/labels"}}}
	label := func(name string) ObjectFinding {
		return ObjectFinding{Finding: Finding{FindingID: "label-" + name, ResourceRef: "apps/v1/Deployment/web/" + name, Domain: DomainWorkload,
			DriftClass: ClassUnauthorizedRuntime, Risk: RiskLow, RecommendedAction: ActionRuntimeRevert, AutoHealAllowed: true, Rule: "labels-and-tags",
			ChangedFields: []string{"/metadata/labels/app"}}, Group: "apps", Kind: "Deployment", Namespace: "web", Name: name}
	}
	thrash := ObjectFinding{Finding: Finding{FindingID: "thrash-web", ResourceRef: "apps/v1/Deployment/web/web", Domain: DomainWorkload,
		DriftClass: ClassFailedReconciliation, Risk: RiskMedium, RecommendedAction: ActionInvestigateControlLoop, Rule: "reconcile-thrash",
		// An exception accepting the thrash does not lift the suspension.
		AcceptedBy:    "EXC-1",
		ChangedFields: []string{"/metadata/labels/app"}, Explanation: "thrash: /metadata/labels/app changed 3 times in 30m by a, b"},
		Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web"}
	healthy := HealApp{Healthy: true}
	if plan := DefaultTable().PlanHeal([]*AutoHealPolicy{pol}, []ObjectFinding{label("web"), label("api")}, healthy); len(plan.Targets) != 2 {
		t.Fatalf("without thrash: %+v", plan)
	}
	plan := DefaultTable().PlanHeal([]*AutoHealPolicy{pol}, []ObjectFinding{label("web"), thrash, label("api")}, healthy)
	if len(plan.Targets) != 1 || plan.Targets[0].Name != "api" {
		t.Errorf("thrash on web: %+v", plan)
	}
	if !strings.Contains(strings.Join(plan.Skipped, "\n"), "apps/v1/Deployment/web/web /metadata/labels/app: auto-heal suspended: reconcile thrash on /metadata/labels/app") {
		t.Errorf("skipped: %v", plan.Skipped)
	}
	failed := thrash
	failed.ChangedFields, failed.Explanation = []string{}, "The last sync operation (Failed) could not apply it"
	plan = DefaultTable().PlanHeal([]*AutoHealPolicy{pol}, []ObjectFinding{failed, label("web")}, healthy)
	if len(plan.Targets) != 0 || !strings.Contains(strings.Join(plan.Skipped, "\n"), "auto-heal suspended: its last sync failed") {
		t.Errorf("failed sync on web: %+v", plan)
	}
	plan = DefaultTable().PlanHeal([]*AutoHealPolicy{pol}, []ObjectFinding{label("api")}, HealApp{Healthy: true, Suspended: "too many"})
	if len(plan.Targets) != 0 || !strings.Contains(strings.Join(plan.Skipped, "\n"), "too many") {
		t.Errorf("overflow: %+v", plan)
	}
}

// TestThrashThroughEvaluate: the tracker's observations evaluate to the thrash row's finding.
func TestThrashThroughEvaluate(t *testing.T) {
	res := thrashRun(t, defaultThrash, []thrashStep{{live: "hacked", manager: "f"}, {live: "web", manager: "argocd-controller"},
		{live: "hacked", manager: "f"}, {live: "web", manager: "argocd-controller"}})
	rep, err := Evaluate(argoUnit(), nil, res.Thrashing, atNow)
	if err != nil || len(rep.Findings) != 1 || rep.Findings[0].Rule != "reconcile-thrash" || rep.Findings[0].AutoHealAllowed {
		t.Fatalf("%v %+v", err, rep)
	}
}

// TestTrackThrashHealInTheSecondSeen replays the e2e's false positive (one relabel by alice, one
// heal): every time involved is a whole second. Alice relabels and the reporter sees it in
// second T and asks for a heal; the heal's sync ends in that same second T; the next evaluation,
// still in T, reads the Deployment from a cache that predates the heal (alice's value, her
// managedFields time T) and asks for a second heal; the one after reads Git's value, now owned by
// argocd-controller. Ties in that second prove nothing: that is one change, not a fight.
func TestTrackThrashHealInTheSecondSeen(t *testing.T) {
	t0 := now.Add(200 * time.Millisecond) // alice's write and the first evaluation, second T
	sec := t0.Truncate(time.Second)
	target := []HealTarget{{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web", Paths: []string{"/metadata/labels/app"}}}
	// Argo CD's operation: the heal's sync ended in second T (before the second heal's started).
	landed := func(*Observation, time.Time) (time.Time, bool) { return sec, true }
	written := map[string]time.Time{"kubectl-label": sec, "argocd-controller": sec}
	writtenAt := func(_ *Observation, m string) (time.Time, bool) { w, ok := written[m]; return w, ok }
	eval := func(prev *ReconcileTracking, live, manager string, at time.Time) ThrashResult {
		return TrackThrash(ThrashInput{Previous: prev, Objects: []Observation{labelled(live, manager)}, Digester: thrashKey, Now: at,
			Policy: defaultThrash, HealLanded: landed, WrittenAt: writtenAt})
	}
	res := eval(nil, "hacked", "kubectl-label", t0)
	MarkHealed(res.Tracking, target)
	res = eval(res.Tracking, "hacked", "kubectl-label", t0.Add(500*time.Millisecond)) // the stale read
	MarkHealed(res.Tracking, target)
	res = eval(res.Tracking, "web", "argocd-controller", t0.Add(700*time.Millisecond))
	if len(res.Thrashing) != 0 {
		t.Fatalf("one relabel and its heal: %q", thrashLead(res))
	}
	if len(res.Tracking.Paths) != 1 {
		t.Fatalf("paths %+v", res.Tracking.Paths)
	}
	if s := res.Tracking.Paths[0].Samples; len(s) != 2 || s[1].Manager != "argocd-controller" {
		t.Errorf("samples: %+v", s)
	}
	// A second later the second heal's sync ends (nothing left to write): still one change.
	landed = func(*Observation, time.Time) (time.Time, bool) { return sec.Add(time.Second), true }
	if res = eval(res.Tracking, "web", "argocd-controller", t0.Add(1500*time.Millisecond)); len(res.Thrashing) != 0 {
		t.Errorf("after the second heal: %q", thrashLead(res))
	}

	// The fight the same rule must still see: the heal lands a second after the fighter's value
	// was seen, and the fighter writes its value again within that second, faster than the
	// reporter evaluates (every read shows the fighter's value, its managedFields time the heal's).
	var fight ThrashResult
	at := sec
	for i := 0; i < 3; i++ {
		landedAt := at.Add(time.Second)
		landed = func(*Observation, time.Time) (time.Time, bool) { return landedAt, i > 0 }
		written = map[string]time.Time{"label-fighter": landedAt}
		if i == 0 {
			written["label-fighter"] = at
		}
		at = at.Add(2 * time.Second)
		fight = eval(fight.Tracking, "fight", "label-fighter", at)
		MarkHealed(fight.Tracking, target)
	}
	if got := thrashLead(fight); got != "thrash: /metadata/labels/app changed 4 times in 30m by argocd-driftplane auto-heal, label-fighter" {
		t.Errorf("the fight: %q", got)
	}
}
