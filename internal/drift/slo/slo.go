// Package slo computes the drift SLIs from the lifecycle ledger for a window and a grouping:
// drift events per day (M1), time to detect (M2), time to remediate (M4), share remediated
// automatically (M5), the share of drift that is meaningful rather than noise (M10), the share
// detected within its risk's SLA, what is open at the window's end, and which units are stale
// (no successful evaluation recently: never counted as clean). It reads the ledger one record at
// a time.
package slo

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

// Groupings are the values of Options.By besides "" (everything together).
var Groupings = []string{"unit", "owner", "domain", "environment", "class", "risk"}

// Options choose the window and the grouping.
type Options struct {
	From, To time.Time
	// By is "" (everything together), unit, owner, domain, environment, class or risk.
	By string
	// StaleAfter: a unit whose last successful evaluation is older than this at To is stale.
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

// Row is the SLIs of one group.
type Row struct {
	Group             string   `json:"group"`
	Events            int      `json:"drift_events"`
	EventsPerDay      float64  `json:"drift_events_per_day"`
	TimeToDetect      Stat     `json:"time_to_detect"`
	DetectedWithinSLA *float64 `json:"detected_within_sla_pct"`
	TimeToRemediate   Stat     `json:"time_to_remediate"`
	Resolved          int      `json:"resolved"`
	Accepted          int      `json:"accepted"`
	Reopened          int      `json:"reopened"`
	AutoRemediated    *float64 `json:"auto_remediated_pct"`
	Meaningful        *float64 `json:"meaningful_pct"`
	Open              int      `json:"open"`

	detect, remediate     []time.Duration
	slaCounted, slaWithin int
	healed, meaningful    int
}

// UnitState is one unit's freshness.
type UnitState struct {
	Unit string `json:"unit"`
	// LastEvaluated is its last successful evaluation at or before To ("" when none).
	LastEvaluated string `json:"last_evaluated,omitempty"`
	Stale         bool   `json:"stale"`
}

// Report is the SLIs of a window.
type Report struct {
	From  string      `json:"from"`
	To    string      `json:"to"`
	By    string      `json:"by,omitempty"`
	Rows  []Row       `json:"rows"`
	Units []UnitState `json:"units"`
	// NotComputed names the SLIs the ledger cannot give yet, and why.
	NotComputed map[string]string `json:"not_computed"`
}

// notComputed are the seed's SLIs the ledger does not hold the inputs for: reported as such,
// never as zero.
func notComputed() map[string]string {
	return map[string]string{
		"M3 time to classify":       "classification happens at detection: equal to time to detect",
		"M6 reconcile failure rate": "needs reconcile attempts, which the ledger does not record yet",
		"M7 inventory coverage":     "needs the expected inventory per unit",
		"M8 unowned/orphaned":       "needs the unmanaged-object scan",
		"M9 policy violation rate":  "needs policy drift detection",
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
		o.StaleAfter = 24 * time.Hour
	}
	table := o.Table
	if table == nil {
		table = drift.DefaultTable()
	}
	units, err := ledger.Units(ctx, s)
	if err != nil {
		return nil, err
	}
	rows := map[string]*Row{}
	row := func(g string) *Row {
		r := rows[g]
		if r == nil {
			r = &Row{Group: g}
			rows[g] = r
		}
		return r
	}
	rep := &Report{From: o.From.UTC().Format(time.RFC3339), To: o.To.UTC().Format(time.RFC3339), By: o.By, NotComputed: notComputed(), Units: []UnitState{}}
	for _, unit := range units {
		var last *ledger.Record
		lastOK := ""
		err := ledger.Walk(ctx, s, unit, func(key string, r *ledger.Record) error {
			at, err := time.Parse(time.RFC3339, r.EvaluatedAt)
			if err != nil {
				// A record that cannot be placed in time cannot be left out quietly either.
				return fmt.Errorf("ledger record %s: evaluated_at %q is not an RFC 3339 time", key, r.EvaluatedAt)
			}
			if !at.Before(o.To) {
				return nil
			}
			last = r
			if r.Status != "unknown" {
				lastOK = r.EvaluatedAt
			}
			if at.Before(o.From) {
				return nil
			}
			for _, e := range r.Events {
				g := row(groupOf(o.By, unit, e.Owner, e.Domain, e.Environment, e.DriftClass, e.Risk))
				tally(g, e, table)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if last != nil {
			for _, e := range last.Open {
				if e.AcceptedBy == "" && !table.Expected(drift.Class(e.DriftClass)) {
					row(groupOf(o.By, unit, e.Owner, e.Domain, e.Environment, e.DriftClass, e.Risk)).Open++
				}
			}
		}
		st := UnitState{Unit: unit, LastEvaluated: lastOK, Stale: true}
		if t, err := time.Parse(time.RFC3339, lastOK); err == nil && o.To.Sub(t) <= o.StaleAfter {
			st.Stale = false
		}
		rep.Units = append(rep.Units, st)
	}
	days := o.To.Sub(o.From).Hours() / 24
	rep.Rows = []Row{}
	for _, r := range rows {
		r.EventsPerDay = float64(r.Events) / days
		r.TimeToDetect, r.TimeToRemediate = stat(r.detect), stat(r.remediate)
		r.DetectedWithinSLA = pct(r.slaWithin, r.slaCounted)
		r.AutoRemediated = pct(r.healed, r.Resolved)
		r.Meaningful = pct(r.meaningful, r.Events)
		rep.Rows = append(rep.Rows, *r)
	}
	sort.Slice(rep.Rows, func(i, j int) bool { return rep.Rows[i].Group < rep.Rows[j].Group })
	return rep, nil
}

func tally(g *Row, e ledger.Event, table *drift.Table) {
	at, _ := time.Parse(time.RFC3339, e.At)
	first, firstErr := time.Parse(time.RFC3339, e.FirstSeen)
	switch e.Kind {
	case ledger.EventAppeared:
		g.Events++
		if !table.Expected(drift.Class(e.DriftClass)) {
			g.meaningful++
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

func ValidGrouping(by string) bool {
	return by == "" || slices.Contains(Groupings, by)
}

func stat(ds []time.Duration) Stat {
	if len(ds) == 0 {
		return Stat{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
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
