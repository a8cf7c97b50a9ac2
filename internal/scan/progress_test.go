package scan

import (
	"context"
	"sync"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// recorder is an Observer that checks what Run tells it.
type recorder struct {
	mu      sync.Mutex
	running map[string]bool
	started []string
	done    []Result
	maxRun  int
}

func (r *recorder) Started(unit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[unit] = true
	r.started = append(r.started, unit)
	r.maxRun = max(r.maxRun, len(r.running))
}

func (r *recorder) Done(res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, res.Unit)
	r.done = append(r.done, res)
}

// TestObserver: every unit is reported started then done, no more than Parallelism run at
// once, and a unit never started because the scan was stopped is reported done, not started.
func TestObserver(t *testing.T) {
	scanUnit := func(ctx context.Context, u Unit, o Options) Result {
		status := drift.StatusClean
		if u.Policy.Metadata.Name == "c" {
			status = StatusUnknown
		}
		return Result{Unit: u.Policy.Metadata.Name, Status: status, Findings: []drift.Finding{}}
	}
	units := []Unit{testUnit(t, "a"), testUnit(t, "b"), testUnit(t, "c"), testUnit(t, "d")}
	rec := &recorder{running: map[string]bool{}}
	results := Run(context.Background(), units, Options{Parallelism: 2, Observer: rec, scanUnit: scanUnit})
	if len(rec.started) != 4 || len(rec.done) != 4 || len(rec.running) != 0 || rec.maxRun > 2 {
		t.Errorf("started %v, done %d, still running %v, at most %d at once", rec.started, len(rec.done), rec.running, rec.maxRun)
	}
	if ExitCode(results) != 3 {
		t.Errorf("exit code %d", ExitCode(results))
	}

	// Stopped: a unit may still win a free slot (and then stops at once, as scanOne does) or
	// is never started; either way each is done once, unknown, and nothing is left running.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	scanUnit = func(ctx context.Context, u Unit, o Options) Result {
		return unknownResult(u, ctx.Err())
	}
	rec = &recorder{running: map[string]bool{}}
	Run(ctx, units, Options{Parallelism: 1, Observer: rec, scanUnit: scanUnit})
	if len(rec.done) != 4 || len(rec.running) != 0 || len(rec.started) > 4 {
		t.Errorf("started %v, done %d, still running %v", rec.started, len(rec.done), rec.running)
	}
	for _, r := range rec.done {
		if r.Status != StatusUnknown {
			t.Errorf("%+v after the scan was stopped", r)
		}
	}
}
