package reporter

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// labelAnswer is the recorded answer with the Deployment's live label app set to value, written
// by manager (Git's value is "web", written by argocd-controller).
func labelAnswer(t *testing.T, recorded []ResourceDiff, value, manager string, at time.Time) []ResourceDiff {
	t.Helper()
	out := append([]ResourceDiff(nil), recorded...)
	for i := range out {
		if out[i].Kind != "Deployment" {
			continue
		}
		var live map[string]any
		if err := json.Unmarshal([]byte(out[i].LiveState), &live); err != nil {
			t.Fatal(err)
		}
		// Git's image, so the label is the object's only drift.
		containers := live["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
		containers[0].(map[string]any)["image"] = "registry.example.com/web:1.0"
		md := live["metadata"].(map[string]any)
		md["labels"].(map[string]any)["app"] = value
		if manager != "argocd-controller" {
			mfs := md["managedFields"].([]any)
			for _, mf := range mfs {
				m := mf.(map[string]any)
				if m["manager"] == "argocd-controller" {
					delete(m["fieldsV1"].(map[string]any)["f:metadata"].(map[string]any)["f:labels"].(map[string]any), "f:app")
				}
			}
			md["managedFields"] = append(mfs, map[string]any{"manager": manager, "operation": "Update", "apiVersion": "apps/v1",
				"time": at.UTC().Format(time.RFC3339), "fieldsType": "FieldsV1",
				"fieldsV1": map[string]any{"f:metadata": map[string]any{"f:labels": map[string]any{"f:app": map[string]any{}}}}})
		}
		b, _ := json.Marshal(live)
		out[i].LiveState = string(b)
	}
	return out
}

type fakeHealer struct {
	mu    sync.Mutex
	calls [][]HealTarget
	// synced, when set, is told of every sync (as Argo CD would run it).
	synced func([]HealTarget)
}

func (f *fakeHealer) SyncResources(_ context.Context, _, _ string, targets []HealTarget) error {
	f.mu.Lock()
	f.calls = append(f.calls, targets)
	synced := f.synced
	f.mu.Unlock()
	if synced != nil {
		synced(targets)
	}
	return nil
}

func (f *fakeHealer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func findingsOfRule(st *Status, rule string) []StatusFinding {
	var out []StatusFinding
	for _, f := range st.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// TestSyncFailedThroughController: Argo CD's failed sync becomes FAILED_RECONCILIATION on the
// object it failed on, with Argo CD's message sanitized everywhere the reporter publishes it; a
// later successful sync ends it; the failure is not counted as another object.
func TestSyncFailedThroughController(t *testing.T) {
	const planted = "planted-Sync-Secret-77c1"
	recorded := loadAnswer(t)
	opState := func(phase string) string {
		return fmt.Sprintf(`status:
  operationState:
    phase: %s
    message: "one or more objects failed to apply, reason: Deployment.apps \"web\" is invalid"
    syncResult:
      revision: 3e64fde
      resources:
      - {group: apps, version: v1, kind: Deployment, namespace: web, name: web, status: SyncFailed,
         message: "Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].env[0].value: Invalid value: \"%s\": bad\u001b[31m\nFORGED: line"}
      - {group: drift.driftplane.io, version: v1alpha1, kind: DriftReport, namespace: web, name: web, status: Synced, message: configured}
`, phase, planted)
	}
	app := application(t, "argocd", "web", opState("Failed"))
	_ = unstructured.SetNestedSlice(app.Object, []any{
		map[string]any{"group": "drift.driftplane.io", "version": "v1alpha1", "kind": "DriftReport", "namespace": "web", "name": "web"},
		map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "web", "name": "web"},
	}, "status", "resources")
	h := newHarness(t, &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return recorded, nil }}, app, reportFor(t, recorded, "web", "web"))
	h.index(t, app)
	ctx := context.Background()
	if err := h.ctrl.Sync(ctx, "argocd/web"); err != nil {
		t.Fatal(err)
	}
	_, st := h.report(t, "web")
	failed := findingsOfRule(st, "sync-failed")
	if len(failed) != 1 {
		t.Fatalf("sync-failed findings: %+v", st.Findings)
	}
	f := failed[0]
	if f.Kind != "Deployment" || f.Name != "web" || f.ResourceRef != "apps/v1/Deployment/web/web" || f.DriftClass != drift.ClassFailedReconciliation ||
		f.RecommendedAction != drift.ActionInvestigateControlLoop || f.AutoHealAllowed ||
		!strings.Contains(f.Explanation, `Deployment.apps "web" is invalid: spec.template.spec.containers[0].env[0].value: Invalid value: [redacted]: bad[31m FORGED: line`) {
		t.Errorf("finding: %+v", f)
	}
	if st.Inventory == nil || st.Inventory.Expected != 1 || st.Inventory.Observed != 1 {
		t.Errorf("the failure counted as an object: %+v", st.Inventory)
	}
	if got := reconcileMetric(t, h, "sync_failed"); got != 1 {
		t.Errorf("driftplane_reconcile_failures{kind=sync_failed}: %v", got)
	}
	time.Sleep(100 * time.Millisecond) // let the Event sink write
	published := publishedBy(t, h)
	if strings.Contains(published, planted) || strings.Contains(published, "\x1b") || strings.Contains(published, "\nFORGED") {
		t.Errorf("the planted value or a control character is published")
	}
	// Argo CD synced again and succeeded: the failure is over.
	app2 := app.DeepCopy()
	merge(app2.Object, map[string]any{"status": map[string]any{"operationState": map[string]any{"phase": "Succeeded"}}})
	_ = h.ctrl.informer.GetIndexer().Update(app2)
	if err := h.ctrl.Sync(ctx, "argocd/web"); err != nil {
		t.Fatal(err)
	}
	if _, st := h.report(t, "web"); len(findingsOfRule(st, "sync-failed")) != 0 {
		t.Errorf("after a successful sync: %+v", st.Findings)
	}
}

