// Package pipeline is driftplane's one evaluation path: it takes a unit, its exceptions, the
// sources that observe the unit's planes (plan JSON, state, Kubernetes live objects or an
// application's compared objects, CloudTrail, the audit log), an evidence store and a clock, and
// returns the report. The OpenTofu provider's drift_finding, `driftplane scan` and the Argo CD
// reporter all call Run and only translate their inputs and outputs, so a capability added here
// (lifecycle, routing, new drift classes) reaches every front end at once.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

// Request is one evaluation of one unit.
type Request struct {
	Unit       *drift.ManagedUnit
	Exceptions []*drift.Exception
	// Source observes the unit's plane; its kind must match the unit's.
	Source Source
	// Attribution names who made each change from a source of its own (CloudTrail), after
	// observation.
	Attribution []Attributor
	// Evidence, when set, receives the record of the evaluation; a record that cannot be written
	// fails the evaluation (an evaluation whose evidence is required but lost is not done).
	Evidence evidence.Store
	// Ledger, when set, keeps the lifecycle of the unit's findings (first seen, how each ended)
	// across evaluations; front ends keep it in the evidence store. A ledger that cannot be read or
	// written fails the evaluation: a drift's age and history would otherwise silently restart.
	Ledger ledger.Store
	// Healed are the finding IDs auto-heal synced back since the previous evaluation, so the
	// ledger records them as healed rather than reverted.
	Healed map[string]bool
	// HealFailed are the finding IDs whose auto-heal sync was asked for and failed since the
	// previous evaluation (the ledger's reconcile failure rate).
	HealFailed map[string]bool
	// Tool and Version name the front end in the evidence record.
	Tool, Version string
	// At is an explicit evaluation time: it stamps findings a source leaves unstamped and the
	// evidence record, and may move the judgement of exceptions later than the clock, never earlier
	// (drift.WithNow). Zero means the clock.
	At time.Time
	// Clock is the real clock (time.Now when nil); only tests replace it.
	Clock func() time.Time
	// Digester digests sensitive values with the installation's key (nil: a per-process key).
	Digester *drift.Digester
	// Table is the decision table (drift.DefaultTable when nil).
	Table *drift.Table
}

// Result is what an evaluation produced.
type Result struct {
	Report       *drift.Report
	Observations []drift.Observation
	// Inputs are the digests of what was read, as the evidence record lists them.
	Inputs []evidence.Input
	// EvidenceLocation is where the record was written ("" without a store).
	EvidenceLocation string
	// LedgerLocation is where the lifecycle record was written ("" without a ledger).
	LedgerLocation string
	// At is the evaluation's time stamp (Request.At or the clock).
	At time.Time
}

// Stage names where an evaluation failed, so a front end can point at the input to fix.
type Stage string

// Stages.
const (
	StageSource     Stage = "source"     // the source's configuration (e.g. no manifests path)
	StagePlan       Stage = "plan"       // plan JSON
	StageState      Stage = "state"      // state JSON for CloudTrail identifiers
	StageCloudTrail Stage = "cloudtrail" // CloudTrail logs
	StageKubernetes Stage = "kubernetes" // manifests, cluster, audit log, compared objects
	StageUnitKind   Stage = "unit-kind"  // the unit's kind does not match the source
	StageEvaluation Stage = "evaluation" // policy or exceptions invalid
	StageEvidence   Stage = "evidence"   // evidence record not written
	StageLedger     Stage = "ledger"     // lifecycle ledger not read or written
)

// Error is a failed evaluation: drift is unknown.
type Error struct {
	Stage Stage
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// StageOf returns the stage of an evaluation error ("" when err is not one).
func StageOf(err error) Stage {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Stage
	}
	return ""
}

func fail(stage Stage, err error) error { return &Error{Stage: stage, Err: err} }

// Env is what a source may use besides its own configuration.
type Env struct {
	Unit     *drift.ManagedUnit
	Digester *drift.Digester
	Table    *drift.Table
	// At is the evaluation's time stamp.
	At time.Time
	// CountInventory asks the source for Observed.Inventory (a ledger keeps it).
	CountInventory bool
}

