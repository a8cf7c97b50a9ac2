package reporter

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// firstObservedAt: a drift keeps the time the report first showed it across evaluations, even as
// its value changes; a new drift starts at its evaluation; the ledger's earlier sighting wins.
func TestStatusKeepsFirstObservedAt(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	policy := &Policy{Unit: &drift.ManagedUnit{Metadata: drift.Metadata{Name: "web-prod"}, Spec: drift.UnitSpec{
		Kind: drift.UnitKubernetes, Owner: "team-web", Environment: "prod", RiskTier: "high", Gate: "high"}}}
	cm := func(mode string) ResourceDiff {
		return ResourceDiff{Kind: "ConfigMap", Namespace: "web", Name: "cfg",
			TargetState: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"web"},"data":{"mode":"safe"}}`,
			LiveState:   `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"web"},"data":{"mode":"` + mode + `"}}`}
	}
	status := func(at time.Time, prev *Status, rs ...ResourceDiff) Status {
		t.Helper()
		rep, obs, err := Evaluate(policy, rs, nil, at)
		if err != nil {
			t.Fatal(err)
		}
		return StatusFromReport(rep, obs, 1, "", at, prev)
	}
	st1 := status(t0, nil, cm("debug"))
	if f := st1.Findings[0]; f.FirstObservedAt != t0.Format(time.RFC3339) || f.Fingerprint == "" {
		t.Fatalf("first: %+v", f)
	}
	st2 := status(t0.Add(time.Hour), &st1, cm("verbose"))
	if f := st2.Findings[0]; f.FirstObservedAt != t0.Format(time.RFC3339) || f.Fingerprint != st1.Findings[0].Fingerprint {
		t.Fatalf("the same drift with a new value restarted: %+v", f)
	}
	st3 := status(t0.Add(2*time.Hour), &Status{}, cm("debug"))
	if f := st3.Findings[0]; f.FirstObservedAt != t0.Add(2*time.Hour).Format(time.RFC3339) {
		t.Fatalf("a drift the previous status did not show: %+v", f)
	}
	fs := []StatusFinding{{Finding: drift.Finding{Fingerprint: "fp-1", FirstSeen: t0.Add(-24 * time.Hour).Format(time.RFC3339)}}}
	carryFirstObserved(fs, &st1, t0)
	if fs[0].FirstObservedAt != fs[0].FirstSeen {
		t.Fatalf("the ledger's earlier sighting lost: %+v", fs[0])
	}
}

// An exhausted budget is a metric an alert can page on; a forgotten application leaves no series.
func TestBudgetMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	st := Status{Budgets: []drift.BudgetState{{Name: "identity-zero", State: drift.BudgetExhausted, Open: 2}, {Name: "labels", State: drift.BudgetBurning, Open: 1}}}
	m.Evaluated("argocd/web", st, time.Second, time.Now())
	if v := testutil.ToFloat64(m.budget.WithLabelValues("argocd/web", "identity-zero")); v != 1 {
		t.Errorf("exhausted = %v", v)
	}
	if v := testutil.ToFloat64(m.budget.WithLabelValues("argocd/web", "labels")); v != 0 {
		t.Errorf("burning reads as exhausted: %v", v)
	}
	if v := testutil.ToFloat64(m.budgetOpen.WithLabelValues("argocd/web", "identity-zero")); v != 2 {
		t.Errorf("open = %v", v)
	}
	m.Forget("argocd/web")
	if n := testutil.CollectAndCount(m.budget) + testutil.CollectAndCount(m.budgetOpen); n != 0 {
		t.Errorf("%d budget series left after Forget", n)
	}
}
