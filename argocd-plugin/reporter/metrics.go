package reporter

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

// Every series but the evaluation-duration histogram and the notification counter carries an
// `app` label, and Forget drops them all. (Notifications are counted by receiver: its label values
// come from the routing policy, a bounded set, and a receiver's failures are what to alert on.) Label values come from bounded vocabularies (class, risk, domain, budget state, burn
// window, resolution) or from the application's own policy (budget and exception names); the
// one label drawn from the drift itself, `field`, is capped at maxIgnoredFields per application.

// maxIgnoredFields bounds driftplane_ignored_findings per application: the most frequent changed
// fields are named, the rest summed under otherField, so a noisy application cannot blow up the
// series count.
const maxIgnoredFields = 20

// otherField is the `field` label of the ignored findings beyond the top maxIgnoredFields.
const otherField = "_other"

// defaultFreshness is the staleness bound of a report whose spec sets neither a freshness nor a
// schedule (the DriftReport CRD's freshnessSeconds default).
const defaultFreshness = 900 * time.Second

// objectiveWindow is the `window` label of the burn rate over the objective's whole window.
const objectiveWindow = "objective"

// Auto-heal outcomes (driftplane_autoheal_total's `outcome`).
const (
	healSuccess = "success"
	healFailure = "failure"
)

// resolutionGone is the resolution of a drift that disappeared without a reason the status can
// tell: reverted by hand or accepted into Git (only the ledger, which digests what runs, tells
// which).
const resolutionGone = "gone"

// Metrics are the drift SLIs: what drift exists, how long it lives, how fast it is classified,
// and whether evaluation itself is healthy.
type Metrics struct {
	findings       *prometheus.GaugeVec
	blocking       *prometheus.GaugeVec
	evalDuration   prometheus.Histogram
	evalErrors     *prometheus.CounterVec
	stale          *prometheus.GaugeVec
	classification prometheus.Histogram
	driftWindow    *prometheus.HistogramVec
	budget         *prometheus.GaugeVec
	budgetOpen     *prometheus.GaugeVec

	budgetState     *prometheus.GaugeVec
	inventory       *prometheus.GaugeVec
	burnRate        *prometheus.GaugeVec
	objectiveRatio  *prometheus.GaugeVec
	lastSuccess     *prometheus.GaugeVec
	staleAfter      *prometheus.GaugeVec
	unitInfo        *prometheus.GaugeVec
	events          *prometheus.CounterVec
	resolved        *prometheus.CounterVec
	openDrift       *prometheus.GaugeVec
	oldestOpen      *prometheus.GaugeVec
	breakglass      *prometheus.GaugeVec
	ignored         *prometheus.GaugeVec
	exceptionExpiry *prometheus.GaugeVec
	autoheal        *prometheus.CounterVec
	notifications   *prometheus.CounterVec
	reconcile       *prometheus.GaugeVec

	mu sync.Mutex
	// firstSeen is, per application, the lifecycle as the last evaluation left it, from which the
	// next one's transitions (appeared, resolved and how) are derived.
	firstSeen map[string]*lifecycle
}