// Observed is one source's answer.
type Observed struct {
	Observations []drift.Observation
	// DetectedAt stamps the findings (the plan's own timestamp, so the same plan always yields
	// the same bytes); empty means the evaluation's time.
	DetectedAt string
	Inputs     []evidence.Input
	// Resources are every resource the source saw, drifted or not, for the unit's policy rules;
	// sources fill it only when the unit has policy rules.
	Resources []drift.Observation
	// Inventory counts what the unit declares and what was found running (M7); sources fill it
	// when Env.CountInventory asks (the ledger keeps it).
	Inventory *drift.Inventory
}

// Source observes the plane of one unit kind.
type Source interface {
	// UnitKind is drift.UnitOpenTofuStack or drift.UnitKubernetes.
	UnitKind() string
	// Observe returns the observations; an error is an *Error naming its stage.
	Observe(ctx context.Context, env Env) (*Observed, error)
}

// Attributor adds who-made-the-change to observations from a source of its own.
type Attributor interface {
	Attribute(ctx context.Context, env Env, obs []drift.Observation) ([]evidence.Input, error)
}

// Run evaluates one unit: observe, attribute, classify, record. Any failure is an *Error and
// means drift is unknown: there is no partial report.
func Run(ctx context.Context, req Request) (*Result, error) {
	if req.Unit == nil {
		return nil, fail(StageEvaluation, errors.New("no unit to evaluate"))
	}
	if req.Source == nil {
		return nil, fail(StageSource, errors.New("no drift source: with no source drift is unknown"))
	}
	if want := req.Source.UnitKind(); req.Unit.Spec.Kind != want {
		return nil, fail(StageUnitKind, fmt.Errorf("unit %q is of kind %q, but this source evaluates %s units", req.Unit.Metadata.Name, req.Unit.Spec.Kind, want))
	}
	clock := req.Clock
	if clock == nil {
		clock = time.Now
	}
	at := req.At
	if at.IsZero() {
		at = clock().UTC()
	}
	// Lifecycles and budgets are judged like exceptions: at the real clock, or later when asked,
	// never earlier. An explicit time in the past would shorten every drift's age and let it
	// slip under a budget's maxAge.
	judgedAt := at
	if now := clock().UTC(); now.After(judgedAt) {
		judgedAt = now
	}
	table := req.Table
	if table == nil {
		table = drift.DefaultTable()
	}
	env := Env{Unit: req.Unit, Digester: req.Digester, Table: table, At: at, CountInventory: req.Ledger != nil}
	observed, err := req.Source.Observe(ctx, env)
	if err != nil {
		recordUnknown(ctx, req, at)
		return nil, err
	}
	inputs := append([]evidence.Input(nil), observed.Inputs...)
	for _, a := range req.Attribution {
		in, err := a.Attribute(ctx, env, observed.Observations)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, in...)
	}
	detectedAt := observed.DetectedAt
	if detectedAt == "" {
		detectedAt = at.UTC().Format(time.RFC3339)
	}
	opts := []drift.Option{drift.WithTable(table), drift.WithNow(at), drift.WithDetectedAt(detectedAt)}
	if req.Clock != nil {
		opts = append(opts, drift.WithClock(req.Clock))
	}
	if len(observed.Resources) > 0 {
		opts = append(opts, drift.WithResources(observed.Resources))
	}
	rep, err := drift.Evaluate(req.Unit, req.Exceptions, observed.Observations, opts...)
	if err != nil {
		return nil, fail(StageEvaluation, err)
	}
	res := &Result{Report: rep, Observations: observed.Observations, Inputs: inputs, At: at}
	if req.Ledger != nil {
		// Budgets are judged within the lifecycle: a drift's age and the unit's history come
		// from the ledger, and the record keeps the budgets as judged.
		if res.LedgerLocation, err = recordLifecycle(ctx, req, rep, observed.Observations, observed.Inventory, judgedAt, table); err != nil {
			return nil, fail(StageLedger, err)
		}
	} else {
		drift.ApplyBudgets(rep, req.Unit, judgedAt, table, nil)
	}
	if req.Evidence != nil {
		loc, err := writeEvidence(ctx, req, inputs, rep, at)
		if err != nil {
			return nil, fail(StageEvidence, err)
		}
		res.EvidenceLocation = loc
	}
	return res, nil
}

