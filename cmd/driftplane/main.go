// Command driftplane is the scheduled drift job:
//
//	driftplane scan --registry DIR [--format text|json|markdown|sarif] [--shard INDEX/COUNT] ...
//
// It exits 0 when no unit has blocking drift, 2 when one has, 3 when a unit's drift is unknown.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/digestkey"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/scan"
)

var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "scan" {
		fmt.Fprintln(stderr, "usage: driftplane scan --registry DIR [flags]")
		return 64
	}
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	registry := fs.String("registry", "", "folder of unit policy files (each a DriftManagedUnit with spec.source = its stack folder)")
	format := fs.String("format", "text", "text, json, markdown or sarif")
	tofuBin := fs.String("tofu", "tofu", "OpenTofu (or Terraform) binary")
	parallel := fs.Int("parallel", 2, "stacks planned at once")
	timeout := fs.Duration("timeout", 15*time.Minute, "per-unit limit on tofu and the evidence upload; a unit over it is unknown")
	shard := fs.String("shard", "", "INDEX/COUNT of a sharded run (default from JOB_COMPLETION_INDEX and --shards)")
	shards := fs.Int("shards", 1, "shard count when the index comes from JOB_COMPLETION_INDEX")
	evidenceAt := fs.String("evidence", "", "folder or s3://bucket/prefix for evidence records")
	s3Endpoint := fs.String("s3-endpoint", "", "S3-compatible endpoint for s3:// evidence")
	s3PathStyle := fs.Bool("s3-path-style", false, "path-style S3 addressing")
	digestKeyFile := fs.String("digest-key-file", "", "file holding this installation's key for digests of sensitive values, created when absent\n(default: $"+digestkey.EnvKey+", else the file $"+digestkey.EnvFile+", else ~/.config/driftplane/digest-key)")
	maxPlan := fs.Int64("max-plan-bytes", 0, "bound on one unit's plan JSON (default 256 MiB)")
	if err := fs.Parse(args[1:]); err != nil {
		return 64
	}
	if *registry == "" {
		fmt.Fprintln(stderr, "driftplane scan: --registry is required")
		return 64
	}
	index, count, err := parseShard(*shard, *shards, os.Getenv("JOB_COMPLETION_INDEX"))
	if err != nil {
		fmt.Fprintf(stderr, "driftplane scan: %v\n", err)
		return 64
	}
	units, err := scan.LoadRegistry(*registry)
	if err != nil {
		fmt.Fprintf(stderr, "driftplane scan: %v\n", err)
		return 3
	}
	units = scan.Shard(units, index, count)
	digester, source, err := resolveDigester(*digestKeyFile)
	if err != nil {
		fmt.Fprintf(stderr, "driftplane scan: %v\n", err)
		return 3
	}
	// SIGINT/SIGTERM stop running units (tofu, evidence uploads); their drift is unknown. A
	// second signal kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	opts := scan.Options{Tofu: *tofuBin, Parallelism: *parallel, Timeout: *timeout, Version: version, Progress: stderr,
		Env: []string{"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1"}, Digester: digester, MaxPlanBytes: *maxPlan}
	if *evidenceAt != "" {
		if blob.IsS3(*evidenceAt) {
			bucket, prefix, err := blob.ParseS3(*evidenceAt)
			if err == nil {
				c, cerr := blob.Client(ctx, blob.S3Options{Endpoint: *s3Endpoint, PathStyle: *s3PathStyle})
				err = cerr
				opts.Evidence = blob.S3Store{Client: c, Bucket: bucket, Prefix: prefix}
			}
			if err != nil {
				fmt.Fprintf(stderr, "driftplane scan: evidence: %v\n", err)
				return 3
			}
		} else {
			opts.Evidence = evidence.Dir(*evidenceAt)
		}
	}
	fmt.Fprintf(stderr, "driftplane scan: %d unit(s) in shard %d/%d; sensitive values digested with the key from %s\n", len(units), index, count, source)
	results := scan.Run(ctx, units, opts)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "driftplane scan: stopped by a signal; units not finished are unknown")
	}
	if err := scan.Write(stdout, *format, results); err != nil {
		fmt.Fprintf(stderr, "driftplane scan: %v\n", err)
		return 64
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
