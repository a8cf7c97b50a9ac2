package tofuplan

import (
	"encoding/json"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/plangen"
)

var benchPlan = plangen.Generate(10000, 1000)

var benchUnit = &drift.ManagedUnit{Metadata: drift.Metadata{Name: "bench"}, Spec: drift.UnitSpec{
	Kind: drift.UnitOpenTofuStack, Owner: "o", Environment: "prod", RiskTier: "high", Gate: "high"}}

func TestGeneratedPlanShape(t *testing.T) {
	p, err := Read("bench", benchPlan)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Observations) != 1000 || p.RefreshOnly {
		t.Fatalf("observations %d refresh-only %v", len(p.Observations), p.RefreshOnly)
	}
	var full tfjson.Plan
	if err := json.Unmarshal(benchPlan, &full); err != nil {
		t.Fatal(err)
	}
	if len(full.ResourceChanges) != 10000 || len(full.ResourceDrift) != 1000 {
		t.Fatalf("terraform-json sees %d changes %d drift", len(full.ResourceChanges), len(full.ResourceDrift))
	}
	rep, err := drift.Evaluate(benchUnit, nil, p.Observations, drift.WithNow(time.Unix(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1000 || rep.BlockingCount == 0 {
		t.Fatalf("findings %d blocking %d", len(rep.Findings), rep.BlockingCount)
	}
}

// BenchmarkPlanTerraformJSON is the baseline: parsing the plan with terraform-json alone.
func BenchmarkPlanTerraformJSON(b *testing.B) {
	b.SetBytes(int64(len(benchPlan)))
	b.ReportAllocs()
	for b.Loop() {
		var p tfjson.Plan
		if err := json.Unmarshal(benchPlan, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanDriftFinding is what drift_finding does with the same file: decode, classify,
// apply exceptions and gate.
func BenchmarkPlanDriftFinding(b *testing.B) {
	b.SetBytes(int64(len(benchPlan)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := Read("bench", benchPlan)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := drift.Evaluate(benchUnit, nil, p.Observations, drift.WithNow(time.Unix(0, 0))); err != nil {
			b.Fatal(err)
		}
	}
}
