package pipeline

import (
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

// escalateRepeatedFailures raises the risk of a failed reconciliation the previous evaluation
// already had open (drift.EscalateRepeatedFailures), before the record is made, so the ledger,
// the budgets and the report all see the raised risk.
func escalateRepeatedFailures(rep *drift.Report, unit *drift.ManagedUnit, table *drift.Table, prev *ledger.Record) {
	if prev == nil || len(prev.Open) == 0 {
		return
	}
	classes := make(map[string]drift.Class, len(prev.Open))
	for _, e := range prev.Open {
		classes[e.Fingerprint] = drift.Class(e.DriftClass)
	}
	for i := range rep.Findings {
		rep.Findings[i].Fingerprint = drift.Fingerprint(rep.Findings[i])
	}
	drift.EscalateRepeatedFailures(rep, unit, table, classes)
}
