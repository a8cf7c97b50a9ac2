// Package slo computes the drift SLIs (the seed's M1–M10) from the lifecycle ledger for a window
// and a grouping, with each unit's drift budgets as its newest evaluation judged them and the
// units that are stale (no successful evaluation within what their schedule allows: never
// counted as clean, and their budgets exhausted).
//
// It streams: a unit's keys say each record's kind and time, so quiet records (no transition)
// are never opened; only records with transitions inside the window, and each unit's newest
// record at the window's end, are read, one at a time.
package slo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

// Groupings are the values of Options.By besides "" (everything together).
var Groupings = []string{"unit", "owner", "domain", "environment", "class", "risk"}

// DefaultStaleAfter is how long a unit whose records name no schedule may go without a
// successful evaluation.
const DefaultStaleAfter = 24 * time.Hour

// Options choose the window and the grouping.
type Options struct {
	// From and To bound the window (From, To]: a transition at To is in it, one at From is in
	// the window before, so consecutive windows count each transition once.
	From, To time.Time
	// By is "" (everything together), unit, owner, domain, environment, class or risk.
	By string
	// StaleAfter applies to units whose records carry no stale_after (no schedule):
	// DefaultStaleAfter when 0.
	StaleAfter time.Duration
	// Table gives the detection SLA per risk and the expected classes (drift.DefaultTable when nil).
	Table *drift.Table
}

// Stat summarises durations.
type Stat struct {
	Count         int     `json:"count"`
	MedianSeconds float64 `json:"median_seconds"`
	P95Seconds    float64 `json:"p95_seconds"`
}

// OpenDrift names one drift open at the window's end.
type OpenDrift struct {
	Unit        string `json:"unit"`
	ResourceRef string `json:"resource_ref"`
	DriftClass  string `json:"drift_class"`
	FirstSeen   string `json:"first_seen"`
	AgeSeconds  int64  `json:"age_seconds"`
}

// Resolutions are the ways a drift ends, as Row.Resolutions counts them.
var Resolutions = []string{ledger.ResolutionReverted, ledger.ResolutionHealed, ledger.ResolutionAccepted,
	ledger.ResolutionAcceptedIntoGit, ledger.ResolutionStateRefreshed, ledger.ResolutionResourceDeleted}

// Row is the SLIs of one group.
type Row struct {
	Group string `json:"group"`
	// M1: drifts that appeared in the window, and per day.
	Events       int     `json:"drift_events"`
	EventsPerDay float64 `json:"drift_events_per_day"`
	// M2: change (audit source) to first sighting, and the share within its risk's SLA.
	TimeToDetect      Stat     `json:"time_to_detect"`
	DetectedWithinSLA *float64 `json:"detected_within_sla_pct"`
	// M3: change to classification; driftplane classifies when it detects (Report.Notes).
	TimeToClassify Stat `json:"time_to_classify"`
	// M4: first sighting to the end of the drift, for drifts that ended other than by exception.
	TimeToRemediate Stat `json:"time_to_remediate"`
	Resolved        int  `json:"resolved"`
	Accepted        int  `json:"accepted"`
	Reopened        int  `json:"reopened"`
	// Resolutions counts the ends by kind (Resolutions), accepted included.
	Resolutions map[string]int `json:"resolutions"`
	// M5: the share of remediated drifts that auto-heal remediated.
	AutoRemediated *float64 `json:"auto_remediated_pct"`
	// M8: unaccepted, meaningful drift open at the window's end whose unit names no owner.
	Unowned int `json:"unowned_open"`
	// M9: POLICY_DRIFT among the drifts that appeared.
	PolicyViolations    int      `json:"policy_violations"`
	PolicyViolationRate *float64 `json:"policy_violation_pct"`
	// M10: the share of drifts that appeared that are meaningful (not an expected class).
	Meaningful *float64 `json:"meaningful_pct"`
	// Open is the unaccepted, meaningful drift open at the window's end; LongestOpen the oldest.
	Open        int        `json:"open"`
	LongestOpen *OpenDrift `json:"longest_open,omitempty"`

	// M6 and M7 are properties of units, not of drifts: filled when rows are whole units
	// (everything together, or by unit, owner or environment), null otherwise.
	ReconcileFailureRate *float64 `json:"reconcile_failure_pct"`
	InventoryCoverage    *float64 `json:"inventory_coverage_pct"`

	detect, remediate                     []time.Duration
	slaCounted, slaWithin                 int
	healed, meaningful                    int
	reconcilesAttempted, reconcilesFailed int
	inventoryExpected, inventoryObserved  int
}

