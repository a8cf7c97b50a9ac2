package route

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

const routingCRD = "../../../argocd-plugin/manifests/crds/drift.driftplane.io_driftroutingpolicies.yaml"

// TestRoutingPolicyOnAPIServer: a real kube-apiserver accepts the generated CRD, keeps the whole
// route tree (child routes have no schema, so nothing below the root may be pruned), refuses a
// silence without expiry, and what it returns decodes into the same policy.
func TestRoutingPolicyOnAPIServer(t *testing.T) {
	c := kubetest.Start(t)
	dyn, err := dynamic.NewForConfig(c.RESTConfig("admin", "system:masters"))
	if err != nil {
		t.Fatal(err)
	}
	kubetest.InstallArgoCDCRDs(t, dyn, routingCRD)
	gvr := v1alpha1.GroupVersion.WithResource("driftroutingpolicies")

	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := mustDecode(t, string(data))
	// A deeper tree than the example's, so a child's child is stored too.
	want.Spec.Route.Routes[0].Routes = []v1alpha1.DriftRoute{{Name: "iam", Matchers: []string{`kind=~"aws_iam_.*"`}, Continue: true}}
	js, _ := want.JSON()
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	created, err := dyn.Resource(gvr).Namespace("default").Create(context.Background(), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back, _ := json.Marshal(created.Object)
	yml, _ := yaml.JSONToYAML(back)
	got, err := Decode("from the API server", yml, at)
	if err != nil {
		t.Fatalf("%v\n%s", err, yml)
	}
	if !reflect.DeepEqual(got.Spec, want.Spec) {
		t.Errorf("the API server changed the policy:\n sent %s\n got  %s", js, back)
	}

	bad := obj.DeepCopy()
	bad.SetName("no-expiry")
	silences, _, _ := unstructured.NestedSlice(bad.Object, "spec", "silences")
	delete(silences[0].(map[string]any), "expiresAt")
	_ = unstructured.SetNestedSlice(bad.Object, silences, "spec", "silences")
	if _, err := dyn.Resource(gvr).Namespace("default").Create(context.Background(), bad, metav1.CreateOptions{}); err == nil || !strings.Contains(err.Error(), "expiresAt") {
		t.Errorf("a silence without expiry: %v", err)
	}
}
