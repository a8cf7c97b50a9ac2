package kubetest

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
)

// ArgoCDVersion is the Argo CD release whose Application CRD the tests install.
const ArgoCDVersion = "v3.2.12"

var crdsGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallArgoCDCRDs applies Argo CD's Application CRD (from its module, through the Go module
// proxy) and the CRDs in files (e.g. the DriftReport CRD of the install overlay), and waits for
// each to be Established.
func InstallArgoCDCRDs(t *testing.T, dyn dynamic.Interface, files ...string) {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/argoproj/argo-cd/v3@"+ArgoCDVersion).Output()
	if err != nil {
		t.Fatal(err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(mod.Dir, "manifests", "crds", "application-crd.yaml")}, files...)
	var names []string
	for _, f := range files {
		ms, err := kube.LoadManifests(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if _, err := dyn.Resource(crdsGVR).Apply(context.Background(), m.Object.GetName(), m.Object, metav1.ApplyOptions{FieldManager: "test", Force: true}); err != nil {
				t.Fatal(err)
			}
			names = append(names, m.Object.GetName())
		}
	}
	for _, name := range names {
		WaitEstablished(t, dyn, name)
	}
}

// WaitEstablished waits up to 30 s for the CRD name to be Established.
func WaitEstablished(t *testing.T, dyn dynamic.Interface, name string) {
	t.Helper()
	procs.WaitFor(t, 30*time.Second, "CRD "+name+" to be established", func() (bool, string) {
		crd, err := dyn.Resource(crdsGVR).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, cd := range conds {
			if m, ok := cd.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return true, ""
			}
		}
		return false, fmt.Sprint(conds)
	})
}