// lifecycle is what the metrics remember of an application between evaluations.
type lifecycle struct {
	rec *ledger.Record
	// healed are the finding IDs the last evaluation's auto-heal synced back.
	healed map[string]bool
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		findings: gauge("driftplane_findings",
			"Current drift findings by application, class and risk (accepted and expected ones included).", "app", "class", "risk"),
		blocking: gauge("driftplane_blocking_findings",
			"Unaccepted findings at or above the application's gate.", "app"),
		evalDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "driftplane_evaluation_duration_seconds",
			Help: "Time to read, diff and classify one application.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 12)}),
		evalErrors: counter("driftplane_evaluation_errors_total",
			"Evaluations that failed (drift unknown).", "app"),
		stale: gauge("driftplane_report_stale",
			"1 when an application's last successful evaluation is older than its staleness bound (driftplane_stale_after_seconds): its drift is unknown, never clean.", "app"),
		classification: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "driftplane_time_to_classification_seconds",
			Help: "From the change (its field manager or audit time) to its first classification.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		driftWindow: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "driftplane_drift_window_seconds",
			Help: "From a finding's first detection to its resolution (time to remediate or accept).", Buckets: prometheus.ExponentialBuckets(60, 4, 10)}, []string{"class", "risk"}),
		budget: gauge("driftplane_budget_exhausted",
			"1 when an application's drift budget is exhausted (its drift blocks whatever the gate), 0 otherwise.", "app", "budget"),
		budgetOpen: gauge("driftplane_budget_open_drift",
			"Unaccepted drift a budget counts.", "app", "budget"),
		inventory: gauge("driftplane_inventory_resources",
			"Resources an application declares (state=expected) and those its last evaluation found running (state=observed): inventory coverage, M7; state=unmanaged counts objects running in its namespaces, of its kinds, that nothing declares or owns (also counted in expected).", "app", "state"),
		budgetState: gauge("driftplane_budget_state",
			"1 for a drift budget's current state (ok, burning or exhausted), 0 for the other two.", "app", "budget", "state"),
		burnRate: gauge("driftplane_budget_burn_rate",
			"How fast a budget's objective spends its error budget over a window (5m, 30m, 1h, 6h, 1d, 3d, or objective: its whole window); 1 spends it exactly over the objective's window, +Inf when the target allows no bad judgement and one was bad. Absent for a budget without an objective.", "app", "budget", "window"),
		objectiveRatio: gauge("driftplane_budget_objective_ratio",
			"A budget objective's target as a ratio (95% is 0.95). Absent for a budget without an objective.", "app", "budget"),
		lastSuccess: gauge("driftplane_last_successful_evaluation_timestamp_seconds",
			"Unix time of the application's last successful evaluation (by this reporter process).", "app"),
		staleAfter: gauge("driftplane_stale_after_seconds",
			"How long an application may go without a successful evaluation before it is stale: twice its unit's schedule interval when it has one, else the report's freshnessSeconds.", "app"),
		unitInfo: gauge("driftplane_unit_info",
			"Always 1: the drift unit an application is evaluated as, with its environment and owner, to join on app.", "app", "unit", "environment", "owner"),
		events: counter("driftplane_drift_events_total",
			"Drifts that appeared (a fingerprint not open before) by domain, class and risk.", "app", "domain", "class", "risk"),
		resolved: counter("driftplane_drift_resolved_total",
			"Drifts that ended, by domain and resolution: accepted (by an exception), healed (auto-heal), resource-deleted, state-refreshed, or gone (reverted or accepted into Git; the ledger tells which).", "app", "domain", "resolution"),
		openDrift: gauge("driftplane_open_drift",
			"Open drift: findings neither accepted, nor of an expected class, nor of INFO risk, by domain and risk.", "app", "domain", "risk"),
		oldestOpen: gauge("driftplane_open_drift_oldest_age_seconds",
			"Age of the longest-running open drift per domain, from its first sighting (the ledger's, else the report's).", "app", "domain"),
		breakglass: gauge("driftplane_breakglass_open_drift",
			"Unaccepted findings whose change a break-glass identity made: emergency changes not yet reconciled.", "app"),
		ignored: gauge("driftplane_ignored_findings",
			"Findings nobody has to act on (accepted, of an expected class, or of INFO risk) by changed field; the 20 most frequent fields per application are named, the rest summed as _other.", "app", "field"),
		exceptionExpiry: gauge("driftplane_exception_expiry_timestamp_seconds",
			"Unix time at which a DriftException the application's policy carries expires.", "app", "exception"),
		autoheal: counter("driftplane_autoheal_total",
			"Auto-heal syncs by outcome: success (Argo CD accepted the sync of the objects chosen) or failure (it refused or failed).", "app", "outcome"),
		notifications: counter("driftplane_notifications_total",
			"Notifications of the routing policy's receivers by receiver, state (firing, resolved) and outcome (sent, failed, superseded): a failed one is retried by the next evaluation, up to its bound.", "receiver", "state", "outcome"),
		reconcile: gauge("driftplane_reconcile_failures",
			"What does not converge, by kind: thrash (paths changing back and forth between writers within the unit's window; auto-heal of their objects is suspended), sync_failed (objects Argo CD's last sync failed on), untracked (1 when more paths change than thrash can track; auto-heal of the application is suspended).", "app", "kind"),
		firstSeen: map[string]*lifecycle{},
	}
	reg.MustRegister(m.reconcile)
	reg.MustRegister(m.findings, m.blocking, m.evalDuration, m.evalErrors, m.stale, m.classification, m.driftWindow, m.budget, m.budgetOpen,
		m.budgetState, m.burnRate, m.objectiveRatio, m.lastSuccess, m.staleAfter, m.unitInfo, m.events, m.resolved, m.openDrift,
		m.oldestOpen, m.breakglass, m.ignored, m.exceptionExpiry, m.autoheal, m.notifications, m.inventory)
	return m
}