// UnitState is one unit's freshness at the window's end.
type UnitState struct {
	Unit string `json:"unit"`
	// LastEvaluated is its last successful evaluation at or before To ("" when none).
	LastEvaluated string `json:"last_evaluated,omitempty"`
	// StaleAfter is the bound applied: from the unit's schedule, or the default.
	StaleAfter string `json:"stale_after"`
	Stale      bool   `json:"stale"`
	// StaleSince is when it went stale ("" when fresh or never evaluated successfully).
	StaleSince string `json:"stale_since,omitempty"`
	// Reconciles are the reconciliations asked for in the window and how many failed (M6).
	Reconciles *ledger.Reconciles `json:"reconciles,omitempty"`
	// Inventory is what its newest successful evaluation by To expected and observed (M7).
	Inventory *drift.Inventory `json:"inventory,omitempty"`
}

// UnitBudget is one of a unit's budgets as its newest successful evaluation at or before To
// judged it, exhausted when the unit is stale.
type UnitBudget struct {
	Unit string `json:"unit"`
	drift.BudgetState
}

// Summary counts what makes `driftplane slo` fail.
type Summary struct {
	Units            int `json:"units"`
	StaleUnits       int `json:"stale_units"`
	Budgets          int `json:"budgets"`
	BudgetsBurning   int `json:"budgets_burning"`
	BudgetsExhausted int `json:"budgets_exhausted"`
	// M6: reconciliations (auto-heal syncs, by finding) asked for in the window, how many
	// failed, and the failure rate (null when none was asked for).
	ReconcilesAttempted  int      `json:"reconciles_attempted"`
	ReconcilesFailed     int      `json:"reconciles_failed"`
	ReconcileFailureRate *float64 `json:"reconcile_failure_pct"`
	// M7: the resources the units declare and the share their newest evaluations observed.
	InventoryExpected int      `json:"inventory_expected"`
	InventoryObserved int      `json:"inventory_observed"`
	InventoryCoverage *float64 `json:"inventory_coverage_pct"`
}

// Report is the SLIs of a window.
type Report struct {
	From    string       `json:"from"`
	To      string       `json:"to"`
	By      string       `json:"by,omitempty"`
	Summary Summary      `json:"summary"`
	Rows    []Row        `json:"rows"`
	Budgets []UnitBudget `json:"budgets"`
	Units   []UnitState  `json:"units"`
	// Notes say how an SLI is computed where the name alone could mislead.
	Notes map[string]string `json:"notes"`
}

// Breached reports whether a budget is exhausted or a unit stale: `driftplane slo` then exits 2.
func (r *Report) Breached() bool {
	return r.Summary.StaleUnits > 0 || r.Summary.BudgetsExhausted > 0
}

func notes() map[string]string {
	return map[string]string{
		"M6 reconcile failure rate": "a property of units: per row when rows are whole units (all, --by unit, owner or environment), and per unit: the reconciliations (auto-heal syncs, counted by finding) the reporter asked for and the share that failed",
		"M7 inventory coverage":     "a property of units: per row when rows are whole units (all, --by unit, owner or environment), and per unit, at the window's end: the resources each unit's newest successful evaluation expected (the state's, or the objects its manifests declare) and the share it found running",
		"M3 time to classify":       "driftplane classifies a drift when it detects it, so time to classify is first_seen − changed_at, like time to detect",
		"M8 unowned":                "open, unaccepted, meaningful drift at the window's end whose unit names no owner (empty or \"unowned\")",
		"M9 policy violation":       "POLICY_DRIFT among the drifts that appeared in the window",
		"stale":                     "a unit with no successful evaluation within its schedule's bound (or --stale-after) is stale, never clean, and its budgets count as exhausted",
	}
}

