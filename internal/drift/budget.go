package drift

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
)

// Budget states.
const (
	BudgetOK        = "ok"        // nothing counted
	BudgetBurning   = "burning"   // drift counted, within the bounds
	BudgetExhausted = "exhausted" // a bound broken: the drift it counts blocks, whatever the gate
)

// BudgetState is one budget at one evaluation: its state, how many unaccepted drifts it counts,
// which bound broke and since when (the API's type, which the DriftReport status carries).
type BudgetState = v1alpha1.BudgetState

// Life is one drift's life as the lifecycle ledger knows it, for judging budget objectives.
type Life struct {
	Domain    string
	Class     Class
	Risk      Risk
	ChangedAt time.Time // zero when no audit source dated the change
	FirstSeen time.Time
	// ResolvedAt is zero while the drift is open. Accepted says it ended by an exception.
	ResolvedAt time.Time
	Accepted   bool
}

// History is what the ledger knows of a unit over the longest window its budgets judge: the
// drifts that lived in it and the instants the unit became stale (no successful evaluation for
// longer than its schedule allows).
type History struct {
	Lives      []Life
	StaleSince []time.Time
}

// BurnWindows are the short windows of multi-window burn-rate alerts (the SRE workbook's:
// 5m/1h page, 30m/6h page, 6h/3d ticket; 1d in between for dashboards).
func BurnWindows() []time.Duration {
	return []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour}
}

// HistorySpan is how far back ApplyBudgets looks at a unit's history: its longest objective
// window, and at least the longest burn window.
func HistorySpan(unit *ManagedUnit) time.Duration {
	span := time.Duration(0)
	for _, b := range unit.Spec.Budgets {
		if b.Objective == nil {
			continue
		}
		span = max(span, BurnWindows()[len(BurnWindows())-1])
		if w, err := time.ParseDuration(b.Objective.Window); err == nil {
			span = max(span, min(w, MaxObjectiveWindow))
		}
	}
	return span
}

// ParseTarget reads an objective's target percentage ("95", "99.9").
func ParseTarget(target string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(target), 64)
	if err != nil || math.IsNaN(v) || v <= 0 || v > 100 {
		return 0, fmt.Errorf("target %q is not a percentage above 0 and at most 100, such as 95 or 99.9", target)
	}
	return v, nil
}

// ApplyBudgets judges the unit's drift budgets on a report whose findings carry their lifecycle
// (FirstSeen, from the ledger) and escalates: every finding an exhausted budget counts blocks,
// whatever the gate, and says which budget and since when. A maxAge that cannot be judged (no
// first sighting: no ledger) is a warning, never a pass presented as ok. h is the unit's history
// (nil without a ledger): budgets with an objective are judged on it, and one whose error
// budget is spent over its window is exhausted.
func ApplyBudgets(rep *Report, unit *ManagedUnit, at time.Time, t *Table, h *History) {
	if t == nil {
		t = DefaultTable()
	}
	for _, b := range unit.Spec.Budgets {
		st := BudgetState{Name: b.Name, State: BudgetOK}
		spentAt := ""
		if b.Objective != nil {
			if h == nil {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("budget %s: its objective cannot be judged without the lifecycle ledger", b.Name))
			} else {
				spentAt = judgeObjective(&st, b, h, at, t)
			}
		}
		maxAge, _ := time.ParseDuration(b.MaxAge)
		var counted []int
		oldest := ""
		for i, f := range rep.Findings {
			if f.AcceptedBy != "" || t.Expected(f.DriftClass) || !budgetCounts(b, f) {
				continue
			}
			counted = append(counted, i)
			if f.FirstSeen != "" && (oldest == "" || f.FirstSeen < oldest) {
				oldest = f.FirstSeen
			}
		}
		st.Open = len(counted)
		if st.Open > 0 {
			st.State = BudgetBurning
		}
		if b.MaxOpen != nil && st.Open > *b.MaxOpen {
			st.State, st.Reason, st.Since = BudgetExhausted, fmt.Sprintf("%d open, at most %d allowed", st.Open, *b.MaxOpen), orNow(oldest, at)
		}
		if maxAge > 0 && st.Open > 0 {
			if oldest == "" {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("budget %s: maxAge %s cannot be judged without the lifecycle ledger (first sightings)", b.Name, b.MaxAge))
			} else if first, err := time.Parse(time.RFC3339, oldest); err == nil && at.Sub(first) > maxAge && st.State != BudgetExhausted {
				st.State, st.Reason, st.Since = BudgetExhausted, fmt.Sprintf("a drift open for %s, at most %s allowed", at.Sub(first).Truncate(time.Second), b.MaxAge),
					first.Add(maxAge).UTC().Format(time.RFC3339)
			}
		}
		if st.State != BudgetExhausted && st.BurnRate != "" {
			if burnSpent(st) {
				st.State, st.Reason, st.Since = BudgetExhausted, fmt.Sprintf("objective %s missed: %d of %d judgements bad, burn rate %s", st.Objective, st.Bad, st.Judged, st.BurnRate), orNow(spentAt, at)
			} else if st.Bad > 0 && st.State == BudgetOK {
				st.State = BudgetBurning
			}
		}
		if st.State == BudgetExhausted {
			for _, i := range counted {
				f := &rep.Findings[i]
				f.Explanation = joinSentences(f.Explanation, fmt.Sprintf("Blocking: drift budget %s is exhausted since %s (%s).", b.Name, st.Since, st.Reason))
				if !f.Blocking {
					f.Blocking = true
					rep.BlockingCount++
				}
			}
		}
		rep.Budgets = append(rep.Budgets, st)
	}
	if len(unit.Spec.Budgets) > 0 {
		rep.Summary = summarize(rep, t)
	}
}

