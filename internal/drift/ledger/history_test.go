package ledger

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
)

// evaluate appends one evaluation of rep at at, as the pipeline does.
func evaluate(t *testing.T, s Store, rep *drift.Report, at time.Time) {
	t.Helper()
	ctx := context.Background()
	prev, prevKey, err := Latest(ctx, s, "web")
	if err != nil {
		t.Fatal(err)
	}
	rec := Next(prev, prevKey, rep, at, Outcome{})
	if _, _, err := Append(ctx, s, rec, prev); err != nil {
		t.Fatal(err)
	}
}

// Keys name each record's kind; History reads only the records with transitions, rebuilds each
// drift's life (appeared, resolved, still open) and finds the stale periods from the keys alone.
func TestHistory(t *testing.T) {
	ctx := context.Background()
	s := blob.Dir(t.TempDir())
	img := finding("/apps/v1/Deployment/web/web", drift.ClassUnauthorizedRuntime, "v2", "/spec/template/spec/containers/name=app/image")
	cm := finding("/v1/ConfigMap/web/cfg", drift.ClassUnauthorizedRuntime, "debug", "/data/mode")

	evaluate(t, s, report(img), t0)                      // appeared img
	evaluate(t, s, report(img), t0.Add(time.Hour))       // quiet
	evaluate(t, s, report(img, cm), t0.Add(2*time.Hour)) // appeared cm
	RecordUnknownForTest(t, s, t0.Add(3*time.Hour))      // unknown
	// Five hours without a successful evaluation: stale after 2h, since 4h.
	evaluate(t, s, report(cm), t0.Add(7*time.Hour)) // resolved img

	infos, err := Keys(ctx, s, "web")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, i := range infos {
		kinds = append(kinds, i.Kind)
	}
	if got := strings.Join(kinds, ","); got != "e,q,e,u,e" {
		t.Fatalf("kinds %s", got)
	}

	prev, prevKey, err := Latest(ctx, s, "web")
	if err != nil {
		t.Fatal(err)
	}
	cur := Next(prev, prevKey, report(cm), t0.Add(8*time.Hour), Outcome{}) // the evaluation being written
	h, err := History(ctx, s, "web", t0.Add(-time.Minute), cur, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.StaleSince) != 1 || !h.StaleSince[0].Equal(t0.Add(4*time.Hour)) {
		t.Errorf("stale %v, want since %s", h.StaleSince, t0.Add(4*time.Hour))
	}
	if len(h.Lives) != 2 {
		t.Fatalf("lives %+v", h.Lives)
	}
	for _, l := range h.Lives {
		switch {
		case l.FirstSeen.Equal(t0): // img: resolved at 7h
			if !l.ResolvedAt.Equal(t0.Add(7 * time.Hour)) {
				t.Errorf("img life %+v", l)
			}
		case l.FirstSeen.Equal(t0.Add(2 * time.Hour)): // cm: open
			if !l.ResolvedAt.IsZero() {
				t.Errorf("cm life %+v", l)
			}
		default:
			t.Errorf("unexpected life %+v", l)
		}
	}

	// A window that begins after img resolved sees only cm (open in cur).
	h, err = History(ctx, s, "web", t0.Add(7*time.Hour+time.Minute), cur, 2*time.Hour)
	if err != nil || len(h.Lives) != 1 || len(h.StaleSince) != 0 {
		t.Fatalf("late window: %+v %v", h, err)
	}
}

func RecordUnknownForTest(t *testing.T, s Store, at time.Time) {
	t.Helper()
	ctx := context.Background()
	prev, prevKey, err := Latest(ctx, s, "web")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Append(ctx, s, Unknown(prev, prevKey, "web", at), prev); err != nil {
		t.Fatal(err)
	}
}

// A key is checked against its record when read: a record with transitions filed under a
// quiet key (which readers skip) is refused, as is one whose time or unit differs from its key,
// and a key that is not a record's stops the reader rather than being skipped.
func TestKeyMustMatchRecord(t *testing.T) {
	ctx := context.Background()
	img := finding("/apps/v1/Deployment/web/web", drift.ClassUnauthorizedRuntime, "v2", "/spec/template/spec/containers/name=app/image")
	rec := Next(nil, "", report(img), t0, Outcome{})
	key, data, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(key, "-e-") {
		t.Fatalf("key %s does not say it has transitions", key)
	}
	for name, bad := range map[string]string{
		"hidden transitions": strings.Replace(key, "-e-", "-q-", 1),
		"another time":       strings.Replace(key, "T100000Z", "T110000Z", 1),
		"another sequence":   strings.Replace(key, "/000000000001-", "/000000000002-", 1),
		"another unit":       strings.Replace(key, "ledger/web/", "ledger/api/", 1),
	} {
		s := blob.Dir(t.TempDir())
		if _, err := s.PutContext(ctx, bad, data); err != nil {
			t.Fatal(err)
		}
		// Both readers check a record against its key, the one that skips the open findings too.
		info, ok := ParseKey(bad)
		if !ok {
			t.Fatalf("%s: %s does not parse", name, bad)
		}
		unit := strings.Split(bad, "/")[1]
		if _, err := Read(ctx, s, unit, info); err == nil {
			t.Errorf("%s: Read took %s", name, bad)
		}
		if _, err := ReadTransitions(ctx, s, unit, info); err == nil {
			t.Errorf("%s: ReadTransitions took %s", name, bad)
		}
		if name == "another unit" {
			continue
		}
		if _, _, err := Latest(ctx, s, "web"); err == nil {
			t.Errorf("%s: Latest read %s", name, bad)
		}
		if _, err := History(ctx, s, "web", t0.Add(-time.Hour), nil, 0); name != "hidden transitions" && err == nil {
			t.Errorf("%s: History read %s", name, bad)
		}
	}
	// Keys written before kinds were named are read for what they hold.
	s := blob.Dir(t.TempDir())
	legacy := strings.Replace(key, "-e-", "-", 1)
	if _, err := s.PutContext(ctx, legacy, data); err != nil {
		t.Fatal(err)
	}
	h, err := History(ctx, s, "web", t0.Add(-time.Hour), nil, 0)
	if err != nil || len(h.Lives) != 1 {
		t.Fatalf("legacy key: %+v %v", h, err)
	}
	if _, err := s.PutContext(ctx, "ledger/web/notes.txt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := Keys(ctx, s, "web"); err == nil {
		t.Error("a stray object in a unit's ledger was skipped")
	}
}
