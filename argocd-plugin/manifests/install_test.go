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
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
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
	kubetest.WaitEstablished(t, dyn, "driftreports.drift.driftplane.io")
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

// TestReporterVerifiesArgoCDTLS: the shipped reporter verifies argocd-server's certificate (mounted
// from argocd-server-tls or argocd-secret, read-only, optional) and does not skip verification.
func TestReporterVerifiesArgoCDTLS(t *testing.T) {
	objs := build(t)
	d := find(objs, "Deployment", "argocd-driftplane-reporter")
	if d == nil {
		t.Fatal("no reporter Deployment")
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	joined := strings.Join(args, " ")
	if strings.Contains(joined, "--argocd-insecure") {
		t.Errorf("the shipped reporter skips TLS verification: %v", args)
	}
	if !strings.Contains(joined, "--argocd-server=https://") {
		t.Errorf("the reporter does not use https: %v", args)
	}
	var caFiles []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--argocd-ca-file="); ok {
			caFiles = append(caFiles, v)
		}
	}
	if len(caFiles) == 0 {
		t.Fatalf("no --argocd-ca-file: %v", args)
	}
	mounts, _, _ := unstructured.NestedSlice(c, "volumeMounts")
	var mount map[string]any
	for _, m := range mounts {
		if m.(map[string]any)["name"] == "argocd-ca" {
			mount = m.(map[string]any)
		}
	}
	if mount == nil || mount["readOnly"] != true {
		t.Fatalf("CA volume not mounted read-only: %v", mounts)
	}
	volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	paths := map[string]string{}
	for _, v := range volumes {
		vm := v.(map[string]any)
		if vm["name"] != "argocd-ca" {
			continue
		}
		sources, _, _ := unstructured.NestedSlice(vm, "projected", "sources")
		for _, s := range sources {
			sec := s.(map[string]any)["secret"].(map[string]any)
			if sec["optional"] != true {
				t.Errorf("Secret %v is not optional: the reporter would not start without it", sec["name"])
			}
			items := sec["items"].([]any)
			for _, it := range items {
				im := it.(map[string]any)
				paths[mount["mountPath"].(string)+"/"+im["path"].(string)] = sec["name"].(string) + "/" + im["key"].(string)
				if sec["name"] == "argocd-secret" && im["key"] != "tls.crt" {
					t.Errorf("the reporter mounts argocd-secret key %v; only the public tls.crt", im["key"])
				}
			}
		}
	}
	for _, f := range caFiles {
		if paths[f] == "" {
			t.Errorf("--argocd-ca-file=%s is not a mounted file (%v)", f, paths)
		}
	}
	if paths["/etc/driftplane/argocd-ca/argocd-secret-tls.crt"] != "argocd-secret/tls.crt" {
		t.Errorf("the stock install's self-signed certificate (argocd-secret tls.crt) is not trusted: %v", paths)
	}
}

