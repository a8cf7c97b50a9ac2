package drift

import (
	"fmt"
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

// ApplyBudgets judges the unit's drift budgets on a report whose findings carry their lifecycle
// (FirstSeen, from the ledger) and escalates: every finding an exhausted budget counts blocks,
// whatever the gate, and says which budget and since when. A maxAge that cannot be judged (no
// first sighting: no ledger) is a warning, never a pass presented as ok.
func ApplyBudgets(rep *Report, unit *ManagedUnit, at time.Time, t *Table) {
	if t == nil {
		t = DefaultTable()
	}
	for _, b := range unit.Spec.Budgets {
		st := BudgetState{Name: b.Name, State: BudgetOK}
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