// perApp are the vectors whose series belong to one application.
func (m *Metrics) perApp() []interface {
	DeletePartialMatch(prometheus.Labels) int
} {
	return []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.findings, m.blocking, m.evalErrors, m.stale, m.budget, m.budgetOpen, m.budgetState, m.burnRate, m.objectiveRatio,
		m.lastSuccess, m.staleAfter, m.unitInfo, m.events, m.resolved, m.openDrift, m.oldestOpen, m.breakglass, m.ignored,
		m.exceptionExpiry, m.autoheal, m.inventory, m.reconcile}
}

// Count counts one delivery to receiver of a notification in state with outcome: Metrics is the
// notifier's Counters.
func (m *Metrics) Count(receiver, state, outcome string) {
	if m == nil {
		return
	}
	m.notifications.WithLabelValues(receiver, state, outcome).Inc()
}

// Evaluated records a successful evaluation of app that started at now.
func (m *Metrics) Evaluated(app string, st Status, took time.Duration, now time.Time) {
	if m == nil {
		return
	}
	byApp := prometheus.Labels{"app": app}
	m.evalDuration.Observe(took.Seconds())
	m.findings.DeletePartialMatch(byApp)
	counts := map[[2]string]int{}
	for _, f := range st.Findings {
		counts[[2]string{string(f.DriftClass), string(f.Risk)}]++
	}
	for k, n := range counts {
		m.findings.WithLabelValues(app, k[0], k[1]).Set(float64(n))
	}
	m.blocking.WithLabelValues(app).Set(float64(st.BlockingCount))
	m.stale.WithLabelValues(app).Set(0)
	m.lastSuccess.WithLabelValues(app).Set(float64(now.Unix()))
	m.budgets(app, st.Budgets)
	m.inventory.DeletePartialMatch(prometheus.Labels{"app": app})
	if inv := st.Inventory; inv != nil {
		m.inventory.WithLabelValues(app, "expected").Set(float64(inv.Expected))
		m.inventory.WithLabelValues(app, "observed").Set(float64(inv.Observed))
		// Running in its namespaces, of its kinds, declared and owned by nothing (also in expected).
		m.inventory.WithLabelValues(app, "unmanaged").Set(float64(inv.Unmanaged))
	}
	m.current(app, st.Findings, now)
	m.reconcileFailures(app, st)
	m.healed(app, st.AutoHeal, now)
	m.transitions(app, st, now)
}

// budgets sets the budget series of app to the evaluation's budget states.
func (m *Metrics) budgets(app string, budgets []drift.BudgetState) {
	byApp := prometheus.Labels{"app": app}
	for _, v := range []*prometheus.GaugeVec{m.budget, m.budgetOpen, m.budgetState, m.burnRate, m.objectiveRatio} {
		v.DeletePartialMatch(byApp)
	}
	for _, b := range budgets {
		m.budget.WithLabelValues(app, b.Name).Set(boolValue(b.State == drift.BudgetExhausted))
		m.budgetOpen.WithLabelValues(app, b.Name).Set(float64(b.Open))
		for _, s := range []string{drift.BudgetOK, drift.BudgetBurning, drift.BudgetExhausted} {
			m.budgetState.WithLabelValues(app, b.Name, s).Set(boolValue(b.State == s))
		}
		if b.Objective == "" {
			continue
		}
		// The core writes the objective as "<target>% over <window>".
		if pct, _, ok := strings.Cut(b.Objective, "%"); ok {
			if target, err := drift.ParseTarget(pct); err == nil {
				m.objectiveRatio.WithLabelValues(app, b.Name).Set(target / 100)
			}
		}
		if r, ok := parseBurnRate(b.BurnRate); ok {
			m.burnRate.WithLabelValues(app, b.Name, objectiveWindow).Set(r)
		}
		for _, w := range b.BurnRates {
			if r, ok := parseBurnRate(w.Rate); ok {
				m.burnRate.WithLabelValues(app, b.Name, w.Window).Set(r)
			}
		}
	}
}

