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
	ApplyBudgets(rep, unit, at, nil, nil)
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
	ApplyBudgets(rep, unit, at.Add(20*time.Minute), nil, nil)
	if s := rep.Budgets[1]; s.State != BudgetExhausted || s.Since != "2026-12-01T12:05:00Z" || rep.BlockingCount != 1 {
		t.Errorf("aged label budget: %+v, blocking %d", s, rep.BlockingCount)
	}

	// Without first sightings a maxAge cannot be judged: a warning, not a silent ok.
	label.FirstSeen = ""
	rep = budgetReport(label)
	ApplyBudgets(rep, unit, at, nil, nil)
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
		{Budget{Name: "x", DetectWithin: "soon"}, "spec.budgets[0].detectWithin"},
		{Budget{Name: "x", MaxAge: "1h", Objective: &BudgetObjective{Target: "101", Window: "720h"}}, "spec.budgets[0].objective.target"},
		{Budget{Name: "x", MaxAge: "1h", Objective: &BudgetObjective{Target: "NaN", Window: "720h"}}, "spec.budgets[0].objective.target"},
		{Budget{Name: "x", MaxAge: "1h", Objective: &BudgetObjective{Target: "95", Window: "a month"}}, "spec.budgets[0].objective.window"},
		{Budget{Name: "x", MaxAge: "1h", Objective: &BudgetObjective{Target: "95", Window: "10000h"}}, "longer than"},
		{Budget{Name: "x", MaxOpen: intp(0), Objective: &BudgetObjective{Target: "95", Window: "720h"}}, "spec.budgets[0].objective"},
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