// publishedBy is everything the reporter wrote where people read: logs, status, Events, metrics.
func publishedBy(t *testing.T, h *harness) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(h.logs.String())
	dr, _ := h.dyn.Resource(DriftReportsGVR).Namespace("web").Get(context.Background(), "web", metav1.GetOptions{})
	js, _ := json.Marshal(dr.Object["status"])
	b.Write(js)
	events, _ := h.kube.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
	for _, e := range events.Items {
		fmt.Fprintln(&b, e.Reason, e.Message)
	}
	mfs, _ := h.reg.Gather()
	for _, mf := range mfs {
		b.WriteString(mf.String())
	}
	return b.String()
}

// TestThrashSuspendsHealThroughController: a writer puts a label back faster than the reporter
// evaluates, so every evaluation sees its value, and each one auto-heal syncs it back. The heals
// count as changes: by the third evaluation the label thrashes, and from then on no heal fires,
// whatever the AutoHealPolicy allows; when the fight has left the window, heal resumes.
func TestThrashSuspendsHealThroughController(t *testing.T) {
	recorded := loadAnswer(t)
	value, manager := "hacked", "label-fighter"
	clock := fixedNow
	var mu sync.Mutex
	argo := &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) {
		mu.Lock()
		defer mu.Unlock()
		return labelAnswer(t, recorded, value, manager, clock), nil
	}}
	app := appListing(t, "web", "web")
	h := newHarness(t, argo, app, reportFor(t, recorded, "web", "web"))
	h.index(t, app)
	// Each heal lands 20 seconds later: Argo CD's operation succeeds with the Deployment synced.
	healer := &fakeHealer{synced: func(targets []HealTarget) {
		a := app.DeepCopy()
		var res []any
		for _, tg := range targets {
			res = append(res, map[string]any{"group": tg.Group, "version": "v1", "kind": tg.Kind, "namespace": tg.Namespace, "name": tg.Name,
				"status": "Synced", "message": "configured"})
		}
		mu.Lock()
		finished := clock.Add(20 * time.Second).Format(time.RFC3339)
		mu.Unlock()
		merge(a.Object, map[string]any{"status": map[string]any{"operationState": map[string]any{"phase": "Succeeded", "finishedAt": finished,
			"syncResult": map[string]any{"resources": res}}}})
		_ = h.ctrl.informer.GetIndexer().Update(a)
	}}
	h.ctrl.cfg.AutoHeal, h.ctrl.cfg.Healer = true, healer
	h.ctrl.cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	ctx := context.Background()
	var st *Status
	for i := 0; i < 5; i++ {
		if err := h.ctrl.Sync(ctx, "argocd/web"); err != nil {
			t.Fatal(err)
		}
		_, st = h.report(t, "web")
		want := map[int]int{0: 1, 1: 2}[i]
		if i >= 2 {
			want = 2 // suspended from the third evaluation on
		}
		if healer.count() != want {
			t.Fatalf("evaluation %d: %d heals, want %d; skipped %v", i, healer.count(), want, st.AutoHeal)
		}
		mu.Lock()
		clock = clock.Add(time.Minute)
		mu.Unlock()
	}
	thrash := findingsOfRule(st, "reconcile-thrash")
	if len(thrash) != 1 || thrash[0].Kind != "Deployment" || strings.Join(thrash[0].ChangedFields, ",") != "/metadata/labels/app" ||
		!strings.HasPrefix(thrash[0].Explanation, "thrash: /metadata/labels/app changed 4 times in 30m by argocd-driftplane auto-heal, label-fighter") {
		t.Fatalf("thrash: %+v", thrash)
	}
	if st.AutoHeal == nil || !strings.Contains(strings.Join(st.AutoHeal.Skipped, "\n"), "/metadata/labels/app: auto-heal suspended: reconcile thrash on /metadata/labels/app") {
		t.Errorf("skipped: %+v", st.AutoHeal)
	}
	if st.Reconcile == nil || len(st.Reconcile.Paths) == 0 {
		t.Fatalf("no history in the status: %+v", st.Reconcile)
	}
	for _, p := range st.Reconcile.Paths {
		for _, s := range p.Samples {
			if !strings.HasPrefix(s.Digest, drift.DigestPrefix) {
				t.Errorf("a sample is not a keyed digest: %+v", s)
			}
		}
	}
	if js, _ := json.Marshal(st.Reconcile); strings.Contains(string(js), "hacked") {
		t.Errorf("a value in the history: %s", js)
	}
	if got := reconcileMetric(t, h, "thrash"); got != 1 {
		t.Errorf("driftplane_reconcile_failures{kind=thrash}: %v", got)
	}
	// The fight is over (Git's label stays) and has left the window: heal is allowed again.
	mu.Lock()
	value, manager = "web", "argocd-controller"
	clock = clock.Add(time.Hour)
	mu.Unlock()
	if err := h.ctrl.Sync(ctx, "argocd/web"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	value, manager = "hacked-again", "alice-kubectl"
	clock = clock.Add(time.Minute)
	mu.Unlock()
	if err := h.ctrl.Sync(ctx, "argocd/web"); err != nil {
		t.Fatal(err)
	}
	if _, st = h.report(t, "web"); len(findingsOfRule(st, "reconcile-thrash")) != 0 || healer.count() != 3 {
		t.Errorf("after the fight: %d heals, %+v", healer.count(), st.Findings)
	}
}

