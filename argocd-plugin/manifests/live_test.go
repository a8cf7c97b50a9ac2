package manifests_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

// TestLiveReadGrant: the optional grant (manifests/live) lets the reporter list what its live
// detectors read, cluster-wide and read-only, and still not a single Secret: listing Secrets even
// as metadata needs a grant that reads their values, so it is never shipped.
func TestLiveReadGrant(t *testing.T) {
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), "live")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	c := kubetest.Start(t)
	dyn, err := dynamic.NewForConfig(c.RESTConfig("admin", "system:masters"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, r := range rm.Resources() {
		js, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			t.Fatal(err)
		}
		for _, rule := range sliceOf(u.Object["rules"]) {
			for _, res := range sliceOf(rule.(map[string]any)["resources"]) {
				if res == "secrets" || res == "*" {
					t.Errorf("%s %s grants %v", u.GetKind(), u.GetName(), res)
				}
			}
		}
		gvr := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: map[string]string{"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings"}[u.GetKind()]}
		if _, err := dyn.Resource(gvr).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "live-test", Force: true}); err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	sar := schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "subjectaccessreviews"}
	user := "system:serviceaccount:argocd:argocd-driftplane-reporter"
	can := func(verb, group, resource, ns, name string) bool {
		for i := 0; i < 50; i++ {
			if canOnce(t, dyn, sar, user, verb, group, resource, "", ns, name) {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
		return false
	}
	for _, a := range []struct {
		verb, group, resource, ns, name string
		want                            bool
	}{
		{"list", "", "pods", "shop", "", true},
		{"list", "external-secrets.io", "externalsecrets", "shop", "", true},
		{"list", "bitnami.com", "sealedsecrets", "shop", "", true},
		{"list", "", "configmaps", "shop", "", true},
		{"get", "apps", "replicasets", "shop", "web-7d9f", true},
		{"list", "", "secrets", "shop", "", false},
		{"get", "", "secrets", "shop", "db", false},
		{"watch", "", "pods", "shop", "", false},
		{"delete", "", "configmaps", "shop", "stray", false},
		{"update", "", "pods", "shop", "web", false},
		{"create", "", "pods", "shop", "", false},
	} {
		// The grants come first, so RBAC has settled before a refusal is believed.
		got := canOnce(t, dyn, sar, user, a.verb, a.group, a.resource, "", a.ns, a.name)
		if a.want {
			got = can(a.verb, a.group, a.resource, a.ns, a.name)
		}
		if got != a.want {
			t.Errorf("%s %s/%s in %s: allowed=%v, want %v", a.verb, a.group, a.resource, a.ns, got, a.want)
		}
	}
}

func sliceOf(v any) []any {
	l, _ := v.([]any)
	return l
}