// A budget with an objective judges each drift's resolution against maxAge and detection
// against detectWithin, plus each stale period, over its window; spending the error budget
// exhausts it (blocking what it counts, since the bad judgement that spent it), and the short
// windows give the burn rates multi-window alerts compare.
func TestBudgetObjective(t *testing.T) {
	at := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	ts := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	unit := &ManagedUnit{Metadata: Metadata{Name: "u"}, Spec: UnitSpec{Budgets: []Budget{
		{Name: "cost-7d", Domain: "cost", MaxAge: "168h", Objective: &BudgetObjective{Target: "90", Window: "720h"}},
		{Name: "identity-detect-15m", Domain: "identity", DetectWithin: "15m", Objective: &BudgetObjective{Target: "100", Window: "168h"}},
	}}}
	good := func(first, resolved string) Life {
		return Life{Domain: "cost", Class: ClassUnauthorizedRuntime, Risk: RiskLow, FirstSeen: ts(first), ResolvedAt: ts(resolved)}
	}
	var lives []Life
	for i := 0; i < 18; i++ { // 18 resolved within a day
		d := time.Duration(i) * time.Hour
		lives = append(lives, good(at.Add(-20*24*time.Hour+d).Format(time.RFC3339), at.Add(-19*24*time.Hour+d).Format(time.RFC3339)))
	}
	// One resolved after 8 days: bad, judged 2026-12-08.
	lives = append(lives, good("2026-11-30T00:00:00Z", "2026-12-08T00:00:00Z"))
	// Expected drift and other domains never count.
	lives = append(lives, Life{Domain: "cost", Class: ClassControllerOwned, FirstSeen: ts("2026-11-01T00:00:00Z")},
		Life{Domain: "network", Class: ClassUnauthorizedRuntime, FirstSeen: ts("2026-11-01T00:00:00Z")})
	h := &History{Lives: lives}

	rep := budgetReport(Finding{ResourceRef: "bucket", Domain: "cost", DriftClass: ClassUnauthorizedRuntime, Risk: RiskLow, FirstSeen: "2026-12-10T11:00:00Z"})
	ApplyBudgets(rep, unit, at, nil, h)
	cost := rep.Budgets[0]
	// 1 bad of 19 judged; 10% allowed: burn 0.53, burning, not exhausted.
	if cost.State != BudgetBurning || cost.Judged != 19 || cost.Bad != 1 || cost.BurnRate != "0.53" || cost.Objective != "90% over 720h" || rep.BlockingCount != 0 {
		t.Fatalf("cost budget: %+v blocking %d", cost, rep.BlockingCount)
	}
	if len(cost.BurnRates) != 6 || cost.BurnRates[0].Window != "5m" || cost.BurnRates[5] != (BurnRate{Window: "3d", Rate: "10.00"}) {
		t.Fatalf("burn rates: %+v", cost.BurnRates)
	}

	// A second late resolution and a stale period: 3 bad of 21, burn 1.43, exhausted since the
	// judgement that spent the budget, and the open cost drift blocks whatever the gate.
	h.Lives = append(h.Lives, good("2026-11-29T00:00:00Z", "2026-12-09T00:00:00Z"))
	h.StaleSince = []time.Time{ts("2026-12-09T06:00:00Z")}
	rep = budgetReport(Finding{ResourceRef: "bucket", Domain: "cost", DriftClass: ClassUnauthorizedRuntime, Risk: RiskLow, FirstSeen: "2026-12-10T11:00:00Z"})
	ApplyBudgets(rep, unit, at, nil, h)
	cost = rep.Budgets[0]
	if cost.State != BudgetExhausted || cost.Bad != 3 || cost.Judged != 21 || cost.BurnRate != "1.43" || cost.Since != "2026-12-09T00:00:00Z" || rep.BlockingCount != 1 {
		t.Fatalf("spent cost budget: %+v blocking %d", cost, rep.BlockingCount)
	}
	if !strings.Contains(rep.Findings[0].Explanation, "drift budget cost-7d is exhausted since 2026-12-09T00:00:00Z (objective 90% over 720h missed: 3 of 21 judgements bad, burn rate 1.43)") {
		t.Errorf("explanation: %q", rep.Findings[0].Explanation)
	}
	// The stale period counts against every objective: at 100% one bad judgement spends it.
	if id := rep.Budgets[1]; id.State != BudgetExhausted || id.BurnRate != "inf" || id.Bad != 1 {
		t.Errorf("identity budget after a stale period: %+v", id)
	}

	// Detection: a change seen 40 minutes after it was made misses 15m; one seen in 5 is good.
	h = &History{Lives: []Life{
		{Domain: "identity", Class: ClassUnauthorizedRuntime, Risk: RiskHigh, ChangedAt: ts("2026-12-09T10:00:00Z"), FirstSeen: ts("2026-12-09T10:05:00Z")},
	}}
	rep = budgetReport()
	ApplyBudgets(rep, unit, at, nil, h)
	if id := rep.Budgets[1]; id.State != BudgetOK || id.Judged != 1 || id.Bad != 0 {
		t.Errorf("identity detected in time: %+v", id)
	}
	h.Lives = append(h.Lives, Life{Domain: "identity", Class: ClassUnauthorizedRuntime, Risk: RiskHigh, ChangedAt: ts("2026-12-09T11:00:00Z"), FirstSeen: ts("2026-12-09T11:40:00Z")})
	rep = budgetReport()
	ApplyBudgets(rep, unit, at, nil, h)
	if id := rep.Budgets[1]; id.State != BudgetExhausted || id.Since != "2026-12-09T11:40:00Z" {
		t.Errorf("identity detected late: %+v", id)
	}

	// A drift open past maxAge is judged bad when it outlived it, before it resolves.
	h = &History{Lives: []Life{{Domain: "cost", Class: ClassUnauthorizedRuntime, FirstSeen: ts("2026-12-01T00:00:00Z")}}}
	rep = budgetReport()
	ApplyBudgets(rep, unit, at, nil, h)
	if c := rep.Budgets[0]; c.State != BudgetExhausted || c.Since != "2026-12-08T00:00:00Z" {
		t.Errorf("open past maxAge: %+v", c)
	}

	// Without a ledger an objective is a warning, never ok by default.
	rep = budgetReport()
	ApplyBudgets(rep, unit, at, nil, nil)
	if len(rep.Warnings) != 2 || rep.Budgets[0].BurnRate != "" {
		t.Errorf("no history: warnings %v budgets %+v", rep.Warnings, rep.Budgets)
	}
}

func TestStaleAfter(t *testing.T) {
	for _, c := range []struct {
		schedule string
		want     time.Duration
		err      string
	}{
		{"", 0, ""},
		{"1h", 2 * time.Hour, ""},
		{"@every 15m", 30 * time.Minute, ""},
		{"@hourly", 2 * time.Hour, ""},
		{"@daily", 48 * time.Hour, ""},
		{"*/10 * * * *", 20 * time.Minute, ""},
		// Weekdays at 09:00: the longest gap is Friday to Monday.
		{"0 9 * * 1-5", 144 * time.Hour, ""},
		{"10s", 0, "more often than once a minute"},
		{"every hour", 0, "neither a Go duration"},
		{"0 0 30 2 *", 0, "never runs"},
	} {
		got, err := StaleAfter(c.schedule)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.schedule, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %v %v, want %v", c.schedule, got, err, c.want)
		}
	}
}
