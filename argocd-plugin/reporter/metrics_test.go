package reporter

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

var evalAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// finding is a status finding of unit web with the fingerprint the status would carry.
func finding(id, domain string, class drift.Class, risk drift.Risk, fields ...string) StatusFinding {
	f := StatusFinding{Finding: drift.Finding{FindingID: id, Unit: "web", ResourceRef: "apps/Deployment/web/" + id, Domain: domain,
		DriftClass: class, Risk: risk, ChangedFields: fields}}
	f.Fingerprint = drift.Fingerprint(f.Finding)
	return f
}

// gathered is the text exposition of the named metric families, for exact comparison.
func gathered(t *testing.T, reg *prometheus.Registry, names ...string) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var lines []string
	for _, mf := range mfs {
		if !want[mf.GetName()] {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			lines = append(lines, fmt.Sprintf("%s{%s} %v", mf.GetName(), strings.Join(labels, ","), value(m)))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func value(m *dto.Metric) any {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Histogram != nil:
		return fmt.Sprintf("count=%d sum=%g", m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum())
	}
	return "?"
}

func expect(t *testing.T, got string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if w := strings.Join(want, "\n"); got != w {
		t.Errorf("got\n%s\nwant\n%s", got, w)
	}
}

// Burn rates per window (the objective's whole window too, "inf" as +Inf), the objective as a
// ratio and the state as one-hot; a budget without an objective has no burn series at all.
func TestBudgetBurnMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	st := Status{Budgets: []drift.BudgetState{
		{Name: "identity", State: drift.BudgetExhausted, Open: 1, Objective: "99.9% over 720h", Judged: 10, Bad: 1, BurnRate: "100.00",
			BurnRates: []drift.BurnRate{{Window: "5m", Rate: "0.00"}, {Window: "1h", Rate: "inf"}, {Window: "3d", Rate: "14.50"}}},
		{Name: "labels", State: drift.BudgetBurning, Open: 2},
	}}
	m.Evaluated("argocd/web", st, time.Second, evalAt)
	expect(t, gathered(t, reg, "driftplane_budget_burn_rate", "driftplane_budget_objective_ratio", "driftplane_budget_state"),
		"driftplane_budget_burn_rate{app=argocd/web,budget=identity,window=objective} 100",
		"driftplane_budget_burn_rate{app=argocd/web,budget=identity,window=5m} 0",
		"driftplane_budget_burn_rate{app=argocd/web,budget=identity,window=1h} +Inf",
		"driftplane_budget_burn_rate{app=argocd/web,budget=identity,window=3d} 14.5",
		"driftplane_budget_objective_ratio{app=argocd/web,budget=identity} 0.9990000000000001",
		"driftplane_budget_state{app=argocd/web,budget=identity,state=burning} 0",
		"driftplane_budget_state{app=argocd/web,budget=identity,state=exhausted} 1",
		"driftplane_budget_state{app=argocd/web,budget=identity,state=ok} 0",
		"driftplane_budget_state{app=argocd/web,budget=labels,state=burning} 1",
		"driftplane_budget_state{app=argocd/web,budget=labels,state=exhausted} 0",
		"driftplane_budget_state{app=argocd/web,budget=labels,state=ok} 0",
	)
	if v := testutil.ToFloat64(m.burnRate.WithLabelValues("argocd/web", "identity", "1h")); !math.IsInf(v, 1) {
		t.Errorf("inf burn rate = %v", v)
	}
	// The budget loses its objective and the identity budget goes: their series go with them.
	m.Evaluated("argocd/web", Status{Budgets: []drift.BudgetState{{Name: "labels", State: drift.BudgetOK}}}, time.Second, evalAt.Add(time.Minute))
	expect(t, gathered(t, reg, "driftplane_budget_burn_rate", "driftplane_budget_objective_ratio", "driftplane_budget_state"),
		"driftplane_budget_state{app=argocd/web,budget=labels,state=burning} 0",
		"driftplane_budget_state{app=argocd/web,budget=labels,state=exhausted} 0",
		"driftplane_budget_state{app=argocd/web,budget=labels,state=ok} 1",
	)
}

