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
