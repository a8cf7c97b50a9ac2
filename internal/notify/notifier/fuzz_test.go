package notifier_test

import (
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/notify/notifier"
)

// FuzzDecodeAndPlan feeds arbitrary bytes to the notification record reader, as a hostile or
// broken store could: it must never panic, every error names the record, and a state it accepts
// must plan, apply and encode without failing, whatever its times, pending entries or receivers.
func FuzzDecodeAndPlan(f *testing.F) {
	n := newPlanner(&testing.T{}, planPolicy)
	vm := finding("aws_instance.a", "compute", drift.RiskMedium, "team-a", "F1")
	role := finding("aws_iam_role.admin", "identity", drift.RiskHigh, "team-a", "F2")
	p, err := n.Notifications(notifier.Input{Report: report(vm, role), At: t0})
	if err != nil {
		f.Fatal(err)
	}
	dels, st := p.Apply(outcomes(p, "team"), t0, 5, 100)
	seed := &notifier.Record{SchemaVersion: notifier.SchemaVersion, Unit: "payments", At: "2026-12-01T10:00:00Z", Sequence: 1, Deliveries: dels, State: st}
	_, data, err := seed.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"schema_version":"driftplane.notifications/v1","unit":"payments","state":{"told":[{"receiver":"gone","fingerprint":"fp-aws_iam_role-admin","state":"firing","at":"x"},{"receiver":"team","fingerprint":"fp-aws_instance-a","pending":{"state":"resolved","attempts":-3,"since":"1999"}}]}}`))
	f.Add([]byte(`{"schema_version":"driftplane.notifications/v2"}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := notifier.Decode("fuzz.json", data)
		if err != nil {
			if rec != nil || !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error %q (record %v): errors name the record and return none", err, rec)
			}
			return
		}
		lrec := &ledger.Record{Events: []ledger.Event{{Kind: ledger.EventResolved, Fingerprint: role.Fingerprint, Resolution: ledger.ResolutionReverted, At: "2026-12-01T11:00:00Z"}}}
		for _, rep := range []*drift.Report{report(vm), report(), report(vm, role)} {
			p, err := n.Notifications(notifier.Input{Report: rep, Record: lrec, State: rec.State, At: t0.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			_ = p.Work()
			dels, st := p.Apply(outcomes(p, "security"), t0.Add(time.Hour), 5, 2)
			next := &notifier.Record{SchemaVersion: notifier.SchemaVersion, Unit: "payments", At: "2026-12-01T11:00:00Z", Sequence: 2, Deliveries: dels, State: st}
			if _, _, err := next.Encode(); err != nil {
				t.Fatalf("encode after a decoded record: %v", err)
			}
		}
	})
}