// A burn rate the status mangled is left out, never exported as 0 (which would read as "fine").
func TestBurnRateUnreadable(t *testing.T) {
	for _, s := range []string{"", "fast", "NaN", "-1"} {
		if _, ok := parseBurnRate(s); ok {
			t.Errorf("%q read as a burn rate", s)
		}
	}
}

// Over three evaluations: drift appears (counted once, with its time to classification), is
// open (oldest age, break-glass), is ignored (top fields), ends healed, accepted, or gone, and
// each ending is a resolution with its drift window; auto-heal counts its sync once.
func TestLifecycleSLIMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	const app = "argocd/web"

	bg := finding("bg", "identity", drift.ClassEmergency, drift.RiskCritical, "/rules/0/verbs")
	bg.ActorDetail = &drift.Actor{Username: "root-breakglass", Kind: drift.ActorBreakGlass, Time: rfc(evalAt.Add(-2 * time.Minute))}
	healme := finding("heal", "workload", drift.ClassUnauthorizedRuntime, drift.RiskHigh, "/spec/replicas")
	revert := finding("revert", "workload", drift.ClassUnauthorizedRuntime, drift.RiskMedium, "/spec/template/spec/containers/0/image")
	accept := finding("accept", "network", drift.ClassUnauthorizedRuntime, drift.RiskHigh, "/spec/ingress/0")
	ctrl := finding("hpa", "workload", drift.ClassControllerOwned, drift.RiskLow, "/spec/replicas")
	info := finding("info", "workload", drift.ClassUnauthorizedRuntime, drift.RiskInfo, "/metadata/annotations/note")
	st1 := Status{Findings: []StatusFinding{bg, healme, revert, accept, ctrl, info},
		AutoHeal: &HealRecord{At: rfc(evalAt), Healed: []HealTarget{{Kind: "Deployment", Name: "heal", Findings: []string{"heal"}}}}}
	m.Evaluated(app, st1, time.Second, evalAt)

	expect(t, gathered(t, reg, "driftplane_drift_events_total", "driftplane_open_drift", "driftplane_open_drift_oldest_age_seconds",
		"driftplane_breakglass_open_drift", "driftplane_ignored_findings", "driftplane_autoheal_total", "driftplane_time_to_classification_seconds",
		"driftplane_last_successful_evaluation_timestamp_seconds"),
		"driftplane_autoheal_total{app=argocd/web,outcome=success} 1",
		"driftplane_breakglass_open_drift{app=argocd/web} 1",
		"driftplane_drift_events_total{app=argocd/web,class=EMERGENCY_DRIFT,domain=identity,risk=CRITICAL} 1",
		"driftplane_drift_events_total{app=argocd/web,class=UNAUTHORIZED_RUNTIME_DRIFT,domain=network,risk=HIGH} 1",
		"driftplane_drift_events_total{app=argocd/web,class=CONTROLLER_OWNED_DRIFT,domain=workload,risk=LOW} 1",
		"driftplane_drift_events_total{app=argocd/web,class=UNAUTHORIZED_RUNTIME_DRIFT,domain=workload,risk=HIGH} 1",
		"driftplane_drift_events_total{app=argocd/web,class=UNAUTHORIZED_RUNTIME_DRIFT,domain=workload,risk=INFO} 1",
		"driftplane_drift_events_total{app=argocd/web,class=UNAUTHORIZED_RUNTIME_DRIFT,domain=workload,risk=MEDIUM} 1",
		"driftplane_ignored_findings{app=argocd/web,field=/metadata/annotations/note} 1",
		"driftplane_ignored_findings{app=argocd/web,field=/spec/replicas} 1",
		"driftplane_last_successful_evaluation_timestamp_seconds{app=argocd/web} "+fmt.Sprint(float64(evalAt.Unix())),
		"driftplane_open_drift_oldest_age_seconds{app=argocd/web,domain=identity} 0",
		"driftplane_open_drift_oldest_age_seconds{app=argocd/web,domain=network} 0",
		"driftplane_open_drift_oldest_age_seconds{app=argocd/web,domain=workload} 0",
		"driftplane_open_drift{app=argocd/web,domain=identity,risk=CRITICAL} 1",
		"driftplane_open_drift{app=argocd/web,domain=network,risk=HIGH} 1",
		"driftplane_open_drift{app=argocd/web,domain=workload,risk=HIGH} 1",
		"driftplane_open_drift{app=argocd/web,domain=workload,risk=MEDIUM} 1",
		"driftplane_time_to_classification_seconds{} count=1 sum=120",
	)

	// Ten minutes on: heal was synced back and is gone (healed), revert is gone (gone), accept
	// is now accepted (accepted, and ignored), the break-glass change is still open, and a new
	// drift appeared. The status still carries the earlier heal record: not counted again.
	t1 := evalAt.Add(10 * time.Minute)
	accepted := accept
	accepted.AcceptedBy = "exc-ingress"
	bg1, ctrl1, info1 := bg, ctrl, info
	for _, f := range []*StatusFinding{&bg1, &ctrl1, &info1} {
		f.FirstObservedAt = rfc(evalAt)
	}
	accepted.FirstObservedAt = rfc(evalAt)
	fresh := finding("new", "network", drift.ClassPolicy, drift.RiskLow, "/spec/podSelector")
	fresh.FirstObservedAt = rfc(t1)
	st2 := Status{Findings: []StatusFinding{bg1, accepted, ctrl1, info1, fresh}, AutoHeal: st1.AutoHeal}
	m.Evaluated(app, st2, time.Second, t1)
	expect(t, gathered(t, reg, "driftplane_drift_resolved_total", "driftplane_drift_window_seconds", "driftplane_autoheal_total",
		"driftplane_open_drift", "driftplane_open_drift_oldest_age_seconds", "driftplane_ignored_findings"),
		"driftplane_autoheal_total{app=argocd/web,outcome=success} 1",
		"driftplane_drift_resolved_total{app=argocd/web,domain=network,resolution=accepted} 1",
		"driftplane_drift_resolved_total{app=argocd/web,domain=workload,resolution=gone} 1",
		"driftplane_drift_resolved_total{app=argocd/web,domain=workload,resolution=healed} 1",
		"driftplane_drift_window_seconds{class=UNAUTHORIZED_RUNTIME_DRIFT,risk=HIGH} count=2 sum=1200",
		"driftplane_drift_window_seconds{class=UNAUTHORIZED_RUNTIME_DRIFT,risk=MEDIUM} count=1 sum=600",
		"driftplane_ignored_findings{app=argocd/web,field=/metadata/annotations/note} 1",
		"driftplane_ignored_findings{app=argocd/web,field=/spec/ingress/0} 1",
		"driftplane_ignored_findings{app=argocd/web,field=/spec/replicas} 1",
		"driftplane_open_drift_oldest_age_seconds{app=argocd/web,domain=identity} 600",
		"driftplane_open_drift_oldest_age_seconds{app=argocd/web,domain=network} 0",
		"driftplane_open_drift{app=argocd/web,domain=identity,risk=CRITICAL} 1",
		"driftplane_open_drift{app=argocd/web,domain=network,risk=LOW} 1",
	)
	if v := testutil.ToFloat64(m.events.WithLabelValues(app, "network", string(drift.ClassPolicy), string(drift.RiskLow))); v != 1 {
		t.Errorf("new drift counted %v times", v)
	}
	if v := testutil.ToFloat64(m.events.WithLabelValues(app, "identity", string(drift.ClassEmergency), string(drift.RiskCritical))); v != 1 {
		t.Errorf("drift still open counted again: %v", v)
	}

	// A failed auto-heal sync is a failure.
	t2 := t1.Add(10 * time.Minute)
	st3 := Status{Findings: st2.Findings, AutoHeal: &HealRecord{At: rfc(t2), Error: "argocd-server: sync web: 403 Forbidden"}}
	m.Evaluated(app, st3, time.Second, t2)
	if v := testutil.ToFloat64(m.autoheal.WithLabelValues(app, healFailure)); v != 1 {
		t.Errorf("failed syncs = %v", v)
	}
}

