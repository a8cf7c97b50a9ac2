package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
)

// failedSyncEnv is what the failed-sync and thrash steps use of TestArgoCDEndToEnd's set-up.
type failedSyncEnv struct {
	c                     *kubetest.Cluster
	dyn                   dynamic.Interface
	serverURL, adminToken string
	repo                  *appRepo
}

// plantedLabel looks like a credential and is a label value the API server rejects ("!" is not
// allowed), so the API server echoes it in its error, Argo CD passes that on, and driftplane must
// not publish it.
const plantedLabel = "Sync-Secret-7f3a!!"

// testFailedSyncAndThrash (issue 15): a manifest the API server rejects fails Argo CD's sync, and
// the DriftReport shows FAILED_RECONCILIATION on it with Argo CD's message, sanitized, and the
// application turns Degraded naming it; then a second writer fights the reporter's auto-heal over
// one label, and the reporter reports the thrash and stops healing.
func testFailedSyncAndThrash(t *testing.T, ctx context.Context, e failedSyncEnv) {
	apps := e.dyn.Resource(schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}).Namespace(argoNS)
	reports := e.dyn.Resource(schema.GroupVersionResource{Group: "drift.driftplane.io", Version: "v1alpha1", Resource: "driftreports"}).Namespace("web")
	repo := e.repo.dir
	kube := must(kubernetes.NewForConfig(e.c.RESTConfig("e2e-admin", "system:masters")))
	// Argo CD recomputes the DriftReport's health when it refreshes the application, which a
	// status change alone need not trigger: ask, at most every 10 seconds, while waiting on health.
	var lastRefresh time.Time
	refresh := func() {
		if time.Since(lastRefresh) < 10*time.Second {
			return
		}
		lastRefresh = time.Now()
		req := must(http.NewRequest(http.MethodGet, e.serverURL+"/api/v1/applications/"+appName+"?refresh=normal", nil))
		req.Header.Set("Authorization", "Bearer "+e.adminToken)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	}
	refreshAndSync := func() {
		argoRefresh(t, e.serverURL, e.adminToken, "hard")
		waitIdle(t, ctx, apps)
		argoPost(t, e.serverURL, e.adminToken, "/api/v1/applications/"+appName+"/sync", map[string]any{})
	}
	findings := func() []map[string]any {
		r, err := reports.Get(ctx, appName, metav1.GetOptions{})
		if err != nil {
			return nil
		}
		raw, _, _ := unstructured.NestedSlice(r.Object, "status", "findings")
		var out []map[string]any
		for _, f := range raw {
			if m, ok := f.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	published := func() string {
		r, _ := reports.Get(ctx, appName, metav1.GetOptions{})
		js, _ := json.Marshal(r.Object["status"])
		var b strings.Builder
		b.Write(js)
		a, _ := apps.Get(ctx, appName, metav1.GetOptions{})
		_, msg := reportHealth(a)
		b.WriteString(msg)
		// The reporter's Events (Argo CD's own Events quote the API server as it is).
		events, _ := kube.CoreV1().Events("").List(ctx, metav1.ListOptions{})
		for _, ev := range events.Items {
			if ev.Source.Component == "argocd-driftplane" {
				b.WriteString(ev.Message)
			}
		}
		return b.String()
	}

	step(t, "a manifest the API server rejects -> sync fails -> FAILED_RECONCILIATION, Degraded", func() {
		procs.WriteFile(t, filepath.Join(repo, "app", "flags.yaml"), fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: flags
  namespace: web
  labels: {token: %q}
data: {mode: fast}
`, plantedLabel))
		e.repo.commit(t, "a ConfigMap the API server rejects")
		refreshAndSync()
		procs.WaitFor(t, 3*time.Minute, "Argo CD's sync to fail on ConfigMap/flags", func() (bool, string) {
			a, err := apps.Get(ctx, appName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			phase, _, _ := unstructured.NestedString(a.Object, "status", "operationState", "phase")
			return phase == "Failed" || phase == "Error", summarize(a)
		})
		var explanation string
		procs.WaitFor(t, 2*time.Minute, "FAILED_RECONCILIATION on ConfigMap/flags and the application Degraded naming it", func() (bool, string) {
			for _, f := range findings() {
				if f["rule"] == "sync-failed" && f["kind"] == "ConfigMap" && f["name"] == "flags" && f["drift_class"] == "FAILED_RECONCILIATION" {
					explanation, _ = f["explanation"].(string)
				}
			}
			refresh()
			a, err := apps.Get(ctx, appName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			h, _, _ := unstructured.NestedString(a.Object, "status", "health", "status")
			_, msg := reportHealth(a)
			t.Logf("health %s: %s", h, msg)
			return explanation != "" && h == "Degraded" && strings.Contains(msg, "Sync failed on ConfigMap/flags"), fmt.Sprintf("explanation %q, health %s", explanation, h)
		})
		t.Logf("sync-failed explanation: %s", explanation)
		if !strings.Contains(explanation, "Invalid value: [redacted]") {
			t.Errorf("the API server's echoed value is not redacted in %q", explanation)
		}
		if strings.Contains(published(), strings.TrimSuffix(plantedLabel, "!!")) {
			t.Errorf("the rejected label value %q is published", plantedLabel)
		}
	})

	step(t, "the manifest fixed in Git -> sync succeeds -> Healthy", func() {
		e.repo.run(t, "rm", "-q", "app/flags.yaml")
		e.repo.commit(t, "drop the rejected ConfigMap")
		refreshAndSync()
		procs.WaitFor(t, 3*time.Minute, "the sync to succeed and the failure to end", func() (bool, string) {
			for _, f := range findings() {
				if f["rule"] == "sync-failed" {
					return false, "still " + fmt.Sprint(f["resource_ref"])
				}
			}
			a, err := apps.Get(ctx, appName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			phase, _, _ := unstructured.NestedString(a.Object, "status", "operationState", "phase")
			h, _, _ := unstructured.NestedString(a.Object, "status", "health", "status")
			rh, _ := reportHealth(a)
			refresh()
			return phase == "Succeeded" && h == "Healthy" && rh == "Healthy", summarize(a)
		})
	})

	step(t, "the unit's thrash window set to 2m in Git", func() {
		// A short window, so the thrash (and the auto-heal suspension with it) ends within the
		// test once the fight does.
		unit := filepath.Join(repo, "app", ".drift", "unit.yaml")
		raw := string(must(os.ReadFile(unit)))
		const heal = "autoHeal: true }"
		if strings.Count(raw, heal) != 1 {
			t.Fatalf("%s: no single %q to extend", unit, heal)
		}
		procs.WriteFile(t, unit, strings.Replace(raw, heal, "autoHeal: true, reconcileThrash: { window: 2m, changes: 3 } }", 1))
		e.repo.commit(t, "thrash window 2m")
		argoRefresh(t, e.serverURL, e.adminToken, "hard")
		waitIdle(t, ctx, apps)
		argoPost(t, e.serverURL, e.adminToken, "/api/v1/applications/"+appName+"/sync", map[string]any{
			"resources": []map[string]any{{"group": "drift.driftplane.io", "kind": "DriftReport", "name": appName, "namespace": "web"}},
		})
		procs.WaitFor(t, 2*time.Minute, "the DriftReport to carry the window", func() (bool, string) {
			r, err := reports.Get(ctx, appName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			w, _, _ := unstructured.NestedString(r.Object, "spec", "unit", "spec", "reconcileThrash", "window")
			observed, _, _ := unstructured.NestedInt64(r.Object, "status", "observedGeneration")
			return w == "2m" && observed == r.GetGeneration(), fmt.Sprintf("window %q, observed generation %d of %d", w, observed, r.GetGeneration())
		})
		waitIdle(t, ctx, apps)
	})

	step(t, "a second writer fights auto-heal over one label -> thrash, heal suspended", func() {
		// The fighter writes the label back whenever it is not its own value, as a mutating
		// controller would, under its own field manager.
		fighter := must(dynamic.NewForConfig(e.c.RESTConfig("label-fighter", "system:masters"))).Resource(deploymentsGVR).Namespace("web")
		var writes atomic.Int64
		fightCtx, stopFight := context.WithCancel(ctx)
		fightDone := make(chan struct{})
		go func() {
			defer close(fightDone)
			for fightCtx.Err() == nil {
				d, err := fighter.Get(fightCtx, "web", metav1.GetOptions{})
				if err == nil && d.GetLabels()["app"] != "fight" {
					if _, err := fighter.Patch(fightCtx, "web", types.MergePatchType, []byte(`{"metadata":{"labels":{"app":"fight"}}}`),
						metav1.PatchOptions{FieldManager: "label-fighter"}); err == nil {
						writes.Add(1)
					}
				}
				select {
				case <-fightCtx.Done():
				case <-time.After(200 * time.Millisecond):
				}
			}
		}()
		defer func() { stopFight(); <-fightDone }()
		var explanation string
		procs.WaitFor(t, 4*time.Minute, "a reconcile-thrash finding on Deployment/web", func() (bool, string) {
			var rules []string
			for _, f := range findings() {
				rules = append(rules, fmt.Sprint(f["rule"]))
				if f["rule"] == "reconcile-thrash" && f["kind"] == "Deployment" && f["name"] == "web" {
					explanation, _ = f["explanation"].(string)
				}
			}
			return explanation != "", fmt.Sprintf("fighter wrote %d times; rules %v", writes.Load(), rules)
		})
		t.Logf("thrash: %s (fighter wrote %d times)", explanation, writes.Load())
		if !strings.HasPrefix(explanation, "thrash: /metadata/labels/app changed ") || !strings.Contains(explanation, "label-fighter") {
			t.Errorf("explanation %q", explanation)
		}
		r := must(reports.Get(ctx, appName, metav1.GetOptions{}))
		skipped, _, _ := unstructured.NestedStringSlice(r.Object, "status", "autoHeal", "skipped")
		if !strings.Contains(strings.Join(skipped, "\n"), "auto-heal suspended: reconcile thrash on /metadata/labels/app") {
			t.Errorf("status.autoHeal.skipped: %v", skipped)
		}
		// Suspended means no heal fires: with the fighter still running, nothing writes the label
		// back to Git's, so the fighter has nothing left to write and no DriftHealed follows.
		time.Sleep(3 * time.Second) // a heal decided just before the thrash may still land
		healed := func() int {
			evs := must(kube.CoreV1().Events(argoNS).List(ctx, metav1.ListOptions{FieldSelector: "reason=DriftHealed"}))
			n := 0
			for _, ev := range evs.Items {
				n += countHealed(ev)
			}
			return n
		}
		events0, writes0 := healed(), writes.Load()
		time.Sleep(20 * time.Second) // several resyncs of 5s
		if n, w := healed(), writes.Load(); n != events0 || w != writes0 {
			t.Errorf("auto-heal fired while suspended: %d → %d DriftHealed, fighter wrote %d → %d times", events0, n, writes0, w)
		}
		stopFight()
		<-fightDone
		// Git's label back by hand; the thrash lasts its window (2m), auto-heal of the object with
		// it, and then the application is Healthy again.
		waitIdle(t, ctx, apps)
		argoPost(t, e.serverURL, e.adminToken, "/api/v1/applications/"+appName+"/sync", map[string]any{})
		procs.WaitFor(t, 5*time.Minute, "Git's label back, the thrash over and the application Healthy", func() (bool, string) {
			for _, f := range findings() {
				if f["rule"] == "reconcile-thrash" {
					return false, fmt.Sprint("still ", f["explanation"])
				}
			}
			d, err := e.dyn.Resource(deploymentsGVR).Namespace("web").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			a, err := apps.Get(ctx, appName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			h, _, _ := unstructured.NestedString(a.Object, "status", "health", "status")
			rh, msg := reportHealth(a)
			refresh()
			return d.GetLabels()["app"] == "web" && h == "Healthy" && rh == "Healthy", fmt.Sprintf("label %q, health %s/%s: %s", d.GetLabels()["app"], h, rh, msg)
		})
	})
}

// countHealed is how many times an Event says Deployment/web was healed (Events are aggregated).
func countHealed(ev corev1.Event) int {
	if !strings.Contains(ev.Message, "Deployment/web ") {
		return 0
	}
	if ev.Count > 0 {
		return int(ev.Count)
	}
	return 1
}
