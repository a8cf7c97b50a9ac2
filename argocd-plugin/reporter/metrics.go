package reporter

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

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

	mu        sync.Mutex
	firstSeen map[string]map[string]findingSeen // app → finding id → first detection
}

type findingSeen struct {
	at    time.Time
	class drift.Class
	risk  drift.Risk
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftplane_findings",
			Help: "Current drift findings by application, class and risk (accepted and expected ones included)."}, []string{"app", "class", "risk"}),
		blocking: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftplane_blocking_findings",
			Help: "Unaccepted findings at or above the application's gate."}, []string{"app"}),
		evalDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "driftplane_evaluation_duration_seconds",
			Help: "Time to read, diff and classify one application.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 12)}),
		evalErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "driftplane_evaluation_errors_total",
			Help: "Evaluations that failed (drift unknown)."}, []string{"app"}),
		stale: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftplane_report_stale",
			Help: "1 when an application's last successful evaluation is older than its freshness bound."}, []string{"app"}),
		classification: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "driftplane_time_to_classification_seconds",
			Help: "From the change (its field manager or audit time) to its first classification.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		driftWindow: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "driftplane_drift_window_seconds",
			Help: "From a finding's first detection to its resolution.", Buckets: prometheus.ExponentialBuckets(60, 4, 10)}, []string{"class", "risk"}),
		budget: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftplane_budget_exhausted",
			Help: "1 when an application's drift budget is exhausted (its drift blocks whatever the gate), 0 otherwise."}, []string{"app", "budget"}),
		budgetOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftplane_budget_open_drift",
			Help: "Unaccepted drift a budget counts."}, []string{"app", "budget"}),
		firstSeen: map[string]map[string]findingSeen{},
	}
	reg.MustRegister(m.findings, m.blocking, m.evalDuration, m.evalErrors, m.stale, m.classification, m.driftWindow, m.budget, m.budgetOpen)
	return m
}

// Evaluated records a successful evaluation of app.
func (m *Metrics) Evaluated(app string, st Status, took time.Duration, now time.Time) {
	if m == nil {
		return
	}
	m.evalDuration.Observe(took.Seconds())
	m.findings.DeletePartialMatch(prometheus.Labels{"app": app})
	counts := map[[2]string]int{}
	for _, f := range st.Findings {
		counts[[2]string{string(f.DriftClass), string(f.Risk)}]++
	}
	for k, n := range counts {
		m.findings.WithLabelValues(app, k[0], k[1]).Set(float64(n))
	}
	m.blocking.WithLabelValues(app).Set(float64(st.BlockingCount))
	m.stale.WithLabelValues(app).Set(0)
	m.budget.DeletePartialMatch(prometheus.Labels{"app": app})
	m.budgetOpen.DeletePartialMatch(prometheus.Labels{"app": app})
	for _, b := range st.Budgets {
		exhausted := 0.0
		if b.State == drift.BudgetExhausted {
			exhausted = 1
		}
		m.budget.WithLabelValues(app, b.Name).Set(exhausted)
		m.budgetOpen.WithLabelValues(app, b.Name).Set(float64(b.Open))
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	seen := m.firstSeen[app]
	if seen == nil {
		seen = map[string]findingSeen{}
		m.firstSeen[app] = seen
	}
	current := map[string]bool{}
	for _, f := range st.Findings {
		current[f.FindingID] = true
		if _, ok := seen[f.FindingID]; ok {
			continue
		}
		seen[f.FindingID] = findingSeen{at: now, class: f.DriftClass, risk: f.Risk}
		if f.ActorDetail != nil {
			if changed, err := time.Parse(time.RFC3339, f.ActorDetail.Time); err == nil && !changed.After(now) {
				m.classification.Observe(now.Sub(changed).Seconds())
			}
		}
	}
	for id, s := range seen {
		if !current[id] {
			m.driftWindow.WithLabelValues(string(s.class), string(s.risk)).Observe(now.Sub(s.at).Seconds())
			delete(seen, id)
		}
	}
}

// Forget releases every series and all state of an application the reporter no longer
// evaluates (deleted, or no longer carrying a DriftReport).
func (m *Metrics) Forget(app string) {
	if m == nil {
		return
	}
	m.findings.DeletePartialMatch(prometheus.Labels{"app": app})
	m.budget.DeletePartialMatch(prometheus.Labels{"app": app})
	m.budgetOpen.DeletePartialMatch(prometheus.Labels{"app": app})
	m.blocking.DeleteLabelValues(app)
	m.stale.DeleteLabelValues(app)
	m.evalErrors.DeleteLabelValues(app)
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
	v := 0.0
	if stale {
		v = 1
	}
	m.stale.WithLabelValues(app).Set(v)
}