// A reporter that restarts sees drift its predecessor already counted: only drift the status
// first shows at this evaluation is new, and nothing is resolved for lack of a predecessor.
func TestLifecycleMetricsAfterRestart(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	old := finding("old", "identity", drift.ClassUnauthorizedRuntime, drift.RiskHigh, "/rules")
	old.FirstObservedAt = rfc(evalAt.Add(-time.Hour))
	fresh := finding("fresh", "identity", drift.ClassUnauthorizedRuntime, drift.RiskHigh, "/subjects")
	fresh.FirstObservedAt = rfc(evalAt)
	m.Evaluated("argocd/web", Status{Findings: []StatusFinding{old, fresh}}, time.Second, evalAt)
	expect(t, gathered(t, reg, "driftplane_drift_events_total", "driftplane_drift_resolved_total", "driftplane_open_drift_oldest_age_seconds"),
		"driftplane_drift_events_total{app=argocd/web,class=UNAUTHORIZED_RUNTIME_DRIFT,domain=identity,risk=HIGH} 1",
		"driftplane_open_drift_oldest_age_seconds{app=argocd/web,domain=identity} 3600",
	)
}

// Ignored fields are bounded: the 20 most frequent named, the rest summed, whatever the drift.
func TestIgnoredFieldsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	var fs []StatusFinding
	for i := 0; i < 50; i++ {
		f := finding(fmt.Sprintf("f%d", i), "workload", drift.ClassControllerOwned, drift.RiskLow, fmt.Sprintf("/metadata/labels/l%02d", i), "/spec/replicas")
		fs = append(fs, f)
	}
	// The attacker-chosen label name "_other" does not get a series of its own.
	fs = append(fs, finding("o", "workload", drift.ClassControllerOwned, drift.RiskLow, otherField))
	m.Evaluated("argocd/web", Status{Findings: fs}, time.Second, evalAt)
	if n := testutil.CollectAndCount(m.ignored); n != maxIgnoredFields+1 {
		t.Errorf("%d ignored-field series, want %d", n, maxIgnoredFields+1)
	}
	if v := testutil.ToFloat64(m.ignored.WithLabelValues("argocd/web", "/spec/replicas")); v != 50 {
		t.Errorf("/spec/replicas = %v", v)
	}
	// 51 field counts, 19 of the l%02d named (l00..l18): 31 more ignored changes under _other
	// plus the finding whose field is literally _other.
	if v := testutil.ToFloat64(m.ignored.WithLabelValues("argocd/web", otherField)); v != 32 {
		t.Errorf("_other = %v", v)
	}
}