// TestHealSuspendedOnOverflow: a history that overflowed suspends every heal of the application.
func TestHealSuspendedOnOverflow(t *testing.T) {
	st := Status{Reconcile: &drift.ReconcileTracking{Overflow: true}, Findings: []StatusFinding{
		healFinding("f", "Deployment", "web", drift.DomainWorkload, "/metadata/labels/tier")}}
	pol := healPolicy(nil, []string{"/metadata/labels"}, nil)
	if p := PlanHeal(pol, st, AppState{Healthy: true, Suspended: healSuspended(&st)}); len(p.Targets) != 0 || !skippedHas(p, "more paths change than reconcile thrash can track") {
		t.Errorf("%+v", p)
	}
	st.Reconcile.Overflow = false
	if p := PlanHeal(pol, st, AppState{Healthy: true, Suspended: healSuspended(&st)}); len(p.Targets) != 1 {
		t.Errorf("%+v", p)
	}
}

func reconcileMetric(t *testing.T, h *harness, kind string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "driftplane_reconcile_failures" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelValue(m, "app") == "argocd/web" && labelValue(m, "kind") == kind {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// TestOneRelabelHealedInItsSecondThroughController replays the e2e's false positive through the
// controller, times in whole seconds as Argo CD and managedFields give them: alice relabels and
// the reporter sees it and heals in second T; the heal's sync ends in T; the next evaluation, still
// in T, gets the Deployment as Argo CD's cache had it before the heal (alice's value, her time T)
// and heals again; the next gets Git's value, owned by argocd-controller. That is one relabel and
// its heal: no reconcile-thrash finding, and the heal stays allowed.
func TestOneRelabelHealedInItsSecondThroughController(t *testing.T) {
	recorded := loadAnswer(t)
	value, manager := "hacked", "kubectl-label"
	clock := fixedNow.Add(200 * time.Millisecond)
	alice := fixedNow // her write, second T
	var mu sync.Mutex
	argo := &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) {
		mu.Lock()
		defer mu.Unlock()
		return labelAnswer(t, recorded, value, manager, alice), nil
	}}
	app := appListing(t, "web", "web")
	h := newHarness(t, argo, app, reportFor(t, recorded, "web", "web"))
	h.index(t, app)
	// Every heal's sync succeeds with the Deployment synced, ending in the second it was asked in.
	healer := &fakeHealer{synced: func(targets []HealTarget) {
		a := app.DeepCopy()
		var res []any
		for _, tg := range targets {
			res = append(res, map[string]any{"group": tg.Group, "version": "v1", "kind": tg.Kind, "namespace": tg.Namespace, "name": tg.Name,
				"status": "Synced", "message": "configured"})
		}
		mu.Lock()
		finished := clock.Truncate(time.Second).Format(time.RFC3339)
		mu.Unlock()
		merge(a.Object, map[string]any{"status": map[string]any{"operationState": map[string]any{"phase": "Succeeded", "finishedAt": finished,
			"syncResult": map[string]any{"resources": res}}}})
		_ = h.ctrl.informer.GetIndexer().Update(a)
	}}
	h.ctrl.cfg.AutoHeal, h.ctrl.cfg.Healer = true, healer
	h.ctrl.cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	ctx := context.Background()
	evaluate := func(v, m string, at time.Duration) *Status {
		t.Helper()
		mu.Lock()
		value, manager, clock = v, m, fixedNow.Add(at)
		mu.Unlock()
		if err := h.ctrl.Sync(ctx, "argocd/web"); err != nil {
			t.Fatal(err)
		}
		_, st := h.report(t, "web")
		return st
	}
	evaluate("hacked", "kubectl-label", 200*time.Millisecond) // heal 1, landing in T
	evaluate("hacked", "kubectl-label", 700*time.Millisecond) // a read that predates it: heal 2
	if healer.count() != 2 {
		t.Fatalf("%d heals, want 2", healer.count())
	}
	st := evaluate("web", "argocd-controller", 900*time.Millisecond)
	if thrash := findingsOfRule(st, "reconcile-thrash"); len(thrash) != 0 {
		t.Fatalf("one relabel and its heal taken for thrash: %s", thrash[0].Explanation)
	}
	// Alice relabels again a minute later: healed again, not suspended.
	alice = fixedNow.Add(time.Minute)
	st = evaluate("hacked", "kubectl-label", time.Minute+200*time.Millisecond)
	if thrash := findingsOfRule(st, "reconcile-thrash"); len(thrash) != 0 || healer.count() != 3 {
		t.Errorf("the next relabel: %d heals, %+v", healer.count(), thrash)
	}
}
