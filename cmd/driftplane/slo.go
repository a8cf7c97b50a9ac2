package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftplane/terraform-provider-drift/internal/cli"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/slo"
)

// sloOptions are `driftplane slo`'s flags.
type sloOptions struct {
	evidence, s3Endpoint, by, format, to string
	since, staleAfter                    time.Duration
	s3PathStyle                          bool
}

func newSLOCommand() *cobra.Command {
	o := &sloOptions{}
	cmd := &cobra.Command{
		Use:   "slo --evidence DIR|s3://bucket/prefix",
		Short: "Print the drift SLIs of a window from the lifecycle ledger",
		Long: `slo reads the lifecycle ledger that driftplane scan, the OpenTofu provider and the Argo CD
reporter keep beside their evidence, and prints the drift SLIs of a window, grouped as asked:
drift events per day (M1), time to detect (change to first sighting, M2) and the share detected
within its risk's SLA, time to classify (M3: driftplane classifies when it detects), time to
remediate (M4), the share healed automatically (M5), unowned open drift (M8), the share of
policy drift (M9), the share of drift that is meaningful rather than noise (M10), reopened and
accepted drift, resolutions by kind, what is open at the window's end and the longest-running
open drift; per unit and overall, the reconcile failure rate (M6: auto-heal syncs that failed)
and inventory coverage (M7: resources found running of those declared).

It also prints each unit's drift budgets as its newest evaluation judged them, and the stale
units: no successful evaluation within twice their schedule's interval (--stale-after for units
without a schedule). A stale unit is never counted as clean, and its budgets count as exhausted.

Records without transitions are never read (their keys say enough), so a ledger of a million
records takes seconds.

Exit codes: 0 the SLIs were printed, 2 they were printed and a budget is exhausted or a unit is
stale, 3 the ledger could not be read, 64 a usage error.`,
		Example: `  # The last week, per domain
  driftplane slo --evidence s3://drift-evidence/nightly --since 168h --by domain

  # JSON for a dashboard job, per unit
  driftplane slo --evidence ./evidence --by unit --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.Exit(o.run(cmd.OutOrStdout(), cmd.ErrOrStderr()))
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.evidence, "evidence", "", "folder or s3://bucket/prefix holding the ledger (the evidence location of scan, the provider or the reporter)")
	fs.StringVar(&o.by, "by", "", "group by unit, owner, domain, environment, class or risk (default: everything together)")
	fs.StringVar(&o.format, "format", "table", "table, json or markdown")
	fs.DurationVar(&o.since, "since", 7*24*time.Hour, "window length, ending at --to")
	fs.StringVar(&o.to, "to", "", "window end, RFC 3339 (default: now)")
	fs.DurationVar(&o.staleAfter, "stale-after", slo.DefaultStaleAfter, "a unit without a schedule and with no successful evaluation this long before the window's end is stale")
	fs.StringVar(&o.s3Endpoint, "s3-endpoint", "", "S3-compatible endpoint for an s3:// ledger")
	fs.BoolVar(&o.s3PathStyle, "s3-path-style", false, "path-style S3 addressing")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(slo.Formats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("by", cobra.FixedCompletions(slo.Groupings, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (o *sloOptions) run(stdout, stderr io.Writer) int {
	if o.evidence == "" {
		fmt.Fprintln(stderr, "driftplane slo: --evidence is required (the folder or s3:// prefix holding the ledger)")
		return exitUsage
	}
	to := time.Now().UTC()
	if o.to != "" {
		t, err := time.Parse(time.RFC3339, o.to)
		if err != nil {
			fmt.Fprintf(stderr, "driftplane slo: --to %q is not an RFC 3339 time\n", o.to)
			return exitUsage
		}
		to = t
	}
	if !slo.ValidGrouping(o.by) {
		fmt.Fprintf(stderr, "driftplane slo: --by %q: want one of %s\n", o.by, strings.Join(slo.Groupings, ", "))
		return exitUsage
	}
	if !slices.Contains(slo.Formats, o.format) {
		fmt.Fprintf(stderr, "driftplane slo: --format %q: want one of %s\n", o.format, strings.Join(slo.Formats, ", "))
		return exitUsage
	}
	if o.since <= 0 || o.staleAfter <= 0 {
		fmt.Fprintln(stderr, "driftplane slo: --since and --stale-after must be positive")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	store, err := blob.OpenStore(ctx, o.evidence, blob.S3Options{Endpoint: o.s3Endpoint, PathStyle: o.s3PathStyle})
	if err != nil {
		fmt.Fprintf(stderr, "driftplane slo: %v\n", err)
		return 3
	}
	rep, err := slo.Compute(ctx, store, slo.Options{From: to.Add(-o.since), To: to, By: o.by, StaleAfter: o.staleAfter})
	if err != nil {
		fmt.Fprintf(stderr, "driftplane slo: %v\n", err)
		return 3
	}
	if err := slo.Write(stdout, o.format, rep); err != nil {
		fmt.Fprintf(stderr, "driftplane slo: %v\n", err)
		return exitUsage
	}
	if rep.Breached() {
		// A job or CI step that runs slo on a schedule fails like scan's blocking drift.
		fmt.Fprintf(stderr, "driftplane slo: %d budget(s) exhausted, %d unit(s) stale\n", rep.Summary.BudgetsExhausted, rep.Summary.StaleUnits)
		return exitBreached
	}
	return 0
}

// exitBreached is slo's exit code when a budget is exhausted or a unit stale: scan's for
// blocking drift.
const exitBreached = 2