// Compute reads every unit's ledger in s and returns the SLIs of the window.
func Compute(ctx context.Context, s ledger.Store, o Options) (*Report, error) {
	if !ValidGrouping(o.By) {
		return nil, fmt.Errorf("--by %q: want one of %s", o.By, strings.Join(Groupings, ", "))
	}
	if !o.From.Before(o.To) {
		return nil, fmt.Errorf("empty window: from %s is not before to %s", o.From.Format(time.RFC3339), o.To.Format(time.RFC3339))
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.Table == nil {
		o.Table = drift.DefaultTable()
	}
	units, err := ledger.Units(ctx, s)
	if err != nil {
		return nil, err
	}
	rep := &Report{From: o.From.UTC().Format(time.RFC3339), To: o.To.UTC().Format(time.RFC3339), By: o.By,
		Notes: notes(), Units: []UnitState{}, Budgets: []UnitBudget{}, Rows: []Row{}}
	c, err := computeUnits(ctx, s, o, units)
	if err != nil {
		return nil, err
	}
	for _, u := range c.units {
		rep.Units = append(rep.Units, u.state)
		rep.Budgets = append(rep.Budgets, u.budgets...)
	}
	days := o.To.Sub(o.From).Hours() / 24
	for _, r := range c.rows {
		r.EventsPerDay = float64(r.Events) / days
		r.TimeToDetect, r.TimeToRemediate = stat(r.detect), stat(r.remediate)
		r.TimeToClassify = r.TimeToDetect
		r.DetectedWithinSLA = pct(r.slaWithin, r.slaCounted)
		r.AutoRemediated = pct(r.healed, r.Resolved)
		r.Meaningful = pct(r.meaningful, r.Events)
		r.PolicyViolationRate = pct(r.PolicyViolations, r.Events)
		r.ReconcileFailureRate = pct(r.reconcilesFailed, r.reconcilesAttempted)
		r.InventoryCoverage = pct(r.inventoryObserved, r.inventoryExpected)
		rep.Rows = append(rep.Rows, *r)
	}
	sort.Slice(rep.Rows, func(i, j int) bool { return rep.Rows[i].Group < rep.Rows[j].Group })
	sort.Slice(rep.Units, func(i, j int) bool { return rep.Units[i].Unit < rep.Units[j].Unit })
	sort.SliceStable(rep.Budgets, func(i, j int) bool {
		a, b := rep.Budgets[i], rep.Budgets[j]
		return a.Unit < b.Unit || a.Unit == b.Unit && a.Name < b.Name
	})
	rep.Summary = Summary{Units: len(rep.Units), Budgets: len(rep.Budgets)}
	for _, u := range rep.Units {
		if u.Stale {
			rep.Summary.StaleUnits++
		}
		if u.Reconciles != nil {
			rep.Summary.ReconcilesAttempted += u.Reconciles.Attempted
			rep.Summary.ReconcilesFailed += u.Reconciles.Failed
		}
		if u.Inventory != nil {
			rep.Summary.InventoryExpected += u.Inventory.Expected
			rep.Summary.InventoryObserved += u.Inventory.Observed
		}
	}
	rep.Summary.InventoryCoverage = pct(rep.Summary.InventoryObserved, rep.Summary.InventoryExpected)
	rep.Summary.ReconcileFailureRate = pct(rep.Summary.ReconcilesFailed, rep.Summary.ReconcilesAttempted)
	for _, b := range rep.Budgets {
		switch b.State {
		case drift.BudgetExhausted:
			rep.Summary.BudgetsExhausted++
		case drift.BudgetBurning:
			rep.Summary.BudgetsBurning++
		}
	}
	return rep, nil
}

// computation is one Compute's rows, filled unit by unit, and each unit's state and budgets.
type computation struct {
	o     Options
	rows  map[string]*Row
	units []unitResult
}

type unitResult struct {
	state   UnitState
	budgets []UnitBudget
}

// Workers is how many units Compute reads at once: listing and reading an S3 ledger wait on
// the network far more than they compute.
const Workers = 8

// computeUnits reads the units with Workers workers, each tallying into its own rows, merged at
// the end: every statistic is a count, a sorted set of durations or an ordered maximum, so the
// result does not depend on which worker read which unit. The first error stops the others;
// of the errors that happened, the first unit's is returned.
func computeUnits(ctx context.Context, s ledger.Store, o Options, units []string) (*computation, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]unitResult, len(units))
	errs := make([]error, len(units))
	next := make(chan int)
	workers := make([]*computation, min(Workers, max(1, len(units))))
	var wg sync.WaitGroup
	for w := range workers {
		c := &computation{o: o, rows: map[string]*Row{}}
		workers[w] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				st, budgets, err := c.unit(ctx, s, units[i])
				if err != nil {
					errs[i] = err
					cancel()
					continue
				}
				results[i] = unitResult{st, budgets}
			}
		}()
	}
	for i := range units {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		// Cancelled by the caller (ours only follows an error returned above).
		return nil, err
	}
	all := &computation{o: o, rows: map[string]*Row{}, units: results}
	for _, w := range workers {
		for g, r := range w.rows {
			all.row(g).merge(r)
		}
	}
	return all, nil
}