// TestReporterRBACLeastPrivilege applies the overlay's RBAC on a real kube-apiserver and asks it
// what the reporter's service account may do: leases, Events and its digest key Secret in its own
// namespace only, and cluster-wide no more than reading Applications and DriftReports and writing
// DriftReport status.
func TestReporterRBACLeastPrivilege(t *testing.T) {
	objs := build(t)
	for _, o := range objs {
		if o.GetLabels()["app.kubernetes.io/part-of"] != "driftplane" {
			continue
		}
		switch o.GetKind() {
		case "ClusterRole", "ClusterRoleBinding":
			rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
			for _, r := range rules {
				res, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resources")
				for _, x := range res {
					if x == "events" || x == "leases" || x == "secrets" {
						t.Errorf("%s %s grants %s cluster-wide", o.GetKind(), o.GetName(), x)
					}
				}
			}
		}
	}

	c := kubetest.Start(t)
	cfg := c.RESTConfig("admin", "system:masters")
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.KubectlAs("admin", []string{"system:masters"}, "create", "namespace", "argocd")
	rbacGroup := "rbac.authorization.k8s.io"
	for _, o := range objs {
		if o.GetLabels()["app.kubernetes.io/part-of"] != "driftplane" || o.GroupVersionKind().Group != rbacGroup && o.GetKind() != "ServiceAccount" {
			continue
		}
		gvr := schema.GroupVersionResource{Group: rbacGroup, Version: "v1", Resource: strings.ToLower(o.GetKind()) + "s"}
		if o.GetKind() == "ServiceAccount" {
			gvr = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
		}
		var ri dynamic.ResourceInterface = dyn.Resource(gvr)
		if o.GetNamespace() != "" {
			ri = dyn.Resource(gvr).Namespace(o.GetNamespace())
		}
		if _, err := ri.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "install-test", Force: true}); err != nil {
			t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	sar := schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "subjectaccessreviews"}
	user := "system:serviceaccount:argocd:argocd-driftplane-reporter"
	// RBAC is eventually consistent after the objects are created: ask for a grant until it settles.
	can := func(verb, group, resource, subresource, namespace, name string) bool {
		t.Helper()
		for i := 0; i < 50; i++ {
			if canOnce(t, dyn, sar, user, verb, group, resource, subresource, namespace, name) {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
		return false
	}
	for _, a := range []struct {
		verb, group, resource, sub, ns, name string
		want                                 bool
	}{
		{"list", "argoproj.io", "applications", "", "", "", true},
		{"watch", "argoproj.io", "applications", "", "", "", true},
		{"get", "argoproj.io", "applications", "", "team-a", "web", true},
		{"get", "drift.driftplane.io", "driftreports", "", "web", "web", true},
		{"update", "drift.driftplane.io", "driftreports", "status", "web", "web", true},
		{"create", "coordination.k8s.io", "leases", "", "argocd", "", true},
		{"get", "coordination.k8s.io", "leases", "", "argocd", "argocd-driftplane-reporter", true},
		{"update", "coordination.k8s.io", "leases", "", "argocd", "argocd-driftplane-reporter", true},
		{"get", "coordination.k8s.io", "leases", "", "argocd", "argocd-driftplane-reporter-shard-0", true},
		{"update", "coordination.k8s.io", "leases", "", "argocd", "argocd-driftplane-reporter-shard-7", true},
		{"get", "coordination.k8s.io", "leases", "", "argocd", "argocd-driftplane-reporter-shard-8", true},
		{"create", "", "events", "", "argocd", "", true},
		{"patch", "", "events", "", "argocd", "x", true},
		{"get", "", "secrets", "", "argocd", "driftplane-digest-key", true},
		{"create", "", "secrets", "", "argocd", "", true},
		{"get", "", "secrets", "", "argocd", "driftplane-notifications", true},

		{"patch", "argoproj.io", "applications", "", "argocd", "web", false},
		{"update", "argoproj.io", "applications", "", "argocd", "web", false},
		{"update", "drift.driftplane.io", "driftreports", "", "web", "web", false},
		{"delete", "drift.driftplane.io", "driftreports", "", "web", "web", false},
		{"create", "", "events", "", "web", "", false},
		{"create", "coordination.k8s.io", "leases", "", "kube-system", "", false},
		{"update", "coordination.k8s.io", "leases", "", "argocd", "argocd-application-controller", false},
		{"update", "coordination.k8s.io", "leases", "", "kube-system", "argocd-driftplane-reporter-shard-0", false},
		{"get", "", "secrets", "", "argocd", "argocd-secret", false},
		{"list", "", "secrets", "", "argocd", "", false},
		{"get", "", "secrets", "", "web", "db", false},
		{"update", "", "secrets", "", "argocd", "driftplane-digest-key", false},
		{"update", "", "secrets", "", "argocd", "driftplane-notifications", false},
		{"get", "", "secrets", "", "web", "driftplane-notifications", false},
		{"get", "", "configmaps", "", "argocd", "argocd-cm", false},
		{"list", "", "pods", "", "", "", false},
	} {
		if a.want {
			if !can(a.verb, a.group, a.resource, a.sub, a.ns, a.name) {
				t.Errorf("the reporter cannot %s %s/%s%s in %q (%s)", a.verb, a.group, a.resource, "/"+a.sub, a.ns, a.name)
			}
			continue
		}
		// A denial needs no settling: check once, after the grants above are visible.
		if can1 := canOnce(t, dyn, sar, user, a.verb, a.group, a.resource, a.sub, a.ns, a.name); can1 {
			t.Errorf("the reporter may %s %s/%s%s in %q (%s)", a.verb, a.group, a.resource, "/"+a.sub, a.ns, a.name)
		}
	}
}

func canOnce(t *testing.T, dyn dynamic.Interface, sar schema.GroupVersionResource, user, verb, group, resource, subresource, namespace, name string) bool {
	t.Helper()
	req := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
		"spec": map[string]any{
			"user": user, "groups": []any{"system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"},
			"resourceAttributes": map[string]any{"verb": verb, "group": group, "resource": resource, "subresource": subresource, "namespace": namespace, "name": name},
		}}}
	out, err := dyn.Resource(sar).Create(context.Background(), req, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	allowed, _, _ := unstructured.NestedBool(out.Object, "status", "allowed")
	return allowed
}
