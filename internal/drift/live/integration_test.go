package live

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

// secretValue is the Secret's value: it must appear nowhere in what the detectors return.
const secretValue = "hunter2-live-Zq9-value"

// TestLiveCluster runs the collector and detectors against a real etcd + kube-apiserver (no
// kubelet: Pods' container statuses are written through the status subresource, as a kubelet
// would): two digests for one tag, a stale ExternalSecret (the CRD installed from testdata), a
// Secret updated after its consumers started, an unmanaged ConfigMap beside a declared one and
// one its ownerReference holds, a hostile tracking annotation, and policy rules over the live
// Pods with since and a migration window.
func TestLiveCluster(t *testing.T) {
	c := kubetest.Start(t)
	cfg := c.RESTConfig("admin", "system:masters")
	dyn := dynamic.NewForConfigOrDie(cfg)
	kc := kubernetes.NewForConfigOrDie(cfg)
	md := metadata.NewForConfigOrDie(cfg)
	ctx := context.Background()
	crds, err := kube.LoadManifests("testdata/crd-externalsecret.yaml")
	if err != nil {
		t.Fatal(err)
	}
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dyn.Resource(crdGVR).Create(ctx, crds[0].Object, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubetest.WaitEstablished(t, dyn, crds[0].Object.GetName())

	const ns = "shop"
	if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// As a kubelet would report it: the containers started as the Pods were created.
	var started time.Time
	// Pods of Deployment web (through ReplicaSet web-7d9f), one of them not runAsNonRoot, all reading
	// Secret db; their statuses say which digest each runs.
	digests := map[string]string{"web-7d9f-a": digest("a"), "web-7d9f-b": digest("b"), "web-7d9f-c": digest("a")}
	for _, name := range []string{"web-7d9f-a", "web-7d9f-b", "web-7d9f-c"} {
		var podSecurity *corev1.PodSecurityContext
		if name != "web-7d9f-b" {
			podSecurity = &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}
		}
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"pod-template-hash": "7d9f", "app": "web"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f", UID: "rs-uid", Controller: ptr(true)}}},
			Spec: corev1.PodSpec{SecurityContext: podSecurity, Containers: []corev1.Container{{
				Name: "app", Image: "registry.example.com/web:1.4",
				EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}}},
			}}},
		}
		created, err := kc.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		started = created.CreationTimestamp.Time
		created.Status = corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &metav1.Time{Time: started},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "registry.example.com/web:1.4", ImageID: "registry.example.com/web@" + digests[name], Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Time{Time: started}}}}}}
		if _, err := kc.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A Pod that claims to run without saying what: unknown, not clean.
	liar, err := kc.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "liar", Namespace: ns},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.4"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	liar.Status = corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &metav1.Time{Time: started}}
	if _, err := kc.CoreV1().Pods(ns).UpdateStatus(ctx, liar, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Secret db, applied with kubectl (so last-applied-configuration holds its value), then
	// updated after the Pods started.
	secretYAML := "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {password: " + secretValue + "}\n"
	apply := func(doc string) {
		f := filepath.Join(t.TempDir(), "secret.yaml")
		if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		c.KubectlAs("admin", []string{"system:masters"}, "apply", "-f", f)
	}
	apply(secretYAML)
	time.Sleep(1100 * time.Millisecond) // managedFields times have one-second resolution
	apply(strings.Replace(secretYAML, secretValue, secretValue+"-rotated", 1))

	// An ExternalSecret refreshed three hours ago with a one-hour interval.
	esGVR := schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}
	es := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
		"metadata": map[string]any{"name": "db", "namespace": ns},
		"spec":     map[string]any{"refreshInterval": "1h", "target": map[string]any{"name": "db"}}}}
	es, err = dyn.Resource(esGVR).Namespace(ns).Create(ctx, es, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	es.Object["status"] = map[string]any{"refreshTime": time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339), "syncedResourceVersion": "1-9f2",
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "SecretSynced", "message": "secret " + secretValue}}}
	if _, err := dyn.Resource(esGVR).Namespace(ns).UpdateStatus(ctx, es, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// ConfigMaps: one Git declares, one nothing declares, one its ownerReference holds, one
	// with a tracking id for an application that does not exist.
	cm := func(name string, mut func(*corev1.ConfigMap)) *corev1.ConfigMap {
		o := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string]string{"k": "v"}}
		if mut != nil {
			mut(o)
		}
		out, err := kc.CoreV1().ConfigMaps(ns).Create(ctx, o, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	settings := cm("settings", nil)
	cm("stray", nil)
	cm("child", func(o *corev1.ConfigMap) {
		o.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "settings", UID: settings.UID}}
	})
	cm("forged", func(o *corev1.ConfigMap) {
		o.Annotations = map[string]string{TrackingAnnotation: "ghost:/ConfigMap:shop/forged"}
	})

	col := Collector{Dynamic: dyn, Metadata: md}
	snap, err := col.Collect(ctx, Scope{Namespaces: []string{ns}, Kinds: []Kind{{"", "v1", "ConfigMap"}, {"", "v1", "Secret"}}}, kube.Resource)
	if err != nil {
		t.Fatal(err)
	}
	if !snap.SecretsListed || len(snap.ExternalSecrets) != 1 || len(snap.Pods) != 4 {
		t.Fatalf("snapshot: secrets %v, %d ExternalSecrets, %d Pods, warnings %v", snap.SecretsListed, len(snap.ExternalSecrets), len(snap.Pods), snap.Warnings)
	}
	// Without a metadata client Secrets come through the dynamic one and lose all but their
	// metadata as the list arrives: the same Secrets, and no value.
	viaDynamic, err := Collector{Dynamic: dyn}.Collect(ctx, Scope{Namespaces: []string{ns}}, kube.Resource)
	if err != nil {
		t.Fatal(err)
	}
	if len(viaDynamic.Secrets) != len(snap.Secrets) || len(viaDynamic.Secrets) == 0 {
		t.Errorf("secrets via dynamic %d, via metadata %d", len(viaDynamic.Secrets), len(snap.Secrets))
	}
	if b, _ := json.Marshal(viaDynamic); strings.Contains(string(b), secretValue) || strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte(secretValue))) {
		t.Error("a Secret's value survived the dynamic listing")
	}
	since := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	u := &drift.ManagedUnit{APIVersion: drift.APIVersion, Kind: drift.KindManagedUnit, Metadata: drift.Metadata{Name: "web"},
		Spec: drift.UnitSpec{Kind: drift.UnitKubernetes, Owner: "team-web", Environment: "staging", RiskTier: "high", Gate: "high",
			PolicyRules: []drift.PolicyRule{{ID: "run-as-non-root", AppliesTo: []string{"/Pod"}, Since: since.Format(time.RFC3339), MigrationWindow: "720h",
				Message:    "Pods run as non-root",
				Expression: `has(object.spec.securityContext) && has(object.spec.securityContext.runAsNonRoot) && object.spec.securityContext.runAsNonRoot == true`}}}}
	res := Detect(snap, Context{Unit: u, Now: time.Now(), App: "web",
		Declared:  map[ObjectKey]bool{{"", "ConfigMap", ns, "settings"}: true, {"", "Secret", ns, "db"}: true},
		KnownApps: func(n string) bool { return n == "web" },
		OwnerExists: func(namespace string, o OwnerRef) bool {
			got, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: kube.Resource("", o.Kind)}).Namespace(namespace).Get(ctx, o.Name, metav1.GetOptions{})
			return err == nil && string(got.GetUID()) == o.UID
		}})
	// Inside the migration window (the rule takes effect in an hour; the Pods predate it).
	rep, err := drift.Evaluate(u, nil, res.Observations, drift.WithResources(res.Resources), drift.WithNow(since.Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]drift.Finding{}
	for _, f := range rep.Findings {
		got[f.ResourceRef+" "+string(f.DriftClass)] = f
	}
	expect := func(key string, action drift.Action, fragments ...string) {
		t.Helper()
		f, ok := got[key]
		if !ok {
			t.Errorf("no finding %s", key)
			return
		}
		if f.RecommendedAction != action {
			t.Errorf("%s: action %s", key, f.RecommendedAction)
		}
		for _, fr := range fragments {
			if !strings.Contains(f.Explanation, fr) {
				t.Errorf("%s: explanation lacks %q: %s", key, fr, f.Explanation)
			}
		}
	}
	expect("apps/v1/Deployment/shop/web DEPENDENCY_DRIFT", drift.ActionPinReference, "registry.example.com/web:1.4", "tag 1.4", digest("a"), digest("b"))
	expect("external-secrets.io/v1/ExternalSecret/shop/db SECRET_DELIVERY_DRIFT", drift.ActionFixSecretSync, "beyond its refreshInterval 1h0m0s", "synced resourceVersion 1-9f2")
	expect("/v1/Secret/shop/db SECRET_DELIVERY_DRIFT", drift.ActionRestartConsumers, "web-7d9f-a", "web-7d9f-b", "web-7d9f-c", "by kubectl")
	expect("/v1/ConfigMap/shop/stray UNMANAGED_RESOURCE", drift.ActionImport, "no Git source declares it")
	expect("/v1/ConfigMap/shop/forged UNMANAGED_RESOURCE", drift.ActionImport, `application "ghost"`)
	expect("/v1/Pod/shop/liar UNKNOWN", drift.ActionIncident, "container app has no status")
	expect("/v1/Pod/shop/web-7d9f-b POLICY_DRIFT", drift.ActionMigrationPlan, "Pods run as non-root", "migrate it before "+since.Add(720*time.Hour).Format(time.RFC3339))
	for _, k := range []string{"/v1/ConfigMap/shop/child UNMANAGED_RESOURCE", "/v1/ConfigMap/shop/settings UNMANAGED_RESOURCE", "/v1/Pod/shop/web-7d9f-a POLICY_DRIFT", "/v1/ConfigMap/shop/kube-root-ca.crt UNMANAGED_RESOURCE"} {
		if _, ok := got[k]; ok {
			t.Errorf("unexpected finding %s", k)
		}
	}
	if f := got["/v1/Pod/shop/web-7d9f-b POLICY_DRIFT"]; f.Blocking {
		t.Error("a Pod that predates the rule blocks inside its window")
	}
	// After the window the same violation blocks.
	late, err := drift.Evaluate(u, nil, res.Observations, drift.WithResources(res.Resources), drift.WithNow(since.Add(721*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range late.Findings {
		if f.PolicyRule == "run-as-non-root" && !f.Blocking {
			t.Errorf("after the window: %+v", f)
		}
	}
	// No secret value anywhere: not in the snapshot, the result, the report or the evidence.
	for what, v := range map[string]any{"snapshot": snap, "result": dump(t, res), "report": rep, "late report": late} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{secretValue, base64.StdEncoding.EncodeToString([]byte(secretValue)), "f:password"} {
			if i := strings.Index(string(b), leak); i >= 0 {
				t.Errorf("%s holds %q: …%s…", what, leak, string(b)[max(0, i-300):i])
			}
		}
	}
	for _, f := range rep.Findings {
		b, _ := json.Marshal(f.Changes)
		if strings.Contains(string(b), secretValue) {
			t.Errorf("evidence of %s holds the value", f.ResourceRef)
		}
	}
}

func ptr[T any](v T) *T { return &v }
