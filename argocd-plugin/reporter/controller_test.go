package reporter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/generate"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

const unitYAML = `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftManagedUnit
metadata: {name: web-prod}
spec: {owner: team-web, environment: prod, riskTier: high, gate: high, autoHeal: true, breakGlassGroups: [sre-breakglass]}
---
apiVersion: drift.driftplane.io/v1alpha1
kind: DriftOwnershipRule
metadata: {name: hpa}
spec:
  resource: {group: apps, kind: Deployment}
  controllerOwned: [{path: /spec/replicas, owner: horizontal-pod-autoscaler}]
---
apiVersion: drift.driftplane.io/v1alpha1
kind: AutoHealPolicy
metadata: {name: labels-only}
spec:
  appliesTo: {kinds: [Deployment]}
  allowedPaths: [/metadata/labels]
  maxObjectsPerReconcile: 3
`

// TestControllerLiveCluster runs the reporter against a real kube-apiserver holding the
// Application and DriftReport CRDs: it must take the Lease, evaluate the application, write the
// DriftReport status, record an Event on the Application and export metrics. The Argo CD API is
// answered from the same cluster (target = the plugin's output, live = the objects), which is what
// argocd-server computes; the end-to-end test with a real argocd-server is separate.
func TestControllerLiveCluster(t *testing.T) {
	c := kubetest.Start(t)
	sc := kubetest.SetUpScenario(t, c)
	cfg := c.RESTConfig("admin", "system:masters")
	dyn := dynamic.NewForConfigOrDie(cfg)
	kc := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	kubetest.InstallArgoCDCRDs(t, dyn, "../manifests/base/crd-driftreport.yaml")
	// Someone relabels the Deployment by hand: low risk, and the policy lets it heal.
	c.KubectlAs("dave", []string{kubetest.WritersGroup}, "-n", kubetest.Namespace, "label", "deployment", "web", "app=web-hand-edited", "--overwrite")
	c.KubectlAs("admin", []string{"system:masters"}, "create", "namespace", "argocd")

	// The application's rendered manifests, exactly as the plugin produces them.
	appDir := t.TempDir()
	copyDir(t, sc.GateDir, appDir)
	if err := os.MkdirAll(filepath.Join(appDir, ".drift"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(appDir, ".drift", "unit.yaml"), []byte(unitYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := generate.Generate(appDir, generate.Options{Env: map[string]string{generate.EnvAppName: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := kube.DecodeManifests("generated", out)
	if err != nil {
		t.Fatal(err)
	}
	report := docs[len(docs)-1].Object
	report.SetNamespace(kubetest.Namespace)
	// As Argo CD applies it: tracked for the application (the reporter refuses a report that is not).
	report.SetAnnotations(map[string]string{TrackingAnnotation: "web:drift.driftplane.io/DriftReport:" + kubetest.Namespace + "/web"})
	if _, err := dyn.Resource(DriftReportsGVR).Namespace(kubetest.Namespace).Create(ctx, report, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	app := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  project: default
  source: {repoURL: "https://git.example.com/web.git", path: web, plugin: {name: driftplane-v1}}
  destination: {server: "https://kubernetes.default.svc", namespace: web}
status:
  health: {status: Healthy}
  sync: {status: OutOfSync, revision: 0123abc}
  resources:
  - {group: drift.driftplane.io, version: v1alpha1, kind: DriftReport, namespace: web, name: web}
  - {group: apps, version: v1, kind: Deployment, namespace: web, name: web}
`), &app.Object); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(ApplicationsGVR).Namespace("argocd").Create(ctx, app, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex // the handler runs on the server's goroutines
	var asked []string
	var synced []string
	argo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			synced = append(synced, r.URL.Path+" "+string(b))
			_, _ = w.Write([]byte(`{}`))
			return
		}
		asked = append(asked, r.URL.Path+"?"+r.URL.RawQuery)
		var items []ResourceDiff
		for _, d := range docs {
			o := d.Object
			gvk := o.GroupVersionKind()
			target, _ := json.Marshal(o.Object)
			rd := ResourceDiff{Group: gvk.Group, Kind: gvk.Kind, Namespace: o.GetNamespace(), Name: o.GetName(), TargetState: string(target), LiveState: "null"}
			if rd.Namespace == "" {
				rd.Namespace = kubetest.Namespace
			}
			gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: kube.Resource(gvk.Group, gvk.Kind)}
			if live, err := dyn.Resource(gvr).Namespace(rd.Namespace).Get(r.Context(), rd.Name, metav1.GetOptions{}); err == nil {
				b, _ := json.Marshal(live.Object)
				rd.LiveState = string(b)
			}
			items = append(items, rd)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
	}))
	defer argo.Close()

	evidenceDir := t.TempDir()
	reg := prometheus.NewRegistry()
	ctrl := NewController(Config{Dynamic: dyn, Kube: kc, Argo: NewArgoClient(argo.URL, "tok", false), Namespace: "argocd",
		Resync: time.Hour, AuditLogPath: c.AuditLog, Metrics: NewMetrics(reg), AutoHeal: true, Healer: NewArgoClient(argo.URL, "tok", false),
		Evidence: evidence.Dir(evidenceDir)})
	done := make(chan error, 1)
	go func() { done <- RunWithLeaderElection(ctx, ctrl, kc, "argocd", "test-replica", 1) }()

	var st *Status
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		dr, err := dyn.Resource(DriftReportsGVR).Namespace(kubetest.Namespace).Get(ctx, "web", metav1.GetOptions{})
		if err == nil {
			if st = currentStatus(dr); st != nil && st.LastEvaluatedEpoch > 0 {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st == nil || st.LastEvaluatedEpoch == 0 {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("no DriftReport status written; Argo API asked %v", asked)
	}
	if st.BlockingCount != 1 || st.ObservedRevision != "0123abc" || len(st.Conditions) != 1 || st.Conditions[0].Status != "True" {
		t.Errorf("status: blocking %d revision %q conditions %+v", st.BlockingCount, st.ObservedRevision, st.Conditions)
	}
	if f := st.Findings[0]; f.Kind != "Deployment" || f.Actor != "alice" || !f.Blocking {
		t.Errorf("first finding %+v", f)
	}
	mu.Lock()
	if len(asked) == 0 || asked[0] != "/api/v1/applications/web/managed-resources?appNamespace=argocd" {
		t.Errorf("Argo CD API calls %v", asked)
	}
	mu.Unlock()

	var events []string
	for time.Now().Before(deadline) {
		list, err := kc.CoreV1().Events("argocd").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		events = events[:0]
		for _, e := range list.Items {
			if e.InvolvedObject.Kind == "Application" && e.InvolvedObject.Name == "web" {
				events = append(events, e.Type+" "+e.Reason+": "+e.Message)
			}
		}
		if len(events) > 1 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	joined := strings.Join(events, "\n")
	if !strings.Contains(joined, "Warning DriftBlocking: ") || !strings.Contains(joined, "Deployment/web UNAUTHORIZED_RUNTIME_DRIFT HIGH") ||
		!strings.Contains(joined, "Normal DriftHealed: Synced back to Git under AutoHealPolicy: Deployment/web /metadata/labels/app") {
		t.Errorf("events on the Application: %v", events)
	}
	// Bounded auto-heal: only the label, under the policy that allows it; the image is not healed.
	if st.AutoHeal == nil || len(st.AutoHeal.Healed) != 1 || st.AutoHeal.Healed[0].Name != "web" ||
		strings.Join(st.AutoHeal.Healed[0].Paths, ",") != "/metadata/labels/app" {
		t.Errorf("auto-heal record %+v", st.AutoHeal)
	}
	mu.Lock()
	if len(synced) != 1 || !strings.Contains(synced[0], `"resources":[{"group":"apps","kind":"Deployment","namespace":"web","name":"web"}]`) {
		t.Errorf("sync requests %v", synced)
	}
	mu.Unlock()
	if st.AutoHeal != nil && !strings.Contains(strings.Join(st.AutoHeal.Skipped, "\n"), "/spec/template/spec/containers/name=app/image: AutoHealPolicy labels-only does not allow /spec/template/spec/containers/name=app/image") {
		t.Errorf("the image change must be skipped with its reason: %v", st.AutoHeal.Skipped)
	}
	if lease, err := kc.CoordinationV1().Leases("argocd").Get(ctx, "argocd-driftplane-reporter", metav1.GetOptions{}); err != nil || *lease.Spec.HolderIdentity != "test-replica" {
		t.Errorf("lease: %v %v", lease, err)
	}
	if records, _ := filepath.Glob(filepath.Join(evidenceDir, "web-prod", "*.json")); len(records) == 0 {
		t.Error("no evidence record of the evaluation")
	}
	if v := metric(t, reg, "driftplane_blocking_findings", "argocd/web"); v != 1 {
		t.Errorf("driftplane_blocking_findings = %v", v)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("the reporter did not stop after its context ended")
	}
}

// metric is the value of the gauge or counter name for app, or -1 when there is none.
func metric(t *testing.T, reg *prometheus.Registry, name, app string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelValue(m, "app") == app {
				if c := m.GetCounter(); c != nil {
					return c.GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