// parseBurnRate reads a budget's burn rate: a decimal, or "inf" when a 100% target was missed.
func parseBurnRate(s string) (float64, bool) {
	if s == "inf" {
		return math.Inf(1), true
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(r) || r < 0 {
		return 0, false
	}
	return r, true
}

// ignoredFinding says a finding needs nobody to act: accepted, expected, or of INFO risk. Every
// other finding is open drift.
func ignoredFinding(f *StatusFinding) bool {
	return f.AcceptedBy != "" || drift.DefaultTable().Expected(f.DriftClass) || f.Risk == drift.RiskInfo
}

// current sets the gauges of what is open and what is ignored now.
func (m *Metrics) current(app string, fs []StatusFinding, now time.Time) {
	byApp := prometheus.Labels{"app": app}
	for _, v := range []*prometheus.GaugeVec{m.openDrift, m.oldestOpen, m.ignored} {
		v.DeletePartialMatch(byApp)
	}
	open := map[[2]string]int{}
	oldest := map[string]time.Time{}
	fields := map[string]int{}
	breakglass := 0
	for i := range fs {
		f := &fs[i]
		if f.AcceptedBy == "" && f.ActorDetail != nil && f.ActorDetail.Kind == drift.ActorBreakGlass {
			breakglass++
		}
		if ignoredFinding(f) {
			for _, p := range f.ChangedFields {
				fields[p]++
			}
			continue
		}
		open[[2]string{f.Domain, string(f.Risk)}]++
		first := now
		for _, s := range []string{f.FirstObservedAt, f.FirstSeen} {
			if t, err := time.Parse(time.RFC3339, s); err == nil && t.Before(first) {
				first = t
			}
		}
		if o, ok := oldest[f.Domain]; !ok || first.Before(o) {
			oldest[f.Domain] = first
		}
	}
	for k, n := range open {
		m.openDrift.WithLabelValues(app, k[0], k[1]).Set(float64(n))
	}
	for d, t := range oldest {
		m.oldestOpen.WithLabelValues(app, d).Set(now.Sub(t).Seconds())
	}
	m.breakglass.WithLabelValues(app).Set(float64(breakglass))
	for field, n := range topFields(fields, maxIgnoredFields) {
		m.ignored.WithLabelValues(app, field).Set(float64(n))
	}
}

// topFields keeps the k most frequent fields (ties by name) and sums the rest under otherField.
func topFields(counts map[string]int, k int) map[string]int {
	names := make([]string, 0, len(counts))
	for f := range counts {
		names = append(names, f)
	}
	sort.Slice(names, func(i, j int) bool {
		if counts[names[i]] != counts[names[j]] {
			return counts[names[i]] > counts[names[j]]
		}
		return names[i] < names[j]
	})
	out := map[string]int{}
	for i, f := range names {
		if i < k && f != otherField {
			out[f] = counts[f]
		} else {
			out[otherField] += counts[f]
		}
	}
	return out
}

// healed counts this evaluation's auto-heal sync, if it made one.
func (m *Metrics) healed(app string, h *HealRecord, now time.Time) {
	// A status carries the heal record of the evaluation that made it; one stamped otherwise is
	// an earlier evaluation's and was counted then.
	if h == nil || h.At != now.UTC().Format(time.RFC3339) {
		return
	}
	switch {
	case h.Error != "":
		m.autoheal.WithLabelValues(app, healFailure).Inc()
	case len(h.Healed) > 0:
		m.autoheal.WithLabelValues(app, healSuccess).Inc()
	}
}

// transitions counts the drifts that appeared and ended since the previous evaluation, with the
// ledger's own transition rules (ledger.Next) over the statuses.
func (m *Metrics) transitions(app string, st Status, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	life := m.firstSeen[app]
	rep := &drift.Report{Unit: app, Findings: make([]drift.Finding, 0, len(st.Findings))}
	firstObserved := map[string]string{}
	for _, f := range st.Findings {
		rep.Findings = append(rep.Findings, f.Finding)
		firstObserved[drift.Fingerprint(f.Finding)] = f.FirstObservedAt
	}
	var prev *ledger.Record
	var healed map[string]bool
	if life != nil {
		prev, healed = life.rec, life.healed
	}
	rec := ledger.Next(prev, "", rep, now, ledger.Outcome{Healed: healed})
	stamp := now.UTC().Format(time.RFC3339)
	for _, e := range rec.Events {
		switch e.Kind {
		case ledger.EventAppeared:
			// The first evaluation this process sees of an application has nothing to compare
			// with: only a drift the status itself first shows now is new (after a restart, the
			// older ones were counted by the process before).
			if prev == nil && firstObserved[e.Fingerprint] != "" && firstObserved[e.Fingerprint] < stamp {
				continue
			}
			m.events.WithLabelValues(app, e.Domain, e.DriftClass, e.Risk).Inc()
			if changed, err := time.Parse(time.RFC3339, e.ChangedAt); err == nil && !changed.After(now) {
				m.classification.Observe(now.Sub(changed).Seconds())
			}
		case ledger.EventResolved:
			res := e.Resolution
			if res == ledger.ResolutionReverted || res == ledger.ResolutionAcceptedIntoGit {
				res = resolutionGone
			}
			m.resolved.WithLabelValues(app, e.Domain, res).Inc()
			if first, err := time.Parse(time.RFC3339, e.FirstSeen); err == nil && !first.After(now) {
				m.driftWindow.WithLabelValues(e.DriftClass, e.Risk).Observe(now.Sub(first).Seconds())
			}
		}
	}
	next := &lifecycle{rec: rec}
	if h := st.AutoHeal; h != nil && h.At == stamp {
		next.healed = map[string]bool{}
		for _, t := range h.Healed {
			for _, id := range t.Findings {
				next.healed[id] = true
			}
		}
	}
	m.firstSeen[app] = next
}

// Configured records what the application's policy says about it: its unit, its staleness
// bound and its exceptions' expiries.
func (m *Metrics) Configured(app string, p *Policy) {
	if m == nil || p == nil || p.Unit == nil {
		return
	}
	byApp := prometheus.Labels{"app": app}
	m.unitInfo.DeletePartialMatch(byApp)
	m.exceptionExpiry.DeletePartialMatch(byApp)
	u := p.Unit
	m.unitInfo.WithLabelValues(app, u.Metadata.Name, u.Spec.Environment, u.Spec.Owner).Set(1)
	m.staleAfter.WithLabelValues(app).Set(StaleBound(u.Spec.Schedule, p.FreshnessSeconds).Seconds())
	for _, e := range p.Exceptions {
		if e != nil {
			m.exceptionExpiry.WithLabelValues(app, e.ID()).Set(float64(e.Expiry().Unix()))
		}
	}
}

// StaleBound is how long an application may go without a successful evaluation: twice its
// unit's schedule interval (drift.StaleAfter) when it has a valid one, else the report's
// freshness (default 15 minutes).
func StaleBound(schedule string, freshnessSeconds int64) time.Duration {
	if d, err := drift.StaleAfter(schedule); err == nil && d > 0 {
		return d
	}
	if freshnessSeconds > 0 {
		return time.Duration(freshnessSeconds) * time.Second
	}
	return defaultFreshness
}

// staleBoundOf is StaleBound of a DriftReport as the API server holds it: used when the
// evaluation failed, so no policy from Git is at hand.
func staleBoundOf(dr *unstructured.Unstructured) time.Duration {
	freshness, _, _ := unstructured.NestedInt64(dr.Object, "spec", "freshnessSeconds")
	schedule, _, _ := unstructured.NestedString(dr.Object, "spec", "unit", "spec", "schedule")
	return StaleBound(schedule, freshness)
}

// Forget releases every series and all state of an application the reporter no longer
// evaluates (deleted, or no longer carrying a DriftReport).
func (m *Metrics) Forget(app string) {
	if m == nil {
		return
	}
	for _, v := range m.perApp() {
		v.DeletePartialMatch(prometheus.Labels{"app": app})
	}
	m.mu.Lock()
	delete(m.firstSeen, app)
	m.mu.Unlock()
}

// Failed records a failed evaluation.
func (m *Metrics) Failed(app string) {
	if m != nil {
		m.evalErrors.WithLabelValues(app).Inc()
	}
}

// Stale marks app's report stale or fresh.
func (m *Metrics) Stale(app string, stale bool) {
	if m == nil {
		return
	}
	m.stale.WithLabelValues(app).Set(boolValue(stale))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
