package slo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
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
	ctx := context.Background()
	prev, key, err := ledger.Latest(ctx, s, unit)
	if err != nil {
		t.Fatal(err)
	}
	st := drift.StatusClean
	if len(fs) > 0 {
		st = drift.StatusDrifted
	}
	rec := ledger.Next(prev, key, &drift.Report{Unit: unit, Status: st, Findings: fs}, at, ledger.Outcome{Healed: healed})
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
	if _, ok := rep.NotComputed["M7 inventory coverage"]; !ok {
		t.Error("an SLI the ledger cannot give must say so, not read as zero")
	}
}

// The SLIs of a ledger are the same bytes however often they are computed.
func TestSLIsReplayByteForByte(t *testing.T) {
	s := ledgerOfTwoUnits(t)
	out := func() []byte {
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
	a, b := out(), out()
	if !bytes.Equal(a, b) {
		t.Fatal("two computations of one ledger differ")
	}
	for _, want := range []string{"identity", "network", "| domain | events/day |", `"detected_within_sla_pct"`} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, a)
		}
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

// A record that cannot be placed in time fails the computation rather than vanishing from it.
func TestComputeRefusesUndatedRecords(t *testing.T) {
	s := blob.Dir(t.TempDir())
	if _, err := s.Put("ledger/web/000000000001-x-y.json", []byte(`{"schema_version":"driftplane.ledger/v1","unit":"web","evaluated_at":"yesterday","status":"drifted","sequence":1,"open":[]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := Compute(context.Background(), s, Options{From: t0, To: t0.Add(time.Hour)}); err == nil || !strings.Contains(err.Error(), "yesterday") {
		t.Fatalf("want an error naming the record, got %v", err)
	}
}
