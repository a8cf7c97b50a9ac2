// Command driftplane is the scheduled drift job:
//
//	driftplane scan --registry DIR [--format text|json|markdown|sarif] [--shard INDEX/COUNT] ...
//	driftplane slo --evidence DIR|s3://bucket/prefix [--by unit|owner|domain|...] [--format table|json|markdown]
//	driftplane reconcile --registry DIR --evidence DIR|s3://... --forge gitea|github|gitlab --repo-url URL
//	driftplane version
//	driftplane completion bash|zsh|fish|powershell
//
// scan exits 0 when no unit has blocking drift, 2 when one has or a drift budget is exhausted, 3 when a unit's drift is
// unknown, 64 on a usage error. slo exits 2 when a drift budget is exhausted or a unit is stale,
// 3 when the ledger cannot be read. Every flag can also be set from $DRIFTPLANE_<FLAG> (--parallel
// is $DRIFTPLANE_PARALLEL); a flag on the command line wins.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftplane/terraform-provider-drift/internal/cli"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/digestkey"
	"github.com/driftplane/terraform-provider-drift/internal/scan"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// exitUsage is the exit code of a usage error (sysexits' EX_USAGE).
const exitUsage = 64

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	return runWith(realConsole(), args, stdout, stderr)
}

func runWith(con console, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: driftplane scan --registry DIR [flags]")
		fmt.Fprintln(stderr, "Run 'driftplane --help' for the commands.")
		return exitUsage
	}
	return cli.Execute(newRootCommand(con), args, stdout, stderr, exitUsage)
}

func newRootCommand(con console) *cobra.Command {
	root := &cobra.Command{
		Use:   "driftplane",
		Short: "Find drift between OpenTofu stacks and what really runs",
		Long: `driftplane finds drift between OpenTofu stacks and the infrastructure they describe, and
judges it against each unit's policy (owner, risk tier, gate, exceptions).

Every flag can also be set from $DRIFTPLANE_<FLAG>, e.g. --parallel from $DRIFTPLANE_PARALLEL;
a flag on the command line wins.`,
		Example: `  # Scan every unit of a registry, as the scheduled job does
  driftplane scan --registry ./registry --evidence s3://drift-evidence/nightly

  # Set up shell completion
  source <(driftplane completion bash)`,
	}
	root.AddCommand(newScanCommand(con), newSLOCommand(), newRouteCommand(), newReconcileCommand())
	cli.Configure(root, version)
	return root
}

// scanOptions are `driftplane scan`'s flags.
type scanOptions struct {
	registry, format, tofu, shard, evidence, s3Endpoint, digestKeyFile string
	routingPolicy, lastApply                                           string
	parallel, shards                                                   int
	timeout, notifyTimeout                                             time.Duration
	s3PathStyle, quiet                                                 bool
	maxPlan                                                            int64
	normalPlan                                                         bool
	con                                                                console
}

