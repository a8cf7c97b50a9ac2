package generate

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/tabletest"
)

// Issue 10 point 3: which fields an HPA (or any object) owns on its target comes from the
// decision table's target_owners, not from the plugin: change the table, and what is stripped
// changes with it.
func TestTargetOwnersComeFromTheTable(t *testing.T) {
	table := func(old, new string) *drift.Table { return tabletest.With(t, old, new) }
	strip := func(tab *drift.Table) string {
		t.Helper()
		manifests, err := kube.LoadManifests("testdata/hpa")
		if err != nil {
			t.Fatal(err)
		}
		policy, err := drift.LoadPolicy(filepath.Join("testdata", "hpa", PolicyDir))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range stripNonGitFields(manifests, policy.Unit, tab) {
			out = append(out, fmt.Sprintf("%s %s %s: %s", s.Ref, s.Path, s.Owner, s.Reason))
		}
		return strings.Join(out, "\n")
	}
	for _, c := range []struct {
		name string
		tab  *drift.Table
		want string
	}{
		{"built-in", drift.DefaultTable(), `apps/v1/Deployment/shop/api /spec/replicas horizontal-pod-autoscaler: HorizontalPodAutoscaler "api" scales it`},
		{"other paths and owner", table("    paths: [/spec/replicas]\n    owner: horizontal-pod-autoscaler\n    reason: scales it\n",
			"    paths: [/spec/selector, /spec/replicas]\n    owner: keda-operator\n    reason: owns it\n"),
			"apps/v1/Deployment/shop/api /spec/selector keda-operator: HorizontalPodAutoscaler \"api\" owns it\n" +
				"apps/v1/Deployment/shop/api /spec/replicas keda-operator: HorizontalPodAutoscaler \"api\" owns it"},
		{"no HPA entry", table("kind: autoscaling/HorizontalPodAutoscaler", "kind: autoscaling.k8s.io/VerticalPodAutoscaler"), ""},
	} {
		if got := strip(c.tab); got != c.want {
			t.Errorf("%s: stripped\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}
