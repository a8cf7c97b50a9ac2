package drift

import (
	"strings"
	"testing"
	"time"
)

func budgetReport(fs ...Finding) *Report {
	r := &Report{Unit: "u", Gate: GateNone, Status: StatusDrifted, Findings: fs}
	r.Summary = summarize(r, DefaultTable())
	return r
}

func intp(n int) *int { return &n }

// An exhausted budget blocks the drift it counts whatever the gate, names itself and since when;
// a burning one blocks nothing; accepted and expected drift never counts.
func TestBudgetsEscalate(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	role := Finding{ResourceRef: "role", Domain: "identity", DriftClass: ClassUnauthorizedRuntime, Risk: RiskHigh, FirstSeen: "2026-12-01T11:00:00Z"}
	label := Finding{ResourceRef: "deploy", Domain: "workload", DriftClass: ClassUnauthorizedRuntime, Risk: RiskLow, FirstSeen: "2026-12-01T11:55:00Z"}
	accepted := Finding{ResourceRef: "sg", Domain: "network", DriftClass: ClassEmergency, Risk: RiskCritical, AcceptedBy: "EXC-1"}
	noise := Finding{ResourceRef: "json", Domain: "identity", DriftClass: ClassProviderReadNoise, Risk: RiskInfo}
	unit := &ManagedUnit{Metadata: Metadata{Name: "u"}, Spec: UnitSpec{Budgets: []Budget{
		{Name: "identity-zero", Domain: "identity", MinRisk: "HIGH", MaxOpen: intp(0)},
		{Name: "labels-healed-10m", Domain: "workload", MaxAge: "10m"},
		{Name: "network-zero", Domain: "network", MaxOpen: intp(0)},
	}}}
	rep := budgetReport(role, label, accepted, noise)
	ApplyBudgets(rep, unit, at, nil)
	states := map[string]BudgetState{}
	for _, b := range rep.Budgets {
		states[b.Name] = b
	}
	if s := states["identity-zero"]; s.State != BudgetExhausted || s.Open != 1 || s.Since != role.FirstSeen {
		t.Errorf("identity budget: %+v", s)
	}
	if s := states["labels-healed-10m"]; s.State != BudgetBurning || s.Open != 1 {
		t.Errorf("label budget (5m old, 10m allowed): %+v", s)
	}
	if s := states["network-zero"]; s.State != BudgetOK || s.Open != 0 {
		t.Errorf("network budget (its drift is accepted): %+v", s)
	}
	if rep.BlockingCount != 1 || !rep.Findings[0].Blocking || rep.Findings[1].Blocking || rep.Findings[3].Blocking {
		t.Fatalf("blocking %d: %+v", rep.BlockingCount, rep.Findings)
	}
	if !strings.Contains(rep.Findings[0].Explanation, "drift budget identity-zero is exhausted since 2026-12-01T11:00:00Z (1 open, at most 0 allowed)") ||
		!strings.Contains(rep.Summary, "budget identity-zero exhausted since 2026-12-01T11:00:00Z") {
		t.Errorf("explanation %q summary %q", rep.Findings[0].Explanation, rep.Summary)
	}

	// Twenty minutes later the label drift has outlived its 10m: exhausted since 12:05.
	rep = budgetReport(label)
	ApplyBudgets(rep, unit, at.Add(20*time.Minute), nil)
	if s := rep.Budgets[1]; s.State != BudgetExhausted || s.Since != "2026-12-01T12:05:00Z" || rep.BlockingCount != 1 {
		t.Errorf("aged label budget: %+v, blocking %d", s, rep.BlockingCount)
	}

	// Without first sightings a maxAge cannot be judged: a warning, not a silent ok.
	label.FirstSeen = ""
	rep = budgetReport(label)
	ApplyBudgets(rep, unit, at, nil)
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "labels-healed-10m") || rep.BlockingCount != 0 {
		t.Errorf("warnings %v blocking %d", rep.Warnings, rep.BlockingCount)
	}
}

func TestBudgetValidation(t *testing.T) {
	for _, c := range []struct {
		b    Budget
		want string
	}{
		{Budget{Name: "x"}, "bounds nothing"},
		{Budget{Name: "x", Domain: "money", MaxOpen: intp(0)}, "spec.budgets[0].domain"},
		{Budget{Name: "x", Class: "PROVIDER_READ_NOISE", MaxOpen: intp(0)}, "spec.budgets[0].class"},
		{Budget{Name: "x", MinRisk: "SEVERE", MaxOpen: intp(0)}, "spec.budgets[0].minRisk"},
		{Budget{Name: "x", MaxAge: "a week"}, "spec.budgets[0].maxAge"},
		{Budget{Name: "x", MaxOpen: intp(-1)}, "spec.budgets[0].maxOpen"},
		{Budget{Name: "../x", MaxOpen: intp(0)}, "spec.budgets[0].name"},
	} {
		u := testUnit(func(u *ManagedUnit) { u.Spec.Budgets = []Budget{c.b} })
		if err := u.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.b, err, c.want)
		}
	}
}

// A .drift/ unit declares budgets in the same schema as the HCL block; a misspelt field is an
// error naming it.
func TestBudgetsFromYAML(t *testing.T) {
	doc := `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftManagedUnit
metadata: {name: web-prod}
spec:
  kind: kubernetes
  owner: team-web
  environment: prod
  riskTier: high
  budgets:
    - {name: identity-zero, domain: identity, minRisk: HIGH, maxOpen: 0}
    - {name: labels-healed-10m, domain: workload, maxAge: 10m}
`
	b, err := DecodeDocuments("unit.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Unit.Validate(); err != nil {
		t.Fatal(err)
	}
	got := b.Unit.Spec.Budgets
	if len(got) != 2 || got[0].MaxOpen == nil || *got[0].MaxOpen != 0 || got[1].MaxAge != "10m" {
		t.Fatalf("budgets %+v", got)
	}
	if _, err := DecodeDocuments("unit.yaml", []byte(strings.Replace(doc, "maxAge: 10m", "maxAgee: 10m", 1))); err == nil || !strings.Contains(err.Error(), "maxAgee") {
		t.Fatalf("a misspelt budget field: %v", err)
	}
}
