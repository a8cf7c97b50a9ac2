package reporter

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

// liveSecretValue is a Secret's value: it must reach no status, Event, log line or metric.
const liveSecretValue = "hunter2-report-Qx7-value"

// TestReporterJudgesWhatRuns runs the reporter against a real kube-apiserver: beside the objects
// the application declares it lists the Pods (statuses written through the status subresource:
// two digests for one tag), a stale ExternalSecret, a Secret rotated after its consumers started
// (read as metadata only) and an unmanaged ConfigMap, and writes them to the DriftReport status
// through the CRD's validation (the new classes and actions are in its enums), with the digests
// recorded for the next evaluation and unmanaged objects in the inventory. No secret value
// appears in the status, the Events, the logs or the metrics.
func TestReporterJudgesWhatRuns(t *testing.T) {
	c := kubetest.Start(t)
	cfg := c.RESTConfig("admin", "system:masters")
	dyn := dynamic.NewForConfigOrDie(cfg)
	kc := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kubetest.InstallArgoCDCRDs(t, dyn, "../manifests/base/crd-driftreport.yaml", "../../internal/drift/live/testdata/crd-externalsecret.yaml")
	for _, ns := range []string{"shop", "argocd"} {
		if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kubectl := func(doc string) {
		f := filepath.Join(t.TempDir(), "doc.yaml")
		if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		c.KubectlAs("admin", []string{"system:masters"}, "apply", "-f", f)
	}
	secretDoc := "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {password: " + liveSecretValue + "}\n"
	kubectl(secretDoc)
	// As a kubelet would report it: the containers started as the Pods were created.
	var started time.Time
	for name, d := range map[string]string{"web-5c4b-a": "a", "web-5c4b-b": "b", "solo": "c"} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:2.0",
				EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}}}}}}}
		if name != "solo" {
			p.Labels = map[string]string{"pod-template-hash": "5c4b"}
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5c4b", UID: "rs", Controller: ptrTo(true)}}
		}
		created, err := kc.CoreV1().Pods("shop").Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		started = created.CreationTimestamp.Time
		created.Status = corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &metav1.Time{Time: started},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "registry.example.com/web:2.0", ImageID: "registry.example.com/web@sha256:" + strings.Repeat(d, 64),
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Time{Time: started}}}}}}
		if _, err := kc.CoreV1().Pods("shop").UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // managedFields times have one-second resolution
	kubectl(strings.Replace(secretDoc, liveSecretValue, liveSecretValue+"-rotated", 1))
	esGVR := schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}
	esTarget := map[string]any{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": map[string]any{"name": "db", "namespace": "shop"},
		"spec": map[string]any{"refreshInterval": "1h", "target": map[string]any{"name": "db"}}}
	es, err := dyn.Resource(esGVR).Namespace("shop").Create(ctx, &unstructured.Unstructured{Object: esTarget}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	es.Object["status"] = map[string]any{"refreshTime": time.Now().Add(-5 * time.Hour).UTC().Format(time.RFC3339),
		"conditions": []any{map[string]any{"type": "Ready", "status": "False", "reason": "SecretSyncedError", "message": "provider said " + liveSecretValue}}}
	if _, err := dyn.Resource(esGVR).Namespace("shop").UpdateStatus(ctx, es, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	settings := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "settings", "namespace": "shop"}, "data": map[string]any{"k": "v"}}
	for _, cm := range []map[string]any{settings, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "stray", "namespace": "shop"}}} {
		if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace("shop").Create(ctx, &unstructured.Unstructured{Object: cm}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	unitObj := map[string]any{"apiVersion": drift.APIVersion, "kind": drift.KindManagedUnit, "metadata": map[string]any{"name": "web"},
		"spec": map[string]any{"kind": drift.UnitKubernetes, "owner": "team-web", "environment": "staging", "riskTier": "high", "gate": "high"}}
	report := map[string]any{"apiVersion": "drift.driftplane.io/v1alpha1", "kind": "DriftReport",
		"metadata": map[string]any{"name": "web", "namespace": "shop", "annotations": map[string]any{TrackingAnnotation: "web:drift.driftplane.io/DriftReport:shop/web"}},
		"spec":     map[string]any{"unit": unitObj, "application": map[string]any{"name": "web", "namespace": "argocd"}}}
	if _, err := dyn.Resource(DriftReportsGVR).Namespace("shop").Create(ctx, &unstructured.Unstructured{Object: report}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	app := map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": map[string]any{"name": "web", "namespace": "argocd"},
		"spec": map[string]any{"project": "default", "source": map[string]any{"repoURL": "https://git.example.com/web.git", "path": "web"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "shop"}},
		"status": map[string]any{"health": map[string]any{"status": "Healthy"}, "sync": map[string]any{"status": "Synced", "revision": "f00d"},
			"resources": []any{map[string]any{"group": "drift.driftplane.io", "version": "v1alpha1", "kind": "DriftReport", "namespace": "shop", "name": "web"}}}}
	if _, err := dyn.Resource(ApplicationsGVR).Namespace("argocd").Create(ctx, &unstructured.Unstructured{Object: app}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// argocd-server's answer: the declared objects, target and live.
	argo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var items []ResourceDiff
		for _, d := range []struct {
			target map[string]any
			gvr    schema.GroupVersionResource
		}{{report, DriftReportsGVR}, {settings, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}}, {esTarget, esGVR}} {
			u := unstructured.Unstructured{Object: d.target}
			target, _ := json.Marshal(d.target)
			rd := ResourceDiff{Group: u.GroupVersionKind().Group, Kind: u.GetKind(), Namespace: "shop", Name: u.GetName(), TargetState: string(target), LiveState: "null"}
			if got, err := dyn.Resource(d.gvr).Namespace("shop").Get(r.Context(), u.GetName(), metav1.GetOptions{}); err == nil {
				b, _ := json.Marshal(got.Object)
				rd.LiveState = string(b)
			}
			items = append(items, rd)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
	}))
	defer argo.Close()

	var logs syncBuffer
	reg := prometheus.NewRegistry()
	ctrl := NewController(Config{Dynamic: dyn, Kube: kc, Metadata: metadata.NewForConfigOrDie(cfg), Argo: NewArgoClient(argo.URL, "tok", false),
		Namespace: "argocd", Resync: time.Hour, Metrics: NewMetrics(reg), Log: slog.New(slog.NewTextHandler(&logs, nil))})
	done := make(chan error, 1)
	go func() { done <- ctrl.Run(ctx, 1) }()
	var st *Status
	var raw map[string]any
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		dr, err := dyn.Resource(DriftReportsGVR).Namespace("shop").Get(ctx, "web", metav1.GetOptions{})
		if err == nil {
			if st = currentStatus(dr); st != nil && st.LastEvaluatedEpoch > 0 {
				raw = dr.Object
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st == nil || st.LastEvaluatedEpoch == 0 {
		t.Fatalf("no status; logs:\n%s", logs.String())
	}
	if len(st.Conditions) == 0 || st.Conditions[0].Status != "True" {
		t.Fatalf("not evaluated: %+v\nlogs:\n%s", st.Conditions, logs.String())
	}
	found := map[string]StatusFinding{}
	for _, f := range st.Findings {
		found[f.Kind+"/"+f.Name+" "+string(f.DriftClass)] = f
	}
	want := map[string]drift.Action{
		"Deployment/web DEPENDENCY_DRIFT":         drift.ActionPinReference,
		"ExternalSecret/db SECRET_DELIVERY_DRIFT": drift.ActionFixSecretSync,
		"Secret/db SECRET_DELIVERY_DRIFT":         drift.ActionRestartConsumers,
		"ConfigMap/stray UNMANAGED_RESOURCE":      drift.ActionImport,
	}
	for k, a := range want {
		if f, ok := found[k]; !ok || f.RecommendedAction != a {
			t.Errorf("finding %s: %+v (have %v)", k, f, keysOf(found))
		}
	}
	if f := found["Secret/db SECRET_DELIVERY_DRIFT"]; !strings.Contains(f.Explanation, "web-5c4b-a") || !strings.Contains(f.Explanation, "solo") {
		t.Errorf("consumers not named: %s", f.Explanation)
	}
	if _, ok := found["ConfigMap/settings UNMANAGED_RESOURCE"]; ok {
		t.Error("a declared ConfigMap is unmanaged")
	}
	if st.Inventory == nil || st.Inventory.Unmanaged != 1 || st.Inventory.Expected != st.Inventory.Observed+1 {
		t.Errorf("inventory %+v", st.Inventory)
	}
	if d := st.Images["/v1/Pod/shop/solo|app|registry.example.com/web:2.0|f00d"]; d != "sha256:"+strings.Repeat("c", 64) || len(st.Images) != 1 {
		t.Errorf("recorded images %v", st.Images)
	}
	if st.CountsByClass["SECRET_DELIVERY_DRIFT"] != 2 || st.CountsByClass["UNMANAGED_RESOURCE"] != 1 {
		t.Errorf("counts %v", st.CountsByClass)
	}
	// Nothing of the value anywhere.
	var metricsText bytes.Buffer
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		_, _ = expfmt.MetricFamilyToText(&metricsText, mf)
	}
	if !strings.Contains(metricsText.String(), `driftplane_inventory_resources{app="argocd/web",state="unmanaged"} 1`) {
		t.Errorf("no unmanaged inventory metric:\n%s", grepLines(metricsText.String(), "driftplane_inventory_resources"))
	}
	for _, class := range []string{"SECRET_DELIVERY_DRIFT", "UNMANAGED_RESOURCE", "DEPENDENCY_DRIFT"} {
		if !strings.Contains(metricsText.String(), `class="`+class+`"`) {
			t.Errorf("no findings metric of class %s", class)
		}
	}
	events, _ := kc.CoreV1().Events("argocd").List(ctx, metav1.ListOptions{})
	statusJSON, _ := json.Marshal(raw)
	eventsJSON, _ := json.Marshal(events)
	for what, text := range map[string]string{"DriftReport": string(statusJSON), "Events": string(eventsJSON), "logs": logs.String(), "metrics": metricsText.String()} {
		for _, leak := range []string{liveSecretValue, base64.StdEncoding.EncodeToString([]byte(liveSecretValue)), "provider said"} {
			if strings.Contains(text, leak) {
				t.Errorf("%s holds %q", what, leak)
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("controller: %v", err)
	}
}

func ptrTo[T any](v T) *T { return &v }

func keysOf(m map[string]StatusFinding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