// The policy sets the unit's info, the staleness bound (the schedule's, else the freshness) and
// each exception's expiry; the live spec gives the same bound when the evaluation failed.
func TestConfiguredMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "web"}, Spec: drift.UnitSpec{Environment: "prod", Owner: "team-web", Schedule: "@every 30m"}}
	exp := evalAt.Add(72 * time.Hour)
	p := &Policy{Unit: unit, FreshnessSeconds: 600, Exceptions: []*drift.Exception{
		{Metadata: drift.Metadata{Name: "exc-ingress"}, Spec: drift.ExceptionSpec{ExpiresAt: rfc(exp)}}, nil}}
	m.Configured("argocd/web", p)
	expect(t, gathered(t, reg, "driftplane_unit_info", "driftplane_stale_after_seconds", "driftplane_exception_expiry_timestamp_seconds"),
		"driftplane_exception_expiry_timestamp_seconds{app=argocd/web,exception=exc-ingress} "+fmt.Sprint(float64(exp.Unix())),
		"driftplane_stale_after_seconds{app=argocd/web} 3600",
		"driftplane_unit_info{app=argocd/web,environment=prod,owner=team-web,unit=web} 1",
	)
	// The exception is gone from Git: so is its series.
	unit.Spec.Schedule = ""
	m.Configured("argocd/web", &Policy{Unit: unit, FreshnessSeconds: 600})
	expect(t, gathered(t, reg, "driftplane_stale_after_seconds", "driftplane_exception_expiry_timestamp_seconds"),
		"driftplane_stale_after_seconds{app=argocd/web} 600")

	for _, c := range []struct {
		spec map[string]any
		want time.Duration
	}{
		{map[string]any{}, 15 * time.Minute},
		{map[string]any{"freshnessSeconds": int64(120)}, 2 * time.Minute},
		{map[string]any{"freshnessSeconds": int64(120), "unit": map[string]any{"spec": map[string]any{"schedule": "@hourly"}}}, 2 * time.Hour},
		// A schedule that does not parse does not loosen the bound.
		{map[string]any{"freshnessSeconds": int64(120), "unit": map[string]any{"spec": map[string]any{"schedule": "whenever"}}}, 2 * time.Minute},
	} {
		dr := &unstructured.Unstructured{Object: map[string]any{"spec": c.spec}}
		if got := staleBoundOf(dr); got != c.want {
			t.Errorf("%v: bound %v, want %v", c.spec, got, c.want)
		}
	}
}