// merge adds src's tallies to r.
func (r *Row) merge(src *Row) {
	r.Events += src.Events
	r.Resolved += src.Resolved
	r.Accepted += src.Accepted
	r.Reopened += src.Reopened
	for k, n := range src.Resolutions {
		r.Resolutions[k] += n
	}
	r.Unowned += src.Unowned
	r.PolicyViolations += src.PolicyViolations
	r.Open += src.Open
	if src.LongestOpen != nil && (r.LongestOpen == nil || older(*src.LongestOpen, *r.LongestOpen)) {
		r.LongestOpen = src.LongestOpen
	}
	r.detect = append(r.detect, src.detect...)
	r.remediate = append(r.remediate, src.remediate...)
	r.slaCounted += src.slaCounted
	r.slaWithin += src.slaWithin
	r.healed += src.healed
	r.meaningful += src.meaningful
	r.reconcilesAttempted += src.reconcilesAttempted
	r.reconcilesFailed += src.reconcilesFailed
	r.inventoryExpected += src.inventoryExpected
	r.inventoryObserved += src.inventoryObserved
}

// unitLevel says whether rows grouped by by are whole units, so unit-level SLIs (M6, M7) can
// be given per row.
func unitLevel(by string) bool {
	return by == "" || by == "unit" || by == "owner" || by == "environment"
}

func (c *computation) row(g string) *Row {
	r := c.rows[g]
	if r == nil {
		r = &Row{Group: g, Resolutions: map[string]int{}}
		for _, k := range Resolutions {
			r.Resolutions[k] = 0
		}
		c.rows[g] = r
	}
	return r
}

// unit tallies one unit's transitions in the window, its open drift at the window's end, its
// freshness and its budgets. Quiet records are known by their keys alone and never read.
func (c *computation) unit(ctx context.Context, s ledger.Store, unit string) (UnitState, []UnitBudget, error) {
	infos, err := ledger.Keys(ctx, s, unit)
	if err != nil {
		return UnitState{}, nil, err
	}
	// The newest successful record at or before To carries the open drift at the window's end,
	// the budgets and stale_after; unknown records only carry the open drift forward unchanged,
	// so they count for freshness alone and are never read. Records with transitions are read
	// for them alone (ledger.ReadTransitions); only the newest successful one is read whole.
	newestOK := -1
	var reconciles ledger.Reconciles
	for i, info := range infos {
		if info.EvaluatedAt.After(c.o.To) {
			continue // sequence orders keys; a clock that went back must not end the walk early
		}
		kind := info.Kind
		inWindow := info.EvaluatedAt.After(c.o.From)
		if kind == "" || kind == ledger.KindEvents && inWindow {
			r, err := ledger.ReadTransitions(ctx, s, unit, info)
			if err != nil {
				return UnitState{}, nil, err
			}
			kind = r.Kind()
			if kind == ledger.KindEvents && inWindow {
				if rc := r.Reconciles; rc != nil {
					reconciles.Attempted += rc.Attempted
					reconciles.Failed += rc.Failed
					if unitLevel(c.o.By) {
						g := c.row(groupOf(c.o.By, unit, r.Owner, "", r.Environment, "", ""))
						g.reconcilesAttempted += rc.Attempted
						g.reconcilesFailed += rc.Failed
					}
				}
				for _, e := range r.Events {
					c.tally(c.row(groupOf(c.o.By, unit, e.Owner, e.Domain, e.Environment, e.DriftClass, e.Risk)), e)
				}
			}
		}
		if kind != ledger.KindUnknown {
			newestOK = i
		}
	}
	st := UnitState{Unit: unit, StaleAfter: c.o.StaleAfter.String(), Stale: true}
	if reconciles.Attempted > 0 {
		st.Reconciles = &reconciles
	}
	if newestOK < 0 {
		return st, nil, nil // no successful evaluation by To: stale, nothing known to be open
	}
	ok, err := ledger.Read(ctx, s, unit, infos[newestOK])
	if err != nil {
		return UnitState{}, nil, err
	}
	c.openAt(unit, ok)
	st.Inventory = ok.Inventory
	if inv := ok.Inventory; inv != nil && unitLevel(c.o.By) {
		g := c.row(groupOf(c.o.By, unit, ok.Owner, "", ok.Environment, "", ""))
		g.inventoryExpected += inv.Expected
		g.inventoryObserved += inv.Observed
	}
	bound := c.o.StaleAfter
	if ok.StaleAfter != "" {
		if bound, err = time.ParseDuration(ok.StaleAfter); err != nil || bound <= 0 {
			return UnitState{}, nil, fmt.Errorf("ledger record %s: stale_after %q is not a positive duration", infos[newestOK].Key, ok.StaleAfter)
		}
	}
	lastOK := infos[newestOK].EvaluatedAt
	st.LastEvaluated, st.StaleAfter = lastOK.UTC().Format(time.RFC3339), bound.String()
	st.Stale = c.o.To.Sub(lastOK) > bound
	if st.Stale {
		st.StaleSince = lastOK.Add(bound).UTC().Format(time.RFC3339)
	}
	budgets := make([]UnitBudget, 0, len(ok.Budgets))
	for _, b := range ok.Budgets {
		if st.Stale {
			// What is not observed cannot be within budget: a stale unit spends it.
			reason := "stale since " + st.StaleSince
			if b.Reason != "" {
				reason += "; last judged: " + b.Reason
			}
			b.State, b.Reason, b.Since = drift.BudgetExhausted, reason, st.StaleSince
		}
		budgets = append(budgets, UnitBudget{Unit: unit, BudgetState: b})
	}
	return st, budgets, nil
}

