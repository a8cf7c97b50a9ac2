// Package scan is `driftplane scan`: the scheduled drift job over a registry of OpenTofu units.
// Each unit's stack gets a refresh-only plan with a timeout; a plan that fails or times out is
// UNKNOWN, never clean.
package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
)

// Unit is one registry entry: a unit's policy and where its stack lives.
type Unit struct {
	Policy     *drift.ManagedUnit
	Exceptions []*drift.Exception
	StackDir   string
	Source     string // the registry file
}

// Result is one unit's outcome.
type Result struct {
	Unit     string          `json:"unit"`
	Stack    string          `json:"stack"`
	Status   string          `json:"status"` // clean | drifted | unknown
	Blocking int             `json:"blocking_count"`
	Summary  string          `json:"summary"`
	Error    string          `json:"error,omitempty"`
	Evidence string          `json:"evidence,omitempty"`
	Findings []drift.Finding `json:"findings"`
	// Budgets are the unit's drift budgets as this evaluation judged them.
	Budgets []drift.BudgetState `json:"budgets,omitempty"`
	Took    time.Duration       `json:"took_ns"`
}

// StatusUnknown is a unit whose drift could not be observed.
const StatusUnknown = "unknown"

// Options configure a scan.
type Options struct {
	Tofu        string
	Parallelism int
	Timeout     time.Duration
	Shard       int
	Shards      int
	Evidence    evidence.Store
	Version     string
	Progress    io.Writer
	Env         []string
	Now         func() time.Time
	// Digester digests sensitive values with the installation's key (digestkey.Resolve); nil
	// digests with a key made for this process only.
	Digester *drift.Digester
	// MaxPlanBytes bounds the plan JSON read from `tofu show -json` (tofuplan.DefaultMaxBytes
	// when 0).
	MaxPlanBytes int64
	// NormalPlan plans the whole configuration instead of refreshing only. Drift is read the same
	// way; dependency drift (a change only data sources explain) and mutable references, which
	// only a normal plan shows, are found too.
	NormalPlan bool
	// LastApply, when set, is a folder the pipeline that applies keeps what each unit's last
	// apply left: <unit>.jsonl, its `tofu apply -json` output (the resources whose apply errored
	// are FAILED_RECONCILIATION), and <unit>.terraform.lock.hcl, the lock file it applied with
	// (a provider whose version differs in the stack's lock file is judged as upgraded). A unit
	// with neither file is judged without them.
	LastApply string
	// Observer, when set, is told as units start and finish (progress.go).
	Observer Observer
	// SchemaCacheDir caches each stack's `tofu providers schema -json` per lock file (schema.go);
	// empty: the user's cache folder (driftplane/provider-schemas).
	SchemaCacheDir string
	// Ledger keeps the lifecycle of findings across scans (driftplane scan keeps it in the
	// evidence store); nil keeps none.
	Ledger ledger.Store
	// Notify, when set, is called after each unit's successful evaluation (the routing policy's
	// notifier). What it returns are warnings, printed on Progress: a receiver that fails never
	// changes a unit's status or the exit code, and never loses a finding.
	Notify func(ctx context.Context, unit *drift.ManagedUnit, res *pipeline.Result) []string
	// scanUnit replaces scanOne in this package's tests (to inject failures); nil in use.
	scanUnit func(ctx context.Context, u Unit, o Options) Result
}

// LoadRegistry reads every policy file of a registry folder: each file holds one unit (an
// opentofu-stack whose spec.source is its stack folder, relative to the file) and its exceptions.
func LoadRegistry(dir string) ([]Unit, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", dir, err)
	}
	var units []Unit
	seen := map[string]string{}
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		f := filepath.Join(dir, e.Name())
		b, err := drift.LoadPolicy(f)
		if err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		u := b.Unit
		if u.Spec.Kind != drift.UnitOpenTofuStack {
			continue // Kubernetes units are the Argo CD plugin's
		}
		if u.Spec.Source == "" {
			return nil, fmt.Errorf("registry %s: unit %q has no spec.source (its stack folder)", f, u.Metadata.Name)
		}
		if prev, ok := seen[u.Metadata.Name]; ok {
			return nil, fmt.Errorf("registry %s: unit %q is also declared in %s", f, u.Metadata.Name, prev)
		}
		seen[u.Metadata.Name] = f
		stack := u.Spec.Source
		if !filepath.IsAbs(stack) {
			stack = filepath.Join(dir, stack)
		}
		units = append(units, Unit{Policy: u, Exceptions: b.Exceptions, StackDir: stack, Source: f})
	}
	sort.Slice(units, func(i, j int) bool { return units[i].Policy.Metadata.Name < units[j].Policy.Metadata.Name })
	return units, nil
}

