package tofuplan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/plangen"
)

// FuzzRead feeds arbitrary bytes to the plan reader: it must never panic, every error must name
// the file, and every plan it accepts must evaluate deterministically without leaking a
// sensitive value.
func FuzzRead(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	// The plans recorded from the real OpenTofu by `make corpus`.
	recorded, _ := filepath.Glob("../../../testdata/corpus/tofu-show-json/*.json")
	if len(recorded) == 0 {
		f.Fatal("the recorded corpus testdata/corpus/tofu-show-json is missing (`make corpus` records it)")
	}
	for _, s := range append(seeds, recorded...) {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(plangen.Generate(20, 5))
	f.Add([]byte(`{"format_version":"1.2","planned_values":{},"resource_drift":[{"address":"a.b","mode":"managed","type":"a","change":{"actions":["delete"],"before":{"x":1},"after":null}}]}`))
	f.Add([]byte(`{"format_version":"1.0","values":{}}`))
	f.Add([]byte(`{"format_version":"1.2","planned_values":{},"errored":true}`))
	f.Add([]byte(`{"format_version":"1.2","planned_values":{},"resource_drift":[{"address":"a.b","change":{"actions":["update"],"before":{"s":"v"},"after":{"s":"w"},"before_sensitive":{"s":true},"after_sensitive":true}}],"resource_changes":[{"address":"a.b","change":{"actions":["update"],"after":{"s":"v"},"after_unknown":{"s":true}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read("fuzz.json", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "fuzz"}, Spec: drift.UnitSpec{
			Kind: drift.UnitOpenTofuStack, Owner: "o", Environment: "prod", RiskTier: "high"}}
		r1, err := drift.Evaluate(unit, nil, p.Observations, drift.WithNow(time.Unix(0, 0)))
		if err != nil {
			t.Fatal(err)
		}
		p2, _ := Read("fuzz.json", data)
		r2, _ := drift.Evaluate(unit, nil, p2.Observations, drift.WithNow(time.Unix(0, 0)))
		a, _ := drift.CanonicalJSON(r1)
		b, _ := drift.CanonicalJSON(r2)
		if !bytes.Equal(a, b) {
			t.Fatalf("non-deterministic evaluation:\n%s\n%s", a, b)
		}
	})
}
