package slo

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats Write knows.
var Formats = []string{"table", "json", "markdown"}

// Write prints rep as a table, JSON or Markdown: the SLIs per group (timings, then counts and
// resolutions), the budgets, the stale units, reconciliations (M6), inventory coverage (M7) and
// the notes.
func Write(w io.Writer, format string, rep *Report) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "table", "":
		fmt.Fprintf(w, "drift SLIs from %s to %s\n", rep.From, rep.To)
		for _, t := range tables(rep) {
			fmt.Fprintf(w, "\n%s\n", t.title)
			if len(t.rows) == 0 {
				fmt.Fprintln(w, "(none)")
				continue
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, strings.Join(t.header, "\t"))
			for _, r := range t.rows {
				fmt.Fprintln(tw, strings.Join(r, "\t"))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		writeTail(w, rep, "")
		return nil
	case "markdown":
		fmt.Fprintf(w, "### Drift SLIs, %s to %s\n", rep.From, rep.To)
		for _, t := range tables(rep) {
			fmt.Fprintf(w, "\n#### %s\n\n", t.title)
			if len(t.rows) == 0 {
				fmt.Fprintln(w, "(none)")
				continue
			}
			fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(t.header, " | "), strings.Repeat("---|", len(t.header)))
			for _, r := range t.rows {
				esc := make([]string, len(r))
				for i, c := range r {
					esc[i] = strings.ReplaceAll(c, "|", `\|`)
				}
				fmt.Fprintf(w, "| %s |\n", strings.Join(esc, " | "))
			}
		}
		writeTail(w, rep, "- ")
		return nil
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

type table struct {
	title  string
	header []string
	rows   [][]string
}

func tables(rep *Report) []table {
	group := "group"
	if rep.By != "" {
		group = rep.By
	}
	timing := table{title: "SLIs (M1–M7, M9, M10)", header: []string{group, "events/day", "detect p50", "detect p95", "within SLA",
		"classify p50", "remediate p50", "remediate p95", "auto-healed", "reconcile failed", "coverage", "policy", "meaningful"}}
	counts := table{title: "Open drift at the window's end and resolutions (M8)", header: []string{group, "open", "unowned", "longest open", "reopened"}}
	counts.header = append(counts.header, Resolutions...)
	for _, r := range rep.Rows {
		timing.rows = append(timing.rows, []string{r.Group, fmt.Sprintf("%.2f", r.EventsPerDay),
			dur(r.TimeToDetect, r.TimeToDetect.MedianSeconds), dur(r.TimeToDetect, r.TimeToDetect.P95Seconds), percent(r.DetectedWithinSLA),
			dur(r.TimeToClassify, r.TimeToClassify.MedianSeconds),
			dur(r.TimeToRemediate, r.TimeToRemediate.MedianSeconds), dur(r.TimeToRemediate, r.TimeToRemediate.P95Seconds),
			percent(r.AutoRemediated), percent(r.ReconcileFailureRate), percent(r.InventoryCoverage), percent(r.PolicyViolationRate), percent(r.Meaningful)})
		longest := "-"
		if l := r.LongestOpen; l != nil {
			longest = fmt.Sprintf("%s %s/%s (since %s)", time.Duration(l.AgeSeconds)*time.Second, l.Unit, l.ResourceRef, l.FirstSeen)
		}
		c := []string{r.Group, fmt.Sprint(r.Open), fmt.Sprint(r.Unowned), longest, fmt.Sprint(r.Reopened)}
		for _, k := range Resolutions {
			c = append(c, fmt.Sprint(r.Resolutions[k]))
		}
		counts.rows = append(counts.rows, c)
	}
	budgets := table{title: fmt.Sprintf("Budgets (%d exhausted, %d burning of %d)", rep.Summary.BudgetsExhausted, rep.Summary.BudgetsBurning, rep.Summary.Budgets),
		header: []string{"unit", "budget", "state", "burn rate", "judged/bad", "objective", "open", "since", "reason"}}
	for _, b := range rep.Budgets {
		judged := "-"
		if b.Objective != "" {
			judged = fmt.Sprintf("%d/%d", b.Judged, b.Bad)
		}
		budgets.rows = append(budgets.rows, []string{b.Unit, b.Name, b.State, or(b.BurnRate), judged, or(b.Objective), fmt.Sprint(b.Open), or(b.Since), or(b.Reason)})
	}
	stale := table{title: fmt.Sprintf("Stale units (%d of %d: never counted as clean)", rep.Summary.StaleUnits, rep.Summary.Units),
		header: []string{"unit", "last successful evaluation", "stale after", "stale since"}}
	for _, u := range rep.Units {
		if u.Stale {
			last := u.LastEvaluated
			if last == "" {
				last = "never"
			}
			stale.rows = append(stale.rows, []string{u.Unit, last, u.StaleAfter, or(u.StaleSince)})
		}
	}
	reconciles := table{title: "Reconciliations (M6: auto-heal syncs by finding)", header: []string{"unit", "attempted", "failed", "failure rate"}}
	for _, u := range rep.Units {
		if u.Reconciles != nil {
			reconciles.rows = append(reconciles.rows, []string{u.Unit, fmt.Sprint(u.Reconciles.Attempted), fmt.Sprint(u.Reconciles.Failed),
				percent(pct(u.Reconciles.Failed, u.Reconciles.Attempted))})
		}
	}
	if rep.Summary.ReconcilesAttempted > 0 {
		reconciles.rows = append(reconciles.rows, []string{"all", fmt.Sprint(rep.Summary.ReconcilesAttempted), fmt.Sprint(rep.Summary.ReconcilesFailed), percent(rep.Summary.ReconcileFailureRate)})
	}
	inventory := table{title: "Inventory coverage (M7: observed / expected at the window's end)", header: []string{"unit", "expected", "observed", "coverage"}}
	for _, u := range rep.Units {
		if u.Inventory != nil {
			inventory.rows = append(inventory.rows, []string{u.Unit, fmt.Sprint(u.Inventory.Expected), fmt.Sprint(u.Inventory.Observed),
				percent(pct(u.Inventory.Observed, u.Inventory.Expected))})
		}
	}
	if rep.Summary.InventoryExpected > 0 {
		inventory.rows = append(inventory.rows, []string{"all", fmt.Sprint(rep.Summary.InventoryExpected), fmt.Sprint(rep.Summary.InventoryObserved), percent(rep.Summary.InventoryCoverage)})
	}
	return []table{timing, counts, budgets, stale, reconciles, inventory}
}

// writeTail prints the notes: how an SLI is computed where its name alone could mislead.
func writeTail(w io.Writer, rep *Report, bullet string) {
	for _, sec := range []struct {
		title string
		m     map[string]string
	}{{"notes", rep.Notes}} {
		keys := make([]string, 0, len(sec.m))
		for k := range sec.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "\n%s:\n", sec.title)
		for _, k := range keys {
			fmt.Fprintf(w, "%s%s: %s\n", bullet, k, sec.m[k])
		}
	}
}

func or(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dur(s Stat, seconds float64) string {
	if s.Count == 0 {
		return "-"
	}
	return (time.Duration(seconds * float64(time.Second))).Round(time.Second).String()
}

func percent(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", *p)
}
