package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// FuzzDecode feeds arbitrary bytes to the ledger reader, as a hostile or broken store could: it
// must never panic, every error names the record, and a record it accepts must continue (Next,
// Unknown) and encode without failing.
func FuzzDecode(f *testing.F) {
	prev := Next(nil, "", report(finding("a", drift.ClassUnauthorizedRuntime, "1", "/x")), t0, Outcome{})
	_, seed, err := prev.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"schema_version":"driftplane.ledger/v1","unit":"web","open":[{"fingerprint":"x","accepted_by":"E"}]}`))
	f.Add([]byte(`{"schema_version":"driftplane.ledger/v2"}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := Decode("fuzz.json", data)
		if err != nil {
			if rec != nil || !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error %q (record %v): errors name the record and return none", err, rec)
			}
			return
		}
		next := Next(rec, "k", report(finding("a", drift.ClassUnauthorizedRuntime, "2", "/x")), t0.Add(time.Hour), Outcome{})
		if _, _, err := next.Encode(); err != nil {
			t.Fatalf("encode after a decoded record: %v", err)
		}
		if _, _, err := Unknown(rec, "k", "web", t0).Encode(); err != nil {
			t.Fatalf("encode unknown: %v", err)
		}
	})
}

// FuzzParseKey holds ParseKey's fast reading of the keys Encode writes to the general one: on
// any key the fast path accepts, the general one accepts it with the same sequence, time and
// kind (a key the fast path misread could put a record out of order or hide its kind).
func FuzzParseKey(f *testing.F) {
	rec := Next(nil, "", report(finding("a", drift.ClassUnauthorizedRuntime, "1", "/x")), t0, Outcome{})
	key, _, err := rec.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(key)
	f.Add("ledger/web/000000000001-20261101T000000Z-q-0123456789abcdef01234567.json")
	f.Add("ledger/web/000000000001-20261131T000000Z-e-0123456789abcdef01234567.json")
	f.Add("ledger/web/000000000001-20260229T000000Z-u-0123456789abcdef01234567.json")
	f.Add("ledger/web/+00000000001-20261101T000000Z-q-0123456789abcdef01234567.json")
	f.Add("ledger/web/000000000001-20261101T246000Z-q-0123456789abcdef01234567.json")
	f.Add("ledger/web/000000000001-20261101T000000Z-0123456789abcdef01234567.json")
	f.Add("000000000001-20261101T000000Z-q-a-b.json")
	f.Fuzz(func(t *testing.T, key string) {
		fast, ok := parseKeyFast(key)
		if !ok {
			return
		}
		slow, ok := parseKeySlow(key)
		if !ok {
			t.Fatalf("the fast path accepts %q, the general one does not", key)
		}
		if fast.Key != slow.Key || fast.Sequence != slow.Sequence || !fast.EvaluatedAt.Equal(slow.EvaluatedAt) || fast.Kind != slow.Kind {
			t.Fatalf("%q: fast %+v, general %+v", key, fast, slow)
		}
	})
}