// Shard keeps the units of shard index (0-based) of count, by position in name order, so every
// pod of an Indexed Job agrees on the split without talking to the others.
func Shard(units []Unit, index, count int) []Unit {
	if count <= 1 {
		return units
	}
	var out []Unit
	for i, u := range units {
		if i%count == index {
			out = append(out, u)
		}
	}
	return out
}

// Run scans the units with bounded parallelism; results come back in unit order. Every worker
// is waited for; a unit whose scan panics is unknown, never clean, and the others carry on. Once
// ctx ends (SIGTERM), units not yet started are unknown without running anything.
func Run(ctx context.Context, units []Unit, o Options) []Result {
	if o.Parallelism < 1 {
		o.Parallelism = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress != nil {
		o.Progress = &lockedWriter{w: o.Progress} // workers write to it concurrently
	}
	results := make([]Result, len(units))
	sem := make(chan struct{}, o.Parallelism)
	var wg sync.WaitGroup
	var mu sync.Mutex // done, and the order of progress lines
	done := 0
	for i := range units {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				o.started(units[i])
				results[i] = scanSafely(ctx, units[i], o)
			case <-ctx.Done():
				results[i] = unknownResult(units[i], fmt.Errorf("not scanned: %s", stopped(ctx)))
			}
			mu.Lock()
			defer mu.Unlock()
			done++
			o.done(results[i])
			if o.Progress != nil {
				r := results[i]
				fmt.Fprintf(o.Progress, "[%d/%d] %s: %s (%s)\n", done, len(units), r.Unit, r.Status, r.Took.Round(time.Millisecond))
			}
		}(i)
	}
	wg.Wait()
	return results
}

// lockedWriter serialises writes from the workers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// scanSafely runs scanUnit and turns a panic into an unknown result, with the stack on the
// progress stream: one broken unit must neither crash the scan nor read as clean.
func scanSafely(ctx context.Context, u Unit, o Options) (r Result) {
	start := o.Now()
	defer func() {
		if p := recover(); p != nil {
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "driftplane scan: unit %s panicked: %v\n%s", u.Policy.Metadata.Name, p, debug.Stack())
			}
			r = unknownResult(u, fmt.Errorf("internal error (panic: %v); drift unknown", p))
			r.Took = o.Now().Sub(start)
		}
	}()
	if o.scanUnit != nil {
		return o.scanUnit(ctx, u, o)
	}
	return scanOne(ctx, u, o)
}

func unknownResult(u Unit, err error) Result {
	return Result{Unit: u.Policy.Metadata.Name, Stack: u.StackDir, Findings: []drift.Finding{},
		Status: StatusUnknown, Error: err.Error(), Summary: "drift unknown: " + err.Error()}
}

// stopped says why ctx ended: the unit's time limit or the scan being stopped (SIGTERM).
func stopped(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "timed out: " + ctx.Err().Error()
	}
	return "scan stopped: " + ctx.Err().Error()
}

