package ledger

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/s3test"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func finding(ref string, class drift.Class, value string, fields ...string) drift.Finding {
	return drift.Finding{FindingID: "id-" + ref + "-" + value, Unit: "web", ResourceRef: ref, DriftClass: class, Risk: drift.RiskHigh,
		Domain: "workload", ChangedFields: fields, Blocking: true}
}

func report(fs ...drift.Finding) *drift.Report {
	st := drift.StatusClean
	if len(fs) > 0 {
		st = drift.StatusDrifted
	}
	return &drift.Report{Unit: "web", Status: st, Findings: fs}
}

func events(r *Record) []string {
	var out []string
	for _, e := range r.Events {
		s := e.Kind + " " + e.ResourceRef
		if e.Resolution != "" {
			s += " " + e.Resolution
		}
		out = append(out, s)
	}
	return out
}

// The lifecycle of findings across evaluations: appear, persist with new values (same
// fingerprint, first_seen kept), accepted by an exception, reopened when it expires, healed,
// deleted, state refreshed, reverted; an unknown evaluation resolves nothing.
func TestLifecycleTransitions(t *testing.T) {
	img := finding("/apps/v1/Deployment/web/web", drift.ClassUnauthorizedRuntime, "v2", "/spec/template/spec/containers/name=app/image")
	cm := finding("/v1/ConfigMap/web/cfg", drift.ClassUnauthorizedRuntime, "debug", "/data/mode")
	st := finding("aws_instance.web", drift.ClassState, "x", "/tags/Name")

	steps := []struct {
		rep  *drift.Report
		out  Outcome
		want []string
	}{
		{report(img, cm, st), Outcome{}, []string{"appeared /apps/v1/Deployment/web/web", "appeared /v1/ConfigMap/web/cfg", "appeared aws_instance.web"}},
		{report(finding(img.ResourceRef, img.DriftClass, "v3", img.ChangedFields...), cm, st), Outcome{}, []string{"changed /apps/v1/Deployment/web/web"}},
		{report(img, accepted(cm, "EXC-1")), Outcome{}, []string{"changed /apps/v1/Deployment/web/web", "resolved /v1/ConfigMap/web/cfg accepted", "resolved aws_instance.web state-refreshed"}},
		{report(img, cm), Outcome{}, []string{"reopened /v1/ConfigMap/web/cfg"}},
		{report(cm), Outcome{Healed: map[string]bool{img.FindingID: true}}, []string{"resolved /apps/v1/Deployment/web/web healed"}},
		{report(deleted(cm)), Outcome{}, []string{"appeared /v1/ConfigMap/web/cfg", "resolved /v1/ConfigMap/web/cfg resource-deleted"}},
		{report(), Outcome{}, []string{"resolved /v1/ConfigMap/web/cfg reverted"}},
	}
	var prev *Record
	prevKey := ""
	for i, s := range steps {
		at := t0.Add(time.Duration(i) * time.Hour)
		rec := Next(prev, prevKey, s.rep, at, s.out)
		if got := events(rec); strings.Join(got, "\n") != strings.Join(s.want, "\n") {
			t.Fatalf("step %d events:\n%s\nwant:\n%s", i, strings.Join(got, "\n"), strings.Join(s.want, "\n"))
		}
		if i == 3 {
			// Reopened and persisting: still first seen at the first evaluation.
			for _, e := range rec.Open {
				if e.FirstSeen != t0.Format(time.RFC3339) {
					t.Errorf("step %d: %s first seen %s, want %s", i, e.ResourceRef, e.FirstSeen, t0.Format(time.RFC3339))
				}
				if e.Age(at) != 3*time.Hour {
					t.Errorf("step %d: %s age %s", i, e.ResourceRef, e.Age(at))
				}
			}
			unknown := Unknown(rec, "k", "web", at.Add(time.Minute))
			if len(unknown.Events) != 0 || len(unknown.Open) != len(rec.Open) || unknown.Status != "unknown" {
				t.Fatalf("an unknown evaluation changed the lifecycle: %+v", unknown)
			}
		}
		_, _, err := rec.Encode()
		if err != nil {
			t.Fatal(err)
		}
		prev, prevKey = rec, fmt.Sprintf("k%d", i)
	}
}