func writeEvidence(ctx context.Context, req Request, inputs []evidence.Input, rep *drift.Report, at time.Time) (string, error) {
	rec, err := evidence.New(req.Tool, req.Version, req.Unit, req.Exceptions, inputs, rep, at)
	if err != nil {
		return "", err
	}
	key, data, err := rec.Encode()
	if err != nil {
		return "", err
	}
	// Within the caller's context: a scan's --timeout and SIGTERM stop the upload too.
	return evidence.Put(ctx, req.Evidence, key, data)
}

// recordLifecycle stamps each finding with its fingerprint, first sighting and age, judges the
// unit's budgets on its history, and appends the evaluation to the unit's ledger.
func recordLifecycle(ctx context.Context, req Request, rep *drift.Report, obs []drift.Observation, inventory *drift.Inventory, at time.Time, table *drift.Table) (string, error) {
	prev, prevKey, err := ledger.Latest(ctx, req.Ledger, rep.Unit)
	if err != nil {
		return "", err
	}
	escalateRepeatedFailures(rep, req.Unit, table, prev)
	rec := ledger.Next(prev, prevKey, rep, at, ledger.Outcome{Healed: req.Healed, HealFailed: req.HealFailed, Actual: actualAt(obs)})
	rec.Inventory, rec.Owner, rec.Environment = inventory, req.Unit.Spec.Owner, req.Unit.Spec.Environment
	open := make(map[string]ledger.Entry, len(rec.Open))
	for _, e := range rec.Open {
		open[e.Fingerprint] = e
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		f.Fingerprint = drift.Fingerprint(*f)
		if e, ok := open[f.Fingerprint]; ok {
			f.FirstSeen, f.Age = e.FirstSeen, e.Age(at).String()
		}
	}
	staleAfter, _ := drift.StaleAfter(req.Unit.Spec.Schedule) // validated with the unit
	if staleAfter > 0 {
		rec.StaleAfter = staleAfter.String()
	}
	var hist *drift.History
	if span := drift.HistorySpan(req.Unit); span > 0 {
		if hist, err = ledger.History(ctx, req.Ledger, rep.Unit, at.Add(-span), rec, staleAfter); err != nil {
			return "", err
		}
	}
	drift.ApplyBudgets(rep, req.Unit, at, table, hist)
	rec.Budgets = rep.Budgets
	_, loc, err := ledger.Append(ctx, req.Ledger, rec, prev)
	return loc, err
}

// recordUnknown notes in the ledger that the unit could not be observed (RecordUnknown).
func recordUnknown(ctx context.Context, req Request, at time.Time) {
	if req.Ledger != nil {
		RecordUnknown(ctx, req.Ledger, req.Unit.Metadata.Name, at)
	}
}

// RecordUnknown notes in a unit's ledger that an evaluation could not observe it (a plan that
// failed before the pipeline ran, a cluster that did not answer), so a unit that keeps failing
// shows as stale rather than as its last answer. It is best effort: the evaluation has already
// failed with the reason that matters.
func RecordUnknown(ctx context.Context, l ledger.Store, unit string, at time.Time) {
	prev, prevKey, err := ledger.Latest(ctx, l, unit)
	if err != nil {
		return
	}
	_, _, _ = ledger.Append(ctx, l, ledger.Unknown(prev, prevKey, unit, at), prev)
}

// actualAt digests what the source saw actually running at a resource's fields (ledger.Outcome).
func actualAt(obs []drift.Observation) func(ref string, fields []string) (string, bool) {
	byRef := make(map[string]*drift.Observation, len(obs))
	for i := range obs {
		byRef[obs[i].Ref] = &obs[i]
	}
	return func(ref string, fields []string) (string, bool) {
		o := byRef[ref]
		if o == nil || o.Deleted || len(fields) == 0 {
			return "", false
		}
		vals := make([]any, len(fields))
		for i, f := range fields {
			p, err := drift.ParsePointer(f)
			if err != nil {
				return "", false
			}
			vals[i], _ = drift.ValueAt(o.Actual, p)
		}
		return drift.ContentDigest(vals), true
	}
}