func scanOne(ctx context.Context, u Unit, o Options) Result {
	start := o.Now()
	r := Result{Unit: u.Policy.Metadata.Name, Stack: u.StackDir, Findings: []drift.Finding{}}
	defer func() { r.Took = o.Now().Sub(start) }()
	// Notifications get the scan's context, not the unit's time limit: the notifier has its own
	// deadline, and a plan that used most of the unit's time must not starve them.
	scanCtx := ctx
	unknown := func(err error) Result {
		r.Status, r.Error = StatusUnknown, err.Error()
		r.Summary = "drift unknown: " + err.Error()
		r.Took = o.Now().Sub(start)
		return r
	}
	// unobserved is unknown before the pipeline ran (no plan to read): the ledger learns of it
	// here, as the pipeline records an observation that fails inside it.
	unobserved := func(err error) Result {
		if o.Ledger != nil {
			pipeline.RecordUnknown(ctx, o.Ledger, u.Policy.Metadata.Name, o.Now())
		}
		return unknown(err)
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	work, err := os.MkdirTemp("", "driftplane-scan-")
	if err != nil {
		return unobserved(err)
	}
	defer func() { _ = os.RemoveAll(work) }()
	planFile := filepath.Join(work, "drift.plan")
	if _, err := tofu(ctx, o, u.StackDir, "init", "-input=false", "-no-color"); err != nil {
		return unobserved(fmt.Errorf("tofu init: %w", err))
	}
	mode := "refresh-only"
	args := []string{"plan", "-refresh-only", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false", "-out=" + planFile}
	if o.NormalPlan {
		mode = "normal"
		args = append(args[:1], args[2:]...)
	}
	code, err := tofu(ctx, o, u.StackDir, args...)
	if err != nil && code != 2 {
		return unobserved(fmt.Errorf("tofu %s: %w", strings.Join(args[:len(args)-1], " "), err))
	}
	maxPlan := o.MaxPlanBytes
	if maxPlan <= 0 {
		maxPlan = tofuplan.DefaultMaxBytes
	}
	js, err := tofuOutput(ctx, o, maxPlan, u.StackDir, "show", "-json", planFile)
	if err != nil {
		return unobserved(fmt.Errorf("tofu show -json: %w", err))
	}
	schema, warning := providerSchema(ctx, o, u.StackDir)
	if warning != "" && o.Progress != nil {
		fmt.Fprintf(o.Progress, "driftplane scan: warning: %s\n", warning)
	}
	src := pipeline.PlanJSON{Name: u.StackDir + " (" + mode + " plan)", Data: js, MaxBytes: maxPlan, Label: mode + " plan of " + u.StackDir,
		ProviderSchema: schema, ProviderSchemaLabel: "provider schema of " + u.StackDir}
	if err := lastApply(ctx, o.LastApply, u, &src); err != nil {
		return unknown(err)
	}
	res, err := pipeline.Run(ctx, pipeline.Request{
		Unit: u.Policy, Exceptions: u.Exceptions, At: o.Now(), Digester: o.Digester,
		Source:   src,
		Evidence: o.Evidence, Ledger: o.Ledger, Tool: "driftplane scan", Version: o.Version,
	})
	if err != nil {
		if st := pipeline.StageOf(err); st != pipeline.StageEvidence && st != pipeline.StageLedger {
			return unknown(err)
		}
		if ctx.Err() != nil {
			return unknown(fmt.Errorf("evidence: %s: %w", stopped(ctx), err))
		}
		return unknown(fmt.Errorf("evidence: %w", err))
	}
	rep := res.Report
	r.Status, r.Blocking, r.Summary, r.Findings, r.Budgets = rep.Status, rep.BlockingCount, rep.Summary, rep.Findings, rep.Budgets
	r.Evidence = res.EvidenceLocation
	if o.Notify != nil {
		for _, w := range o.Notify(scanCtx, u.Policy, res) {
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "driftplane scan: warning: %s\n", w)
			}
		}
	}
	return r
}

// command runs tofu under ctx; when ctx ends, tofu gets an interrupt (it stops cleanly and
// releases locks) and is killed if still running after a grace period.
func command(ctx context.Context, o Options, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, o.Tofu, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), o.Env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = tofuGrace
	return cmd
}

// tofuGrace is how long tofu may take to stop after an interrupt.
const tofuGrace = 5 * time.Second

func tofu(ctx context.Context, o Options, dir string, args ...string) (int, error) {
	cmd := command(ctx, o, dir, args...)
	out := &tailBuffer{} // init and plan print progress; keep the end, for the error
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	if ctx.Err() != nil {
		return -1, errors.New(stopped(ctx))
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), fmt.Errorf("exit %d: %s", ee.ExitCode(), lastLines(out.String(), 6))
	}
	return 0, err
}

// tofuOutput runs tofu and returns its stdout, refusing more than max bytes of it.
func tofuOutput(ctx context.Context, o Options, max int64, dir string, args ...string) ([]byte, error) {
	cmd := command(ctx, o, dir, args...)
	stdout, stderr := &limitedBuffer{max: max}, &tailBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, errors.New(stopped(ctx))
	case stdout.over:
		return nil, fmt.Errorf("printed more than %d bytes, the bound on a plan", max)
	case err != nil:
		return nil, fmt.Errorf("%w: %s", err, lastLines(stderr.String(), 6))
	}
	return stdout.buf.Bytes(), nil
}

// limitedBuffer keeps at most max bytes and fails the write past it, which stops the child.
type limitedBuffer struct {
	buf  bytes.Buffer
	max  int64
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if int64(l.buf.Len()+len(p)) > l.max {
		l.over = true
		return 0, errors.New("output over its bound")
	}
	return l.buf.Write(p)
}

// tailBuffer keeps the last 64 KiB written to it, for error messages.
type tailBuffer struct{ b []byte }

const tailBytes = 64 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailBytes {
		t.b = append(t.b[:0], t.b[len(t.b)-tailBytes:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// ExitCode is the scan's verdict: 0 when every unit is clean or drifts below its gate, 2 when a
// unit has blocking drift or an exhausted drift budget (even with nothing open: a spent
// objective is the domain's verdict), 3 when a unit's drift is unknown (which wins: unknown is
// never clean).
func ExitCode(results []Result) int {
	code := 0
	for _, r := range results {
		switch {
		case r.Status == StatusUnknown:
			return 3
		case r.Blocking > 0 || exhausted(r.Budgets):
			code = 2
		}
	}
	return code
}

func exhausted(bs []drift.BudgetState) bool {
	for _, b := range bs {
		if b.State == drift.BudgetExhausted {
			return true
		}
	}
	return false
}
