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

// Write prints rep as a table, JSON or Markdown.
func Write(w io.Writer, format string, rep *Report) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "table", "":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "drift SLIs from %s to %s\n\n", rep.From, rep.To)
		fmt.Fprintln(tw, strings.Join(header(rep), "\t"))
		for _, r := range rep.Rows {
			fmt.Fprintln(tw, strings.Join(cells(r), "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		writeUnits(w, rep, "")
		return nil
	case "markdown":
		fmt.Fprintf(w, "### Drift SLIs, %s to %s\n\n| %s |\n|%s\n", rep.From, rep.To, strings.Join(header(rep), " | "), strings.Repeat("---|", len(header(rep))))
		for _, r := range rep.Rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells(r), " | "))
		}
		writeUnits(w, rep, "- ")
		return nil
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

func header(rep *Report) []string {
	group := "group"
	if rep.By != "" {
		group = rep.By
	}
	return []string{group, "events/day", "detect p50", "detect p95", "within SLA", "remediate p50", "remediate p95", "auto-healed", "meaningful", "open", "reopened", "accepted"}
}

func cells(r Row) []string {
	return []string{r.Group, fmt.Sprintf("%.2f", r.EventsPerDay), dur(r.TimeToDetect, r.TimeToDetect.MedianSeconds), dur(r.TimeToDetect, r.TimeToDetect.P95Seconds),
		percent(r.DetectedWithinSLA), dur(r.TimeToRemediate, r.TimeToRemediate.MedianSeconds), dur(r.TimeToRemediate, r.TimeToRemediate.P95Seconds),
		percent(r.AutoRemediated), percent(r.Meaningful), fmt.Sprint(r.Open), fmt.Sprint(r.Reopened), fmt.Sprint(r.Accepted)}
}

// writeUnits lists the stale units (never counted as clean) and what is not computed, and why.
func writeUnits(w io.Writer, rep *Report, bullet string) {
	var stale []string
	for _, u := range rep.Units {
		if u.Stale {
			last := u.LastEvaluated
			if last == "" {
				last = "never"
			}
			stale = append(stale, fmt.Sprintf("%s (last successful evaluation: %s)", u.Unit, last))
		}
	}
	fmt.Fprintf(w, "\nunits: %d, stale: %d\n", len(rep.Units), len(stale))
	for _, s := range stale {
		fmt.Fprintf(w, "%sstale: %s\n", bullet, s)
	}
	keys := make([]string, 0, len(rep.NotComputed))
	for k := range rep.NotComputed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "\nnot computed:")
	for _, k := range keys {
		fmt.Fprintf(w, "%s%s: %s\n", bullet, k, rep.NotComputed[k])
	}
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