// Forget leaves no series of the application in any metric.
func TestForgetDropsEverySeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	exerciseAll(m, "argocd/web")
	exerciseAll(m, "argocd/api")
	m.Forget("argocd/web")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	apis := 0
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "app" && l.GetValue() == "argocd/web" {
					t.Errorf("%s keeps a series of the forgotten application", mf.GetName())
				}
				if l.GetName() == "app" && l.GetValue() == "argocd/api" {
					apis++
				}
			}
		}
	}
	if apis == 0 {
		t.Error("the other application's series went too")
	}
}

// exerciseAll drives every metric to have at least one series for app.
func exerciseAll(m *Metrics, app string) {
	bg := finding("bg", "identity", drift.ClassEmergency, drift.RiskCritical, "/rules/0/verbs")
	bg.ActorDetail = &drift.Actor{Username: "root", Kind: drift.ActorBreakGlass, Time: rfc(evalAt.Add(-time.Minute))}
	gone := finding("gone", "workload", drift.ClassUnauthorizedRuntime, drift.RiskHigh, "/spec/replicas")
	ignored := finding("ign", "workload", drift.ClassControllerOwned, drift.RiskLow, "/spec/replicas")
	m.Configured(app, &Policy{Unit: &drift.ManagedUnit{Metadata: drift.Metadata{Name: "web"}, Spec: drift.UnitSpec{Environment: "prod", Owner: "team"}},
		Exceptions: []*drift.Exception{{Metadata: drift.Metadata{Name: "e"}, Spec: drift.ExceptionSpec{ExpiresAt: rfc(evalAt.Add(time.Hour))}}}})
	m.Evaluated(app, Status{Findings: []StatusFinding{bg, gone, ignored}, BlockingCount: 1,
		Budgets: []drift.BudgetState{{Name: "identity", State: drift.BudgetBurning, Open: 1, Objective: "95% over 720h", BurnRate: "0.50",
			BurnRates: []drift.BurnRate{{Window: "5m", Rate: "1.00"}}}},
		AutoHeal: &HealRecord{At: rfc(evalAt), Healed: []HealTarget{{Name: "x"}}}}, time.Second, evalAt)
	m.Evaluated(app, Status{Findings: []StatusFinding{bg, ignored}, Budgets: []drift.BudgetState{{Name: "identity", State: drift.BudgetBurning, Open: 1,
		Objective: "95% over 720h", BurnRate: "0.50"}}, Inventory: &drift.Inventory{Expected: 12, Observed: 11}}, time.Second, evalAt.Add(time.Minute))
	m.Failed(app)
	m.Stale(app, true)
}

var (
	metricRef  = regexp.MustCompile(`driftplane[_:][a-zA-Z0-9_:]+`)
	histSuffix = regexp.MustCompile(`_(bucket|sum|count)$`)
)