func newScanCommand(con console) *cobra.Command {
	o := &scanOptions{con: con}
	cmd := &cobra.Command{
		Use:   "scan --registry DIR",
		Short: "Plan every unit of a registry refresh-only and report its drift",
		Long: `Scan runs a refresh-only plan of every OpenTofu unit of a registry (a folder of
DriftManagedUnit policy files, each naming its stack folder in spec.source), judges the drift
against the unit's policy and writes the results to stdout. A plan that fails or times out is
unknown, never clean.

On a terminal, with the text or markdown format, a status line shows the units done, running and
failed; it is not shown with --quiet, with --format json or sarif, when $CI is set, or when
stderr is not a terminal.

With --routing-policy (a DriftRoutingPolicy) and --evidence, each unit's findings are sent to
the receivers the policy routes them to, once per transition (appeared, changed, resolved) and
again by each route's repeatInterval; outcomes are recorded beside the ledger. A receiver that
fails is a warning on stderr, retried by the next scan; it never changes the exit code.

Exit codes: 0 no blocking drift, 2 blocking drift or an exhausted drift budget, 3 a unit's drift is unknown (it wins),
64 a usage error.`,
		Example: `  # Scan a registry, four stacks at a time
  driftplane scan --registry ./registry --parallel 4

  # SARIF for code scanning, with evidence records in S3
  driftplane scan --registry ./registry --format sarif --evidence s3://drift-evidence/nightly > drift.sarif

  # Shard 2 of 4 (in a Kubernetes Indexed Job the index comes from $JOB_COMPLETION_INDEX)
  driftplane scan --registry ./registry --shard 2/4

  # The same flags from the environment
  DRIFTPLANE_REGISTRY=./registry DRIFTPLANE_FORMAT=json driftplane scan`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.Exit(o.run(cmd.OutOrStdout(), cmd.ErrOrStderr()))
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.registry, "registry", "", "folder of unit policy files (each a DriftManagedUnit with spec.source = its stack folder)")
	fs.StringVar(&o.format, "format", "text", "text, json, markdown or sarif")
	fs.StringVar(&o.tofu, "tofu", "tofu", "OpenTofu (or Terraform) binary")
	fs.IntVar(&o.parallel, "parallel", 2, "stacks planned at once")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "per-unit limit on tofu and the evidence upload; a unit over it is unknown")
	fs.StringVar(&o.shard, "shard", "", "INDEX/COUNT of a sharded run (default from JOB_COMPLETION_INDEX and --shards)")
	fs.IntVar(&o.shards, "shards", 1, "shard count when the index comes from JOB_COMPLETION_INDEX")
	fs.StringVar(&o.evidence, "evidence", "", "folder or s3://bucket/prefix for evidence records")
	fs.StringVar(&o.s3Endpoint, "s3-endpoint", "", "S3-compatible endpoint for s3:// evidence")
	fs.BoolVar(&o.s3PathStyle, "s3-path-style", false, "path-style S3 addressing")
	fs.StringVar(&o.digestKeyFile, "digest-key-file", "", "file holding this installation's key for digests of sensitive values, created when absent\n(default: $"+digestkey.EnvKey+", else the file $"+digestkey.EnvFile+", else ~/.config/driftplane/digest-key)")
	fs.Int64Var(&o.maxPlan, "max-plan-bytes", 0, "bound on one unit's plan JSON (default 256 MiB)")
	fs.BoolVar(&o.normalPlan, "normal-plan", false, "plan the whole configuration, not refresh-only: also finds dependency drift and mutable references")
	fs.StringVar(&o.lastApply, "last-apply", "", "folder where the applying pipeline keeps each unit's last apply: <unit>.jsonl (tofu apply -json output;\nresources whose apply errored are FAILED_RECONCILIATION) and <unit>.terraform.lock.hcl (provider upgrades)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress line on a terminal")
	fs.StringVar(&o.routingPolicy, "routing-policy", "", "DriftRoutingPolicy file: tell each finding's receivers (needs --evidence; secrets from env)")
	fs.DurationVar(&o.notifyTimeout, "notify-timeout", 30*time.Second, "bound on one unit's notifications; what a receiver did not take in time is retried by the next scan")
	// $DRIFTPLANE_DIGEST_KEY_FILE already means the key file of the digest key chain, after
	// $DRIFTPLANE_DIGEST_KEY; the flag wins over both, so the variable must not set the flag.
	cli.NoEnv(fs, "digest-key-file")
	_ = cmd.MarkFlagDirname("registry")
	_ = cmd.MarkFlagFilename("digest-key-file")
	_ = cmd.MarkFlagFilename("routing-policy", "yaml", "yml", "json")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json", "markdown", "sarif"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// run is the scan; it prints its own diagnostics and returns the exit code.