func accepted(f drift.Finding, by string) drift.Finding {
	f.AcceptedBy, f.Blocking = by, false
	return f
}

func deleted(f drift.Finding) drift.Finding {
	f.Deleted, f.ChangedFields, f.FindingID = true, nil, f.FindingID+"-deleted"
	return f
}

// Values are not part of a fingerprint: the same fields of the same resource in the same class
// are one drift however their values change.
func TestFingerprintIgnoresValuesAndOrder(t *testing.T) {
	a := finding("r", drift.ClassUnauthorizedRuntime, "1", "/a", "/b")
	b := finding("r", drift.ClassUnauthorizedRuntime, "2", "/b", "/a")
	c := finding("r", drift.ClassEmergency, "1", "/a", "/b")
	if drift.Fingerprint(a) != drift.Fingerprint(b) || drift.Fingerprint(a) == drift.Fingerprint(c) {
		t.Fatalf("%s %s %s", drift.Fingerprint(a), drift.Fingerprint(b), drift.Fingerprint(c))
	}
}

// Replaying the same evaluations gives the same records, byte for byte.
func TestReplayIsDeterministic(t *testing.T) {
	run := func() []byte {
		var all bytes.Buffer
		var prev *Record
		key := ""
		for i, rep := range []*drift.Report{report(finding("a", drift.ClassUnauthorizedRuntime, "1", "/x")), report(), report(finding("b", drift.ClassState, "1", "/y"))} {
			rec := Next(prev, key, rep, t0.Add(time.Duration(i)*time.Minute), Outcome{})
			k, data, err := rec.Encode()
			if err != nil {
				t.Fatal(err)
			}
			all.Write(data)
			prev, key = rec, k
		}
		return all.Bytes()
	}
	if a, b := run(), run(); !bytes.Equal(a, b) {
		t.Fatal("replay differs")
	}
}