// Every dashboard (the on-call one and the views under grafana/) and the Prometheus rules query
// only series that exist: driftplane_* metrics the reporter exports, and driftplane:* series the
// rules file records.
func TestDashboardsQueryOnlyExportedSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	exerciseAll(m, "argocd/web")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, mf := range mfs {
		exported[mf.GetName()] = true
	}
	// The exercise reaches every metric, so "not exported" below means no such metric.
	descs := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range []prometheus.Collector{m.findings, m.blocking, m.evalDuration, m.evalErrors, m.stale, m.classification, m.driftWindow, m.budget, m.budgetOpen,
			m.budgetState, m.burnRate, m.objectiveRatio, m.lastSuccess, m.staleAfter, m.unitInfo, m.events, m.resolved, m.openDrift,
			m.oldestOpen, m.breakglass, m.ignored, m.exceptionExpiry, m.autoheal, m.inventory, m.reconcile} {
			c.Describe(descs)
		}
		close(descs)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	registered := 0
	for d := range descs {
		registered++
		if n := fqName.FindStringSubmatch(d.String()); n == nil || !exported[n[1]] {
			t.Errorf("the exercise leaves %s without a series", d)
		}
	}
	if registered != len(exported) {
		t.Errorf("%d metrics registered, %d gathered", registered, len(exported))
	}
	// A sharded reporter (RunSharded) exports its shards' series beside them.
	shardReg := prometheus.NewRegistry()
	newShardMetrics(shardReg, 2)
	shardMFs, err := shardReg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range shardMFs {
		exported[mf.GetName()] = true
	}

	rulesRaw, err := os.ReadFile("../manifests/prometheus/driftplane-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Record string `json:"record"`
				Alert  string `json:"alert"`
				Expr   string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(rulesRaw, &rules); err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	var ruleExprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
			ruleExprs = append(ruleExprs, r.Expr)
		}
	}
	check := func(where string, exprs []string) {
		t.Helper()
		for _, e := range exprs {
			for _, n := range metricRef.FindAllString(e, -1) {
				switch {
				case strings.HasPrefix(n, "driftplane:"):
					if !recorded[n] {
						t.Errorf("%s queries %s, which the rules file does not record (in %q)", where, n, e)
					}
				case !exported[n] && !exported[histSuffix.ReplaceAllString(n, "")]:
					t.Errorf("%s queries %s, which the reporter does not export (in %q)", where, n, e)
				}
			}
		}
	}
	check("driftplane-rules.yaml", ruleExprs)

	files, err := filepath.Glob("../manifests/grafana/*.json")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../manifests/grafana-dashboard.json")
	if len(files) < 5 {
		t.Fatalf("dashboards: %v; want the on-call one and the executive, platform, service-owner and security views", files)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var dash any
		if err := json.Unmarshal(raw, &dash); err != nil {
			t.Fatalf("%s is not JSON: %v", f, err)
		}
		exprs := dashboardQueries(dash)
		if len(exprs) < 3 {
			t.Errorf("%s has only %d queries", f, len(exprs))
		}
		check(filepath.Base(f), exprs)
	}
}

// dashboardQueries are the PromQL strings of a Grafana dashboard: panel targets' expr (rows'
// nested panels too) and query variables' query.
func dashboardQueries(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && (k == "expr" || k == "query" || k == "definition") {
				out = append(out, s)
				continue
			}
			out = append(out, dashboardQueries(val)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, dashboardQueries(e)...)
		}
	}
	return out
}

// Inventory coverage (M7): what the application declares and what was found running.
func TestInventoryMetrics(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	exerciseAll(m, "argocd/web")
	if e, o := testutil.ToFloat64(m.inventory.WithLabelValues("argocd/web", "expected")), testutil.ToFloat64(m.inventory.WithLabelValues("argocd/web", "observed")); e != 12 || o != 11 {
		t.Fatalf("inventory expected %v observed %v", e, o)
	}
}
