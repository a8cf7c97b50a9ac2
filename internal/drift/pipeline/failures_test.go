package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
)

// taintedPlan is a refresh-only plan in OpenTofu's shape whose prior state holds a tainted
// object (a failed provisioner), as TestRealTofuDependencyAndFailedReconciliation records it.
const taintedPlan = `{"format_version":"1.2","terraform_version":"1.10.10",
 "planned_values":{"root_module":{}},
 "prior_state":{"format_version":"1.0","terraform_version":"1.10.10","values":{"root_module":{"resources":[
  {"address":"terraform_data.broken","mode":"managed","type":"terraform_data","name":"broken",
   "provider_name":"terraform.io/builtin/terraform","values":{"id":"x","input":"deploy"},"tainted":true}]}}},
 "configuration":{"root_module":{}}}`

// A failure still open at the next evaluation is raised one risk level, in the report and in the
// ledger, and blocks once it reaches the gate; it is capped at HIGH.
func TestRunRaisesRepeatedFailures(t *testing.T) {
	ctx := context.Background()
	store := blob.Dir(t.TempDir())
	unit, err := drift.DecodeUnit("unit", []byte(`{"apiVersion":"drift.driftplane.io/v1alpha1","kind":"DriftManagedUnit",
		"metadata":{"name":"files"},"spec":{"kind":"opentofu-stack","owner":"platform","environment":"dev","riskTier":"low","gate":"high"}}`))
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	src := pipeline.PlanJSON{Name: "plan.json", Data: []byte(taintedPlan), Label: "plan"}
	var risks []drift.Risk
	for i := 0; i < 3; i++ {
		res, err := pipeline.Run(ctx, pipeline.Request{Unit: unit, At: t1.Add(time.Duration(i) * time.Hour), Source: src, Ledger: store})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Report.Findings) != 1 || res.Report.Findings[0].DriftClass != drift.ClassFailedReconciliation {
			t.Fatalf("evaluation %d: %+v", i, res.Report.Findings)
		}
		f := res.Report.Findings[0]
		risks = append(risks, f.Risk)
		if f.Blocking != (f.Risk == drift.RiskHigh) || (res.Report.BlockingCount == 1) != f.Blocking {
			t.Errorf("evaluation %d: risk %s blocking %v count %d (gate high)", i, f.Risk, f.Blocking, res.Report.BlockingCount)
		}
		if i > 0 && !strings.Contains(f.Explanation, "open at the previous evaluation") {
			t.Errorf("evaluation %d: explanation %q", i, f.Explanation)
		}
		rec, _, err := ledger.Latest(ctx, store, "files")
		if err != nil || len(rec.Open) != 1 || rec.Open[0].Risk != string(f.Risk) {
			t.Fatalf("evaluation %d: ledger %+v (%v), want the open failure at %s", i, rec, err, f.Risk)
		}
	}
	if risks[0] != drift.RiskMedium || risks[1] != drift.RiskHigh || risks[2] != drift.RiskHigh {
		t.Errorf("risks %v, want MEDIUM, then HIGH, capped at HIGH", risks)
	}
}
