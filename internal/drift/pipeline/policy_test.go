package pipeline_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
)

// Policy rules judge every resource a source sees, drifted or not: a plan without drift (only its
// prior state names the file) and a Kubernetes object that did not drift.
func TestRunPolicyRulesJudgeTheInventory(t *testing.T) {
	data, err := os.ReadFile("../tofuplan/testdata/clean-refresh-only.json")
	if err != nil {
		t.Fatal(err)
	}
	u := stackUnit(t)
	u.Spec.PolicyRules = []drift.PolicyRule{{ID: "private-files", AppliesTo: []string{"local_file"},
		Expression: "resource.values.file_permission == '0600'", Message: "file_permission must be 0600"}}
	res, err := pipeline.Run(context.Background(), pipeline.Request{Unit: u, Source: pipeline.PlanJSON{Name: "plan.json", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	fs := res.Report.Findings
	if len(fs) != 1 || fs[0].PolicyRule != "private-files" || fs[0].DriftClass != drift.ClassPolicy || fs[0].ResourceRef != "local_file.conf" {
		t.Fatalf("plan: %+v", fs)
	}
	if len(res.Report.Warnings) != 0 {
		t.Errorf("warnings: %q", res.Report.Warnings)
	}

	k := kubeUnit(t)
	k.Spec.PolicyRules = []drift.PolicyRule{{ID: "team-label", AppliesTo: []string{"/ConfigMap"},
		Expression: "has(resource.values.metadata.labels) && 'team' in resource.values.metadata.labels"}}
	pair := configMapPair()
	pair.Live = pair.Desired
	res, err = pipeline.Run(context.Background(), pipeline.Request{Unit: k, Source: pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{pair}}})
	if err != nil {
		t.Fatal(err)
	}
	fs = res.Report.Findings
	if len(fs) != 1 || fs[0].PolicyRule != "team-label" || fs[0].DriftClass != drift.ClassPolicy {
		t.Fatalf("kubernetes: %+v", fs)
	}
	if w := strings.Join(res.Report.Warnings, "\n"); strings.Contains(w, "inventory") {
		t.Errorf("warnings: %q", w)
	}
}
