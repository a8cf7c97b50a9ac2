// Package manifests_test checks the install overlay: it builds with kustomize over a stock Argo CD
// install, and a real kube-apiserver accepts every object in it.
package manifests_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/generate"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube/kubetest"
)

// ArgoCDVersion is the Argo CD the top-level kustomization installs; its manifests come from the
// Go module proxy here, since the test cannot fetch the release URL.
const ArgoCDVersion = "v3.2.12"

func stockInstall(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/argoproj/argo-cd/v3@"+ArgoCDVersion).Output()
	if err != nil {
		t.Fatalf("go mod download argo-cd: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(mod.Dir, "manifests", "install.yaml")
}

func TestTopLevelKustomizationPinsTheTestedArgoCD(t *testing.T) {
	b, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "/argo-cd/"+ArgoCDVersion+"/manifests/install.yaml") {
		t.Errorf("kustomization.yaml does not install Argo CD %s, the version tested here", ArgoCDVersion)
	}
}

// build renders the overlay the way the top-level kustomization does, with the stock install
// read from the module cache.
func build(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	dir := t.TempDir()
	install, err := os.ReadFile(stockInstall(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "install.yaml"), install, 0o600); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("base")
	base, err := filepath.Rel(dir, abs) // kustomize refuses absolute component paths
	if err != nil {
		t.Fatal(err)
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: argocd\nresources: [install.yaml]\ncomponents: [" + base + "]\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone
	rm, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range rm.Resources() {
		js, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil { // integers as int64, as the API machinery wants
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
	return objs
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func TestOverlayBuilds(t *testing.T) {
	objs := build(t)
	repo := find(objs, "Deployment", "argocd-repo-server")
	if repo == nil {
		t.Fatal("no argocd-repo-server")
	}
	containers, _, _ := unstructured.NestedSlice(repo.Object, "spec", "template", "spec", "containers")
	var sidecar map[string]any
	for _, c := range containers {
		if c.(map[string]any)["name"] == "driftplane" {
			sidecar = c.(map[string]any)
		}
	}
	if sidecar == nil {
		t.Fatal("repo-server has no driftplane sidecar")
	}
	if uid, _, _ := unstructured.NestedInt64(sidecar, "securityContext", "runAsUser"); uid != 999 {
		t.Errorf("sidecar runs as %d, want 999", uid)
	}
	mounts := map[string]bool{}
	vms, _, _ := unstructured.NestedSlice(sidecar, "volumeMounts")
	for _, vm := range vms {
		mounts[vm.(map[string]any)["mountPath"].(string)] = true
	}
	for _, p := range []string{"/var/run/argocd", "/home/argocd/cmp-server/plugins", "/home/argocd/cmp-server/config/plugin.yaml", "/tmp"} {
		if !mounts[p] {
			t.Errorf("sidecar does not mount %s", p)
		}
	}
	cm := find(objs, "ConfigMap", "argocd-cm")
	lua, _ := os.ReadFile("base/health.lua")
	if got, _, _ := unstructured.NestedString(cm.Object, "data", "resource.customizations.health.drift.driftplane.io_DriftReport"); got != string(lua) {
		t.Error("argocd-cm does not carry the DriftReport health check")
	}
	plugin := find(objs, "ConfigMap", "argocd-driftplane-plugin")
	if plugin == nil || !strings.Contains(plugin.Object["data"].(map[string]any)["plugin.yaml"].(string), "name: driftplane") {
		t.Error("plugin ConfigMap missing")
	}
	if find(objs, "CustomResourceDefinition", "driftreports.drift.driftplane.io") == nil {
		t.Error("DriftReport CRD missing")
	}
	for _, o := range objs {
		if o.GetNamespace() != "" && o.GetNamespace() != "argocd" {
			t.Errorf("%s %s in namespace %s", o.GetKind(), o.GetName(), o.GetNamespace())
		}
	}
}

// TestOverlayAcceptedByAPIServer: every object of the overlay passes server-side dry-run on a
// real kube-apiserver, and a generated DriftReport survives a round trip through the CRD's
// schema unpruned (so the schema covers every field the plugin writes).
func TestOverlayAcceptedByAPIServer(t *testing.T) {
	c := kubetest.Start(t)
	objs := build(t)
	cfg := c.RESTConfig("admin", "system:masters")
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.KubectlAs("admin", []string{"system:masters"}, "create", "namespace", "argocd")
	apply := func(o *unstructured.Unstructured, dryRun bool) error {
		mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return err
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if o.GetNamespace() != "" {
			ri = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		opts := metav1.ApplyOptions{FieldManager: "install-test", Force: true}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		_, err = ri.Apply(ctx, o.GetName(), o, opts)
		return err
	}
	// CRDs for real, so the rest can be checked against them.
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			if err := apply(o, false); err != nil {
				t.Fatalf("CRD %s: %v", o.GetName(), err)
			}
		}
	}
	waitEstablished(t, dyn, "driftreports.drift.driftplane.io")
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			continue
		}
		if err := apply(o, true); err != nil {
			t.Errorf("%s %s rejected: %v", o.GetKind(), o.GetName(), err)
		}
	}

	out, err := generate.Generate("../generate/testdata/plain", generate.Options{Env: map[string]string{generate.EnvAppName: "payments-web"}})
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(out), "\n---\n")
	var report map[string]any
	if err := yaml.Unmarshal([]byte(docs[len(docs)-1]), &report); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: report}
	u.SetNamespace("default")
	gvr := schema.GroupVersionResource{Group: "drift.driftplane.io", Version: "v1alpha1", Resource: "driftreports"}
	created, err := dyn.Resource(gvr).Namespace("default").Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create DriftReport: %v", err)
	}
	want, _ := json.Marshal(report["spec"])
	got, _ := json.Marshal(created.Object["spec"])
	var w, g any
	_ = json.Unmarshal(want, &w)
	_ = json.Unmarshal(got, &g)
	if !reflect.DeepEqual(w, g) {
		t.Errorf("the CRD schema pruned the DriftReport spec:\n sent %s\n kept %s", want, got)
	}
	// A status with every finding field survives the status subresource too.
	status := map[string]any{
		"lastEvaluatedAt": "2026-11-22T10:00:00Z", "lastEvaluatedEpoch": int64(1795428000), "observedGeneration": int64(1),
		"observedRevision": "0123abc", "gate": "high", "worstRisk": "HIGH", "blockingCount": int64(1), "summary": "1 finding(s)",
		"countsByRisk": map[string]any{"HIGH": int64(1)}, "countsByClass": map[string]any{"UNAUTHORIZED_RUNTIME_DRIFT": int64(1)},
		"findings": []any{map[string]any{
			"finding_id": "drift-1", "detected_at": "2026-11-22T10:00:00Z", "unit": "payments-web", "owner": "team", "environment": "prod",
			"domain": "workload", "resource_ref": "apps/v1/Deployment/web/web", "group": "apps", "kind": "Deployment", "namespace": "web", "name": "web",
			"drift_class": "UNAUTHORIZED_RUNTIME_DRIFT", "risk": "HIGH", "changed_fields": []any{"/spec/template/spec/containers/name=app/image"},
			"sensitive_fields": []any{}, "recommended_action": "INCIDENT_AND_REVERT", "auto_heal_allowed": false, "accepted_by": "", "actor": "alice",
			"actor_detail": map[string]any{"username": "alice", "groups": []any{"devs"}, "user_agent": "kubectl", "time": "2026-11-22T09:59:00Z", "manager": "kubectl-set", "kind": "human"},
			"evidence":     "sha256:00", "rule": "image-patched-prod", "deleted": false, "blocking": true, "explanation": "x"}},
		"autoHeal": map[string]any{"at": "2026-11-22T10:00:00Z", "skipped": []any{"x: no AutoHealPolicy applies to ConfigMap"},
			"healed": []any{map[string]any{"group": "apps", "kind": "Deployment", "namespace": "web", "name": "web", "policy": "labels-only",
				"findings": []any{"drift-2"}, "paths": []any{"/metadata/labels/tier"}}}},
		"conditions": []any{map[string]any{"type": "Evaluated", "status": "True", "reason": "Evaluated", "message": "ok", "lastTransitionTime": "2026-11-22T10:00:00Z"}},
	}
	created.Object["status"] = status
	updated, err := dyn.Resource(gvr).Namespace("default").UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	ws, _ := json.Marshal(status)
	gs, _ := json.Marshal(updated.Object["status"])
	_ = json.Unmarshal(ws, &w)
	_ = json.Unmarshal(gs, &g)
	if !reflect.DeepEqual(w, g) {
		t.Errorf("the CRD schema pruned the status:\n sent %s\n kept %s", ws, gs)
	}
}

func waitEstablished(t *testing.T, dyn dynamic.Interface, name string) {
	t.Helper()
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		crd, err := dyn.Resource(gvr).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if crd != nil {
			conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			for _, c := range conds {
				m := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("CRD %s not established", name)
}
