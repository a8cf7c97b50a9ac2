package slo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func f(unit, ref string, class drift.Class, risk drift.Risk, domain string, changed time.Time) drift.Finding {
	x := drift.Finding{FindingID: "id-" + ref, Unit: unit, ResourceRef: ref, DriftClass: class, Risk: risk, Domain: domain,
		Owner: "team-" + unit, Environment: "prod", ChangedFields: []string{"/x"}}
	if !changed.IsZero() {
		x.ActorDetail = &drift.Actor{Username: "alice", Time: changed.Format(time.RFC3339)}
	}
	return x
}

// evaluate appends one evaluation of unit to the ledger.
func evaluate(t *testing.T, s ledger.Store, unit string, at time.Time, healed map[string]bool, fs ...drift.Finding) {
	t.Helper()
	evaluateUnit(t, s, &drift.ManagedUnit{Metadata: drift.Metadata{Name: unit}}, at, healed, fs...)
}

// evaluateUnit appends one evaluation of u as the pipeline records it: the unit's schedule
// bounds staleness, and its budgets are judged on its history and kept in the record.
func evaluateUnit(t *testing.T, s ledger.Store, u *drift.ManagedUnit, at time.Time, healed map[string]bool, fs ...drift.Finding) {
	t.Helper()
	ctx := context.Background()
	unit := u.Metadata.Name
	prev, key, err := ledger.Latest(ctx, s, unit)
	if err != nil {
		t.Fatal(err)
	}
	st := drift.StatusClean
	if len(fs) > 0 {
		st = drift.StatusDrifted
	}
	rep := &drift.Report{Unit: unit, Status: st, Findings: fs}
	rec := ledger.Next(prev, key, rep, at, ledger.Outcome{Healed: healed})
	staleAfter, err := drift.StaleAfter(u.Spec.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	if staleAfter > 0 {
		rec.StaleAfter = staleAfter.String()
	}
	if len(u.Spec.Budgets) > 0 {
		hist, err := ledger.History(ctx, s, unit, at.Add(-drift.HistorySpan(u)), rec, staleAfter)
		if err != nil {
			t.Fatal(err)
		}
		drift.ApplyBudgets(rep, u, at, nil, hist)
		rec.Budgets = rep.Budgets
	}
	if _, _, err := ledger.Append(ctx, s, rec, prev); err != nil {
		t.Fatal(err)
	}
}

func ledgerOfTwoUnits(t *testing.T) ledger.Store {
	s := blob.Dir(t.TempDir())
	// web: an identity drift detected 10m after the change (within the 15m CRITICAL SLA), healed
	// 2h later; a network drift detected 3h after its change (outside HIGH's 1h), still open; noise.
	role := f("web", "role", drift.ClassUnauthorizedRuntime, drift.RiskCritical, "identity", t0.Add(-10*time.Minute))
	netpol := f("web", "netpol", drift.ClassUnauthorizedRuntime, drift.RiskHigh, "network", t0.Add(time.Hour-3*time.Hour))
	noise := f("web", "json", drift.ClassProviderReadNoise, drift.RiskInfo, "other", time.Time{})
	evaluate(t, s, "web", t0, nil, role, noise)
	evaluate(t, s, "web", t0.Add(time.Hour), nil, role, netpol, noise)
	evaluate(t, s, "web", t0.Add(2*time.Hour), map[string]bool{role.FindingID: true}, netpol)
	// db: one drift reverted by hand after 6h; its last evaluation is two days old, so it is stale.
	cfg := f("db", "cfg", drift.ClassUnauthorizedRuntime, drift.RiskMedium, "workload", time.Time{})
	evaluate(t, s, "db", t0, nil, cfg)
	evaluate(t, s, "db", t0.Add(6*time.Hour), nil)
	return s
}

func TestComputeSLIs(t *testing.T) {
	s := ledgerOfTwoUnits(t)
	to := t0.Add(72 * time.Hour)
	rep, err := Compute(context.Background(), s, Options{From: t0.Add(-24 * time.Hour), To: to, By: "unit", StaleAfter: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("rows %+v", rep.Rows)
	}
	db, web := rep.Rows[0], rep.Rows[1]
	if web.Events != 3 || web.TimeToDetect.Count != 2 || web.TimeToDetect.MedianSeconds != (10*time.Minute).Seconds() && web.TimeToDetect.MedianSeconds != (3*time.Hour).Seconds() {
		t.Errorf("web events/detect: %+v", web)
	}
	if web.DetectedWithinSLA == nil || *web.DetectedWithinSLA != 50 {
		t.Errorf("web within SLA: %v, want 50%% (the role on time, the network policy late)", web.DetectedWithinSLA)
	}
	if web.Resolved != 2 || web.AutoRemediated == nil || *web.AutoRemediated != 50 {
		t.Errorf("web resolved %d auto %v: the role healed, the noise gone", web.Resolved, web.AutoRemediated)
	}
	if web.Meaningful == nil || int(*web.Meaningful+0.5) != 67 || web.Open != 1 {
		t.Errorf("web meaningful %v open %d", web.Meaningful, web.Open)
	}
	if db.Resolved != 1 || db.TimeToRemediate.MedianSeconds != (6*time.Hour).Seconds() || db.Open != 0 {
		t.Errorf("db: %+v", db)
	}
	// M3: classified when detected, so the same durations as M2, reported as its own SLI.
	if web.TimeToClassify != web.TimeToDetect {
		t.Errorf("web classify %+v, detect %+v", web.TimeToClassify, web.TimeToDetect)
	}
	if web.Resolutions[ledger.ResolutionHealed] != 1 || web.Resolutions[ledger.ResolutionReverted] != 1 || db.Resolutions[ledger.ResolutionReverted] != 1 {
		t.Errorf("resolutions web %v db %v", web.Resolutions, db.Resolutions)
	}
	// M9 is a real zero: POLICY_DRIFT is a class, and none appeared.
	if web.PolicyViolations != 0 || web.PolicyViolationRate == nil || *web.PolicyViolationRate != 0 || web.Unowned != 0 {
		t.Errorf("web policy %d %v unowned %d", web.PolicyViolations, web.PolicyViolationRate, web.Unowned)
	}
	if l := web.LongestOpen; l == nil || l.ResourceRef != "netpol" || l.AgeSeconds != int64((71*time.Hour).Seconds()) {
		t.Errorf("web longest open %+v, want netpol, 71h old at the window's end", l)
	}
	stale := map[string]bool{}
	for _, u := range rep.Units {
		stale[u.Unit] = u.Stale
	}
	if !stale["db"] || !stale["web"] {
		t.Errorf("units %+v: both last evaluated over a day before the window's end", rep.Units)
	}
	fresh, err := Compute(context.Background(), s, Options{From: t0, To: t0.Add(3 * time.Hour), By: "unit"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range fresh.Units {
		if u.Stale {
			t.Errorf("%s stale 3h after its evaluation", u.Unit)
		}
	}
}

// The SLIs of a ledger are the same bytes however often they are computed, and whatever order
// its records were written in.
func TestSLIsReplayByteForByte(t *testing.T) {
	s := ledgerOfTwoUnits(t)
	iam := unitWith("iam", "1h", drift.Budget{Name: "identity-zero", Domain: "identity", MaxOpen: intp(0)},
		drift.Budget{Name: "a-cost", Domain: "cost", MaxAge: "1h"})
	evaluateUnit(t, s, iam, t0, nil, f("iam", "role", drift.ClassUnauthorizedRuntime, drift.RiskCritical, "identity", t0.Add(-time.Minute)))
	out := func(s ledger.Store) []byte {
		rep, err := Compute(context.Background(), s, Options{From: t0.Add(-time.Hour), To: t0.Add(48 * time.Hour), By: "domain"})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for _, format := range Formats {
			if err := Write(&b, format, rep); err != nil {
				t.Fatal(err)
			}
		}
		return b.Bytes()
	}
	a, b := out(s), out(s)
	if !bytes.Equal(a, b) {
		t.Fatal("two computations of one ledger differ")
	}
	// The same records copied newest first into another store.
	keys, err := s.List(context.Background(), ledger.Prefix+"/")
	if err != nil {
		t.Fatal(err)
	}
	copied := blob.Dir(t.TempDir())
	for i := len(keys) - 1; i >= 0; i-- {
		data, err := s.Get(context.Background(), keys[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := copied.Put(keys[i], data); err != nil {
			t.Fatal(err)
		}
	}
	if c := out(copied); !bytes.Equal(a, c) {
		t.Fatalf("a copy of the ledger gives other SLIs:\n%s\n---\n%s", a, c)
	}
	for _, want := range []string{"identity", "network", "| domain | events/day |", `"detected_within_sla_pct"`, `"name": "a-cost"`, "| iam | identity-zero | exhausted |"} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, a)
		}
	}
	if bytes.Index(a, []byte(`"name": "a-cost"`)) > bytes.Index(a, []byte(`"name": "identity-zero"`)) {
		t.Error("budgets are not sorted by unit and name")
	}
}

func TestComputeRefusesBadOptions(t *testing.T) {
	s := blob.Dir(t.TempDir())
	if _, err := Compute(context.Background(), s, Options{From: t0, To: t0, By: ""}); err == nil || !strings.Contains(err.Error(), "empty window") {
		t.Errorf("empty window: %v", err)
	}
	if _, err := Compute(context.Background(), s, Options{From: t0, To: t0.Add(time.Hour), By: "colour"}); err == nil || !strings.Contains(err.Error(), "--by") {
		t.Errorf("bad grouping: %v", err)
	}
}

// A key that is not a record's fails the computation rather than vanishing from it.
func TestComputeRefusesUndatedRecords(t *testing.T) {
	s := blob.Dir(t.TempDir())
	if _, err := s.Put("ledger/web/000000000001-x-y.json", []byte(`{"schema_version":"driftplane.ledger/v1","unit":"web","evaluated_at":"yesterday","status":"drifted","sequence":1,"open":[]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := Compute(context.Background(), s, Options{From: t0, To: t0.Add(time.Hour)}); err == nil || !strings.Contains(err.Error(), "000000000001-x-y.json") {
		t.Fatalf("want an error naming the record, got %v", err)
	}
}

func byGroup(rows []Row) map[string]Row {
	m := map[string]Row{}
	for _, r := range rows {
		m[r.Group] = r
	}
	return m
}

// M8, M9, reopened and accepted drifts and the resolutions by kind.
func TestComputeOwnershipPolicyAndResolutions(t *testing.T) {
	s := blob.Dir(t.TempDir())
	policy := f("pol", "bucket-acl", drift.ClassPolicy, drift.RiskHigh, "security", time.Time{})
	policy.Owner = ""
	excepted := f("pol", "sg", drift.ClassUnauthorizedRuntime, drift.RiskMedium, "network", time.Time{})
	excepted.Owner, excepted.AcceptedBy = "unowned", "exc-1"
	state := f("pol", "state", drift.ClassState, drift.RiskLow, "other", time.Time{})
	expired := excepted
	expired.AcceptedBy = ""
	evaluate(t, s, "pol", t0, nil, policy, excepted, state)
	evaluate(t, s, "pol", t0.Add(time.Hour), nil, policy, expired) // exception expired: reopened; state refreshed
	evaluate(t, s, "pol", t0.Add(2*time.Hour), nil, policy, excepted)
	rep, err := Compute(context.Background(), s, Options{From: t0.Add(-time.Hour), To: t0.Add(4 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	all := byGroup(rep.Rows)["all"]
	if all.Events != 3 || all.PolicyViolations != 1 || all.PolicyViolationRate == nil || int(*all.PolicyViolationRate+0.5) != 33 {
		t.Errorf("policy: events %d, violations %d, rate %v", all.Events, all.PolicyViolations, all.PolicyViolationRate)
	}
	if all.Reopened != 1 || all.Accepted != 1 || all.Resolutions[ledger.ResolutionAccepted] != 1 || all.Resolutions[ledger.ResolutionStateRefreshed] != 1 || all.Resolved != 1 {
		t.Errorf("reopened %d accepted %d resolved %d resolutions %v", all.Reopened, all.Accepted, all.Resolved, all.Resolutions)
	}
	// Open at the end: the policy drift, which has no owner; the accepted one is not open.
	if all.Open != 1 || all.Unowned != 1 || all.LongestOpen == nil || all.LongestOpen.ResourceRef != "bucket-acl" || all.LongestOpen.AgeSeconds != 4*3600 {
		t.Errorf("open %d unowned %d longest %+v", all.Open, all.Unowned, all.LongestOpen)
	}
	var b bytes.Buffer
	if err := Write(&b, "table", rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"accepted-into-git", "resource-deleted", "state-refreshed", "pol/bucket-acl", "M3 time to classify: driftplane classifies"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

func intp(n int) *int { return &n }

func unitWith(name, schedule string, budgets ...drift.Budget) *drift.ManagedUnit {
	return &drift.ManagedUnit{Metadata: drift.Metadata{Name: name}, Spec: drift.UnitSpec{Schedule: schedule, Budgets: budgets}}
}

// Staleness is judged against each unit's own schedule (stale_after in its records), falls back
// to the default, ignores evaluations that could not observe the unit, and exhausts a stale
// unit's budgets.
func TestStaleFromScheduleAndBudgets(t *testing.T) {
	ctx := context.Background()
	s := blob.Dir(t.TempDir())
	iam := unitWith("iam", "1h", drift.Budget{Name: "identity-zero", Domain: "identity", MaxOpen: intp(0)})
	net := unitWith("net", "@every 30m", drift.Budget{Name: "network-zero", Domain: "network", MaxOpen: intp(0)})
	evaluateUnit(t, s, iam, t0, nil, f("iam", "role", drift.ClassUnauthorizedRuntime, drift.RiskCritical, "identity", time.Time{}))
	evaluateUnit(t, s, net, t0, nil)
	pipeline.RecordUnknown(ctx, s, "net", t0.Add(50*time.Minute)) // a failed evaluation: not fresh
	evaluate(t, s, "nosched", t0, nil)

	fresh, err := Compute(ctx, s, Options{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Summary.StaleUnits != 0 || fresh.Summary.Budgets != 2 || fresh.Summary.BudgetsExhausted != 1 || !fresh.Breached() {
		t.Fatalf("summary %+v: one budget exhausted by open identity drift, no unit stale", fresh.Summary)
	}
	if b := fresh.Budgets[0]; b.Unit != "iam" || b.Name != "identity-zero" || b.State != drift.BudgetExhausted || !strings.Contains(b.Reason, "1 open") || b.Since != t0.Format(time.RFC3339) {
		t.Errorf("iam budget %+v", b)
	}
	if b := fresh.Budgets[1]; b.Unit != "net" || b.State != drift.BudgetOK {
		t.Errorf("net budget %+v", b)
	}

	late, err := Compute(ctx, s, Options{From: t0.Add(-time.Hour), To: t0.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]UnitState{}
	for _, u := range late.Units {
		units[u.Unit] = u
	}
	want := map[string]UnitState{
		"iam":     {Unit: "iam", LastEvaluated: t0.Format(time.RFC3339), StaleAfter: "2h0m0s", Stale: true, StaleSince: t0.Add(2 * time.Hour).Format(time.RFC3339)},
		"net":     {Unit: "net", LastEvaluated: t0.Format(time.RFC3339), StaleAfter: "1h0m0s", Stale: true, StaleSince: t0.Add(time.Hour).Format(time.RFC3339)},
		"nosched": {Unit: "nosched", LastEvaluated: t0.Format(time.RFC3339), StaleAfter: "24h0m0s"},
	}
	for name, w := range want {
		if units[name] != w {
			t.Errorf("%s: %+v, want %+v", name, units[name], w)
		}
	}
	if late.Summary.StaleUnits != 2 || late.Summary.BudgetsExhausted != 2 {
		t.Errorf("summary %+v", late.Summary)
	}
	if b := late.Budgets[1]; b.Unit != "net" || b.State != drift.BudgetExhausted || b.Reason != "stale since "+t0.Add(time.Hour).Format(time.RFC3339) || b.Since != t0.Add(time.Hour).Format(time.RFC3339) {
		t.Errorf("a stale unit's budget must be exhausted since it went stale: %+v", b)
	}
	if b := late.Budgets[0]; !strings.HasPrefix(b.Reason, "stale since ") || !strings.Contains(b.Reason, "last judged: 1 open") {
		t.Errorf("iam budget %+v", b)
	}

	// Without a schedule, the caller's bound applies.
	strict, err := Compute(ctx, s, Options{From: t0.Add(-time.Hour), To: t0.Add(3 * time.Hour), StaleAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range strict.Units {
		if u.Unit == "nosched" && (!u.Stale || u.StaleAfter != "1h0m0s" || u.StaleSince != t0.Add(time.Hour).Format(time.RFC3339)) {
			t.Errorf("nosched with --stale-after 1h: %+v", u)
		}
	}
	var out bytes.Buffer
	for _, format := range Formats {
		if err := Write(&out, format, late); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"Budgets (2 exhausted, 0 burning of 2)", "Stale units (2 of 3", "| net | network-zero | exhausted |", `"budgets_exhausted": 2`, `"stale_since"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// countingStore counts the records read.
type countingStore struct {
	ledger.Store
	gets map[string]int
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets[key]++
	return c.Store.Get(ctx, key)
}

// Quiet and unknown records are never read: their keys say enough. Records with transitions
// are read only inside the window, and the newest successful record at the window's end once.
func TestComputeReadsOnlyWhatItNeeds(t *testing.T) {
	ctx := context.Background()
	dir := blob.Dir(t.TempDir())
	a := f("web", "a", drift.ClassUnauthorizedRuntime, drift.RiskHigh, "network", time.Time{})
	b := f("web", "b", drift.ClassUnauthorizedRuntime, drift.RiskHigh, "network", time.Time{})
	evaluate(t, dir, "web", t0, nil, a)                          // e
	evaluate(t, dir, "web", t0.Add(time.Hour), nil, a)           // q
	pipeline.RecordUnknown(ctx, dir, "web", t0.Add(2*time.Hour)) // u
	evaluate(t, dir, "web", t0.Add(3*time.Hour), nil, a)         // q
	evaluate(t, dir, "web", t0.Add(4*time.Hour), nil, a, b)      // e
	evaluate(t, dir, "web", t0.Add(5*time.Hour), nil, a, b)      // q
	infos, err := ledger.Keys(ctx, dir, "web")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, i := range infos {
		kinds = append(kinds, i.Kind)
	}
	if strings.Join(kinds, "") != "equqeq" {
		t.Fatalf("kinds %v", kinds)
	}
	s := &countingStore{Store: dir, gets: map[string]int{}}
	rep, err := Compute(ctx, s, Options{From: t0.Add(30 * time.Minute), To: t0.Add(6 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{infos[4].Key: 1, infos[5].Key: 1}; !maps.Equal(s.gets, want) {
		t.Errorf("read %v, want only the events in the window and the newest record", s.gets)
	}
	if all := byGroup(rep.Rows)["all"]; all.Events != 1 || all.Open != 2 {
		t.Errorf("rows %+v", rep.Rows)
	}
	// At a window's end just after the unknown evaluation, the newest successful record is the
	// quiet one before it.
	clear(s.gets)
	rep, err = Compute(ctx, s, Options{From: t0.Add(-time.Hour), To: t0.Add(150 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{infos[0].Key: 1, infos[1].Key: 1}; !maps.Equal(s.gets, want) {
		t.Errorf("read %v, want %v", s.gets, want)
	}
	if u := rep.Units[0]; u.LastEvaluated != t0.Add(time.Hour).Format(time.RFC3339) || u.Stale {
		t.Errorf("unit %+v", u)
	}
}

// A record whose key hides its transitions is refused when read: the newest record at the
// window's end always is.
func TestComputeRefusesAKeyThatHidesTransitions(t *testing.T) {
	s := blob.Dir(t.TempDir())
	rec := ledger.Next(nil, "", &drift.Report{Unit: "web", Status: drift.StatusDrifted,
		Findings: []drift.Finding{f("web", "a", drift.ClassUnauthorizedRuntime, drift.RiskHigh, "network", time.Time{})}}, t0, ledger.Outcome{})
	key, data, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(key, "-e-", "-q-", 1)
	if _, err := s.Put(forged, data); err != nil {
		t.Fatal(err)
	}
	if _, err := Compute(context.Background(), s, Options{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}); err == nil || !strings.Contains(err.Error(), `its key says kind "q"`) {
		t.Fatalf("a quiet key over a record with transitions: %v", err)
	}
}

// Keys written before kinds were named are opened to learn their kind, and counted.
func TestComputeReadsKeysWithoutKind(t *testing.T) {
	s := blob.Dir(t.TempDir())
	rec := ledger.Next(nil, "", &drift.Report{Unit: "web", Status: drift.StatusDrifted,
		Findings: []drift.Finding{f("web", "a", drift.ClassUnauthorizedRuntime, drift.RiskHigh, "network", time.Time{})}}, t0, ledger.Outcome{})
	key, data, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(strings.Replace(key, "-e-", "-", 1), data); err != nil {
		t.Fatal(err)
	}
	rep, err := Compute(context.Background(), s, Options{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if all := byGroup(rep.Rows)["all"]; all.Events != 1 || all.Open != 1 || rep.Units[0].Stale {
		t.Errorf("report %+v", rep)
	}
}

// Among many units read at once, one unreadable unit fails the computation, and a cancelled
// context stops it; neither hangs.
func TestComputeStopsOnAnyUnitsError(t *testing.T) {
	ctx := context.Background()
	s := blob.Dir(t.TempDir())
	for i := range 3 * Workers {
		evaluate(t, s, fmt.Sprintf("u%02d", i), t0, nil)
	}
	if _, err := s.Put("ledger/u17/not-a-record.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := Compute(ctx, s, Options{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}); err == nil || !strings.Contains(err.Error(), "u17/not-a-record.json") {
		t.Fatalf("want the unreadable unit's error, got %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Compute(cancelled, s, Options{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// M6: the reconciliations the reporter asked for (auto-heal syncs, by finding) and the share
// that failed, per unit and overall; a record whose only news is a reconciliation is one that
// readers open.
func TestComputeReconcileFailureRate(t *testing.T) {
	ctx := context.Background()
	s := blob.Dir(t.TempDir())
	label := f("web", "deploy", drift.ClassUnauthorizedRuntime, drift.RiskLow, "workload", time.Time{})
	cfg := f("web", "cfg", drift.ClassUnauthorizedRuntime, drift.RiskLow, "workload", time.Time{})
	step := func(at time.Time, out ledger.Outcome, fs ...drift.Finding) {
		prev, key, err := ledger.Latest(ctx, s, "web")
		if err != nil {
			t.Fatal(err)
		}
		st := drift.StatusClean
		if len(fs) > 0 {
			st = drift.StatusDrifted
		}
		rec := ledger.Next(prev, key, &drift.Report{Unit: "web", Status: st, Findings: fs}, at, out)
		if _, _, err := ledger.Append(ctx, s, rec, prev); err != nil {
			t.Fatal(err)
		}
	}
	step(t0, ledger.Outcome{}, label, cfg)
	// The sync of cfg failed; nothing else changed: the record says so, and is one readers open.
	step(t0.Add(time.Hour), ledger.Outcome{HealFailed: map[string]bool{cfg.FindingID: true}}, label, cfg)
	step(t0.Add(2*time.Hour), ledger.Outcome{Healed: map[string]bool{label.FindingID: true, cfg.FindingID: true}})
	infos, err := ledger.Keys(ctx, s, "web")
	if err != nil || len(infos) != 3 || infos[1].Kind != ledger.KindEvents {
		t.Fatalf("keys %+v %v", infos, err)
	}
	rep, err := Compute(ctx, s, Options{From: t0.Add(-time.Minute), To: t0.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.ReconcilesAttempted != 3 || rep.Summary.ReconcilesFailed != 1 || rep.Summary.ReconcileFailureRate == nil || int(*rep.Summary.ReconcileFailureRate+0.5) != 33 {
		t.Fatalf("summary %+v", rep.Summary)
	}
	if u := rep.Units[0]; u.Reconciles == nil || *u.Reconciles != (ledger.Reconciles{Attempted: 3, Failed: 1}) {
		t.Fatalf("unit %+v", u)
	}
	if r := byGroup(rep.Rows)["all"].ReconcileFailureRate; r == nil || int(*r+0.5) != 33 {
		t.Fatalf("the all row's M6: %v", r)
	}
	var out bytes.Buffer
	if err := Write(&out, "table", rep); err != nil || !strings.Contains(out.String(), "Reconciliations (M6") {
		t.Fatalf("table lacks M6 (%v):\n%s", err, out.String())
	}
}

// M7: each unit's newest successful evaluation by the window's end says how many resources it
// expected and how many it found running; the report sums them.
func TestComputeInventoryCoverage(t *testing.T) {
	ctx := context.Background()
	s := blob.Dir(t.TempDir())
	put := func(unit string, at time.Time, inv *drift.Inventory) {
		env := map[string]string{"web": "prod", "db": "staging"}[unit]
		prev, key, err := ledger.Latest(ctx, s, unit)
		if err != nil {
			t.Fatal(err)
		}
		rec := ledger.Next(prev, key, &drift.Report{Unit: unit, Status: drift.StatusClean}, at, ledger.Outcome{})
		rec.Inventory, rec.Environment = inv, env
		if _, _, err := ledger.Append(ctx, s, rec, prev); err != nil {
			t.Fatal(err)
		}
	}
	put("web", t0, &drift.Inventory{Expected: 10, Observed: 10})
	put("web", t0.Add(time.Hour), &drift.Inventory{Expected: 10, Observed: 8}) // two deleted out of band
	put("db", t0, &drift.Inventory{Expected: 10, Observed: 10})
	put("db", t0.Add(3*time.Hour), &drift.Inventory{Expected: 10, Observed: 9}) // after the window: not counted
	rep, err := Compute(ctx, s, Options{From: t0.Add(-time.Minute), To: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.InventoryExpected != 20 || rep.Summary.InventoryObserved != 18 || rep.Summary.InventoryCoverage == nil || *rep.Summary.InventoryCoverage != 90 {
		t.Fatalf("summary %+v", rep.Summary)
	}
	var out bytes.Buffer
	if err := Write(&out, "table", rep); err != nil || !strings.Contains(out.String(), "Inventory coverage (M7") {
		t.Fatalf("table lacks M7 (%v):\n%s", err, out.String())
	}
	// A unit-level SLI per row where rows are whole units; not where they are kinds of drift.
	rep, err = Compute(ctx, s, Options{From: t0.Add(-time.Minute), To: t0.Add(2 * time.Hour), By: "environment"})
	if err != nil {
		t.Fatal(err)
	}
	rows := byGroup(rep.Rows)
	if p, s := rows["prod"].InventoryCoverage, rows["staging"].InventoryCoverage; p == nil || *p != 80 || s == nil || *s != 100 {
		t.Fatalf("by environment: %+v", rep.Rows)
	}
	rep, err = Compute(ctx, s, Options{From: t0.Add(-time.Minute), To: t0.Add(2 * time.Hour), By: "domain"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rows {
		if r.InventoryCoverage != nil {
			t.Errorf("a domain row has an inventory coverage: %+v", r)
		}
	}
}