func budgetCounts(b Budget, f Finding) bool {
	return (b.Domain == "" || b.Domain == f.Domain) && (b.Class == "" || Class(b.Class) == f.DriftClass) &&
		(b.MinRisk == "" || f.Risk.Level() >= Risk(b.MinRisk).Level())
}

func orNow(t string, at time.Time) string {
	if t != "" {
		return t
	}
	return at.UTC().Format(time.RFC3339)
}

// judgeObjective counts b's judgements in its objective window and its burn rates. Each drift the
// budget counts is judged when its outcome is known: its detection against DetectWithin (at its
// first sighting, where the change time is known), its resolution against MaxAge (when it
// resolved, or when it outlived MaxAge while still open); each time the unit went stale is one
// bad judgement. A drift still open within MaxAge is not judged yet.
//
// It returns when the window's error budget was spent: the first bad judgement in the window
// after which the cumulative burn reached 1 ("" when it was not).
func judgeObjective(st *BudgetState, b Budget, h *History, at time.Time, t *Table) (spentAt string) {
	target, err := ParseTarget(b.Objective.Target)
	window, werr := time.ParseDuration(b.Objective.Window)
	if err != nil || werr != nil || window <= 0 {
		return "" // validation refuses these before evaluation
	}
	window = min(window, MaxObjectiveWindow)
	st.Objective = fmt.Sprintf("%s%% over %s", b.Objective.Target, b.Objective.Window)
	maxAge, _ := time.ParseDuration(b.MaxAge)
	detect, _ := time.ParseDuration(b.DetectWithin)
	type judgement struct {
		at  time.Time
		bad bool
	}
	var js []judgement
	for _, l := range h.Lives {
		if t.Expected(l.Class) || !budgetCounts(b, Finding{Domain: l.Domain, DriftClass: l.Class, Risk: l.Risk}) {
			continue
		}
		if detect > 0 && !l.ChangedAt.IsZero() && !l.FirstSeen.Before(l.ChangedAt) {
			js = append(js, judgement{l.FirstSeen, l.FirstSeen.Sub(l.ChangedAt) > detect})
		}
		if maxAge > 0 {
			switch {
			case !l.ResolvedAt.IsZero():
				js = append(js, judgement{l.ResolvedAt, l.ResolvedAt.Sub(l.FirstSeen) > maxAge})
			case at.Sub(l.FirstSeen) > maxAge:
				js = append(js, judgement{l.FirstSeen.Add(maxAge), true})
			}
		}
	}
	for _, s := range h.StaleSince {
		js = append(js, judgement{s, true})
	}
	rate := func(w time.Duration) (judged, bad int, r string) {
		from := at.Add(-w)
		for _, j := range js {
			if j.at.After(from) && !j.at.After(at) {
				judged++
				if j.bad {
					bad++
				}
			}
		}
		return judged, bad, burnRate(judged, bad, target)
	}
	st.Judged, st.Bad, st.BurnRate = rate(window)
	for _, w := range BurnWindows() {
		_, _, r := rate(w)
		st.BurnRates = append(st.BurnRates, BurnRate{Window: shortDuration(w), Rate: r})
	}
	sort.SliceStable(js, func(i, j int) bool { return js[i].at.Before(js[j].at) })
	judged, bad := 0, 0
	for _, j := range js {
		if !j.at.After(at.Add(-window)) || j.at.After(at) {
			continue
		}
		judged++
		if j.bad {
			bad++
			if burnSpent(BudgetState{BurnRate: burnRate(judged, bad, target)}) {
				return j.at.UTC().Format(time.RFC3339)
			}
		}
	}
	return ""
}

// BurnRate is one window's burn rate (the API's type).
type BurnRate = v1alpha1.BurnRate

// burnRate is the bad share over the share the target allows, with two decimals; "inf" when
// the target allows none and one was bad.
func burnRate(judged, bad int, target float64) string {
	if judged == 0 || bad == 0 {
		return "0.00"
	}
	allowed := 1 - target/100
	if allowed <= 0 {
		return "inf"
	}
	return strconv.FormatFloat(float64(bad)/float64(judged)/allowed, 'f', 2, 64)
}

// burnSpent says the objective's error budget is spent over its window: the window's burn rate
// is at least 1.
func burnSpent(st BudgetState) bool {
	if st.BurnRate == "inf" {
		return true
	}
	r, err := strconv.ParseFloat(st.BurnRate, 64)
	return err == nil && r >= 1
}

// shortDuration writes 5m, 1h, 1d, 3d rather than Go's 5m0s, 1h0m0s, 24h0m0s.
func shortDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
}