func exercise(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	if rec, key, err := Latest(ctx, s, "web"); err != nil || rec != nil || key != "" {
		t.Fatalf("empty ledger: %+v %q %v", rec, key, err)
	}
	first := Next(nil, "", report(finding("a", drift.ClassUnauthorizedRuntime, "1", "/x")), t0, Outcome{})
	k1, _, err := Append(ctx, s, first, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The same record again is accepted (content-addressed); the newest is read back.
	if k, _, err := Append(ctx, s, first, nil); err != nil || k != k1 {
		t.Fatalf("re-append: %q %v", k, err)
	}
	got, key, err := Latest(ctx, s, "web")
	if err != nil || key != k1 || len(got.Open) != 1 {
		t.Fatalf("latest: %+v %q %v", got, key, err)
	}
	second := Next(got, key, report(), t0.Add(time.Hour), Outcome{})
	k2, _, err := Append(ctx, s, second, got)
	if err != nil {
		t.Fatal(err)
	}
	got, key, err = Latest(ctx, s, "web")
	if err != nil || key != k2 || got.Previous != k1 || len(got.Open) != 0 || len(got.Events) != 1 {
		t.Fatalf("latest after resolve: %+v %q %v", got, key, err)
	}
	if _, _, err := Latest(ctx, s, "../etc"); err == nil {
		t.Fatal("a unit name left the ledger folder")
	}
}

func TestLedgerInAFolder(t *testing.T) { exercise(t, blob.Dir(t.TempDir())) }

func TestLedgerInS3(t *testing.T) {
	ctx := context.Background()
	store, err := blob.OpenStore(ctx, "s3://evidence/nightly", s3test.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := store.(blob.S3Store)
	s3test.MustCreateBucket(t, c.Client, "evidence")
	exercise(t, c)
}

// Two processes append to one folder at once: every record lands, none is lost or rewritten,
// and every one reads back.
func TestConcurrentWritersOnAFolder(t *testing.T) {
	if dir := os.Getenv("LEDGER_WRITER_DIR"); dir != "" {
		writeMany(t, blob.Dir(dir), os.Getenv("LEDGER_WRITER_NAME"))
		return
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	outs := make([][]byte, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run", "^TestConcurrentWritersOnAFolder$", "-test.count=1")
			cmd.Env = append(os.Environ(), "LEDGER_WRITER_DIR="+dir, fmt.Sprintf("LEDGER_WRITER_NAME=w%d", i))
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	keys, err := blob.Dir(dir).List(context.Background(), Prefix+"/web/")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2*writes {
		t.Fatalf("%d records, want %d", len(keys), 2*writes)
	}
	for _, k := range keys {
		data, err := blob.Dir(dir).Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(k, data); err != nil {
			t.Fatal(err)
		}
	}
}

const writes = 50

func writeMany(t *testing.T, s Store, name string) {
	ctx := context.Background()
	for i := range writes {
		prev, key, err := Latest(ctx, s, "web")
		if err != nil {
			t.Fatal(err)
		}
		rep := report(finding(name, drift.ClassUnauthorizedRuntime, fmt.Sprint(i), "/x"))
		if _, _, err := Append(ctx, s, Next(prev, key, rep, t0.Add(time.Duration(i)*time.Second), Outcome{}), prev); err != nil {
			t.Fatal(err)
		}
	}
}

// OpenTofu reads a data source several times per run: the same evaluation read again writes no
// second record, while the next evaluation does.
func TestReReadOfAnEvaluationWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := blob.Dir(t.TempDir())
	rep := report(finding("a", drift.ClassUnauthorizedRuntime, "1", "/x"))
	for i, at := range []time.Time{t0, t0, t0, t0.Add(time.Minute)} {
		prev, key, err := Latest(ctx, s, "web")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Append(ctx, s, Next(prev, key, rep, at, Outcome{}), prev); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	keys, err := s.List(ctx, Prefix+"/web/")
	if err != nil || len(keys) != 2 {
		t.Fatalf("records %v (%v), want one per evaluation: 2", keys, err)
	}
}

// An accepted drift that ends says how: Git adopted what runs (the usual end of an emergency
// change ported by a pull request), the runtime went back, or, where the source cannot observe
// the resource any more, still "accepted".
func TestAcceptedDriftEnds(t *testing.T) {
	img := finding("/apps/v1/Deployment/web/web", drift.ClassEmergency, "v2", "/spec/template/spec/containers/name=app/image")
	img.AcceptedBy = "EXC-1"
	digest := func(d string, ok bool) Outcome {
		return Outcome{Actual: func(string, []string) (string, bool) { return d, ok }}
	}
	for _, tc := range []struct {
		name string
		end  Outcome
		want string
	}{
		{"ported into Git", digest("sha256:v2", true), ResolutionAcceptedIntoGit},
		{"runtime went back", digest("sha256:v1", true), ResolutionReverted},
		{"not observed", digest("", false), ResolutionAccepted},
		{"no source of actual values", Outcome{}, ResolutionAccepted},
		{"healed", Outcome{Actual: digest("sha256:v2", true).Actual, Healed: map[string]bool{img.FindingID: true}}, ResolutionAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := Next(nil, "", report(img), t0, digest("sha256:v2", true))
			if first.Open[0].ActualDigest != "sha256:v2" || first.Open[0].AcceptedBy != "EXC-1" {
				t.Fatalf("open %+v", first.Open)
			}
			end := Next(first, "k1", report(), t0.Add(time.Hour), tc.end)
			got := events(end)
			if want := "resolved " + img.ResourceRef + " " + tc.want; len(got) != 1 || got[0] != want {
				t.Fatalf("events %v, want %q", got, want)
			}
		})
	}
}