// openAt counts the drift r leaves open at the window's end.
func (c *computation) openAt(unit string, r *ledger.Record) {
	for _, e := range r.Open {
		if e.AcceptedBy != "" || c.o.Table.Expected(drift.Class(e.DriftClass)) {
			continue
		}
		g := c.row(groupOf(c.o.By, unit, e.Owner, e.Domain, e.Environment, e.DriftClass, e.Risk))
		g.Open++
		if o := strings.TrimSpace(e.Owner); o == "" || strings.EqualFold(o, "unowned") {
			g.Unowned++
		}
		d := OpenDrift{Unit: unit, ResourceRef: e.ResourceRef, DriftClass: e.DriftClass, FirstSeen: e.FirstSeen, AgeSeconds: int64(e.Age(c.o.To).Seconds())}
		if g.LongestOpen == nil || older(d, *g.LongestOpen) {
			g.LongestOpen = &d
		}
	}
}

// older orders open drifts by age, then by name, so the longest-running one is the same
// whatever order units are read in.
func older(a, b OpenDrift) bool {
	if a.AgeSeconds != b.AgeSeconds {
		return a.AgeSeconds > b.AgeSeconds
	}
	if a.Unit != b.Unit {
		return a.Unit < b.Unit
	}
	if a.ResourceRef != b.ResourceRef {
		return a.ResourceRef < b.ResourceRef
	}
	return a.DriftClass < b.DriftClass
}

func (c *computation) tally(g *Row, e ledger.Event) {
	table := c.o.Table
	at, _ := time.Parse(time.RFC3339, e.At)
	first, firstErr := time.Parse(time.RFC3339, e.FirstSeen)
	switch e.Kind {
	case ledger.EventAppeared:
		g.Events++
		if !table.Expected(drift.Class(e.DriftClass)) {
			g.meaningful++
		}
		if e.DriftClass == string(drift.ClassPolicy) {
			g.PolicyViolations++
		}
		if changed, err := time.Parse(time.RFC3339, e.ChangedAt); err == nil && firstErr == nil && !first.Before(changed) {
			d := first.Sub(changed)
			g.detect = append(g.detect, d)
			if sla := table.DetectionSLAFor(drift.Risk(e.Risk)); sla > 0 {
				g.slaCounted++
				if d <= sla {
					g.slaWithin++
				}
			}
		}
	case ledger.EventReopened:
		g.Reopened++
	case ledger.EventResolved:
		g.Resolutions[e.Resolution]++
		if e.Resolution == ledger.ResolutionAccepted {
			g.Accepted++
			return
		}
		g.Resolved++
		if e.Resolution == ledger.ResolutionHealed {
			g.healed++
		}
		if firstErr == nil && !at.Before(first) {
			g.remediate = append(g.remediate, at.Sub(first))
		}
	}
}

func groupOf(by, unit, owner, domain, env, class, risk string) string {
	switch by {
	case "unit":
		return unit
	case "owner":
		return owner
	case "domain":
		return domain
	case "environment":
		return env
	case "class":
		return class
	case "risk":
		return risk
	}
	return "all"
}

// ValidGrouping reports whether by is "" or one of Groupings.
func ValidGrouping(by string) bool {
	return by == "" || slices.Contains(Groupings, by)
}

func stat(ds []time.Duration) Stat {
	if len(ds) == 0 {
		return Stat{}
	}
	slices.Sort(ds)
	at := func(q float64) float64 { return ds[int(q*float64(len(ds)-1)+0.5)].Seconds() }
	return Stat{Count: len(ds), MedianSeconds: at(0.5), P95Seconds: at(0.95)}
}

func pct(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := 100 * float64(n) / float64(of)
	return &v
}