func (o *scanOptions) run(stdout, stderr io.Writer) int {
	if o.registry == "" {
		fmt.Fprintln(stderr, "driftplane scan: --registry is required")
		return exitUsage
	}
	index, count, err := parseShard(o.shard, o.shards, os.Getenv("JOB_COMPLETION_INDEX"))
	if err != nil {
		fmt.Fprintf(stderr, "driftplane scan: %v\n", err)
		return exitUsage
	}
	units, err := scan.LoadRegistry(o.registry)
	if err != nil {
		fmt.Fprintf(stderr, "driftplane scan: %v\n", err)
		return 3
	}
	units = scan.Shard(units, index, count)
	digester, source, err := resolveDigester(o.digestKeyFile)
	if err != nil {
		fmt.Fprintf(stderr, "driftplane scan: %v\n", err)
		return 3
	}
	// SIGINT/SIGTERM stop running units (tofu, evidence uploads); their drift is unknown. A
	// second signal kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	opts := scan.Options{Tofu: o.tofu, Parallelism: o.parallel, Timeout: o.timeout, Version: version, Progress: stderr,
		Env: []string{"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1"}, Digester: digester, MaxPlanBytes: o.maxPlan, NormalPlan: o.normalPlan, LastApply: o.lastApply}
	if o.evidence != "" {
		store, err := blob.OpenStore(ctx, o.evidence, blob.S3Options{Endpoint: o.s3Endpoint, PathStyle: o.s3PathStyle})
		if err != nil {
			fmt.Fprintf(stderr, "driftplane scan: evidence: %v\n", err)
			return 3
		}
		// The lifecycle ledger lives beside the evidence (ledger/<unit>/...).
		opts.Evidence, opts.Ledger = store, store
	}
	if o.routingPolicy != "" {
		if opts.Ledger == nil {
			fmt.Fprintln(stderr, "driftplane scan: --routing-policy needs --evidence (the ledger says what was told and what ended)")
			return exitUsage
		}
		if opts.Notify, err = newNotifyHook(ctx, o.routingPolicy, opts.Ledger, o.notifyTimeout); err != nil {
			fmt.Fprintf(stderr, "driftplane scan: %v\n", err)
			return exitUsage
		}
	}
	fmt.Fprintf(stderr, "driftplane scan: %d unit(s) in shard %d/%d; sensitive values digested with the key from %s\n", len(units), index, count, source)
	var status *statusLine
	if showProgress(o.con, stderr, o.format, o.quiet) {
		// The per-unit lines go through the status line, which redraws itself below them.
		status = newStatusLine(stderr, len(units), o.con.now)
		status.columns = o.con.width(stderr)
		opts.Progress, opts.Observer = status, status
		status.start(o.con.redrawEvery)
	}
	results := scan.Run(ctx, units, opts)
	status.stop()
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "driftplane scan: stopped by a signal; units not finished are unknown")
	}
	if err := scan.Write(stdout, o.format, results); err != nil {
		fmt.Fprintf(stderr, "driftplane scan: %v\n", err)
		return exitUsage
	}
	return scan.ExitCode(results)
}

// resolveDigester finds the installation's digest key: the --digest-key-file file (created when
// absent) wins, else digestkey.Resolve's chain ($DRIFTPLANE_DIGEST_KEY, $DRIFTPLANE_DIGEST_KEY_FILE,
// the default file). The source is for messages; the key is never printed.
func resolveDigester(file string) (*drift.Digester, digestkey.Source, error) {
	if file == "" {
		return digestkey.Resolve("")
	}
	key, err := digestkey.LoadOrCreate(file)
	if err != nil {
		return nil, "", err
	}
	d, _, err := digestkey.Resolve(string(key))
	if err != nil {
		return nil, "", fmt.Errorf("digest key file %s: %w", file, err)
	}
	return d, digestkey.Source(file), nil
}

// parseShard reads INDEX/COUNT, or takes the index from a Kubernetes Indexed Job.
func parseShard(flagValue string, shards int, jobIndex string) (int, int, error) {
	if flagValue != "" {
		i, c, ok := strings.Cut(flagValue, "/")
		index, err1 := strconv.Atoi(i)
		count, err2 := strconv.Atoi(c)
		if !ok || err1 != nil || err2 != nil || count < 1 || index < 0 || index >= count {
			return 0, 0, fmt.Errorf("--shard %q: want INDEX/COUNT with 0 <= INDEX < COUNT", flagValue)
		}
		return index, count, nil
	}
	if jobIndex != "" {
		index, err := strconv.Atoi(jobIndex)
		if err != nil || shards < 1 || index < 0 || index >= shards {
			return 0, 0, fmt.Errorf("JOB_COMPLETION_INDEX=%q with --shards %d: want 0 <= index < shards", jobIndex, shards)
		}
		return index, shards, nil
	}
	return 0, 1, nil
}
