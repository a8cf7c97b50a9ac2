package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

func manyFindings(blocking, below int) *drift.Report {
	rep := &drift.Report{Unit: "big", Gate: "high"}
	for i := 0; i < blocking; i++ {
		rep.Findings = append(rep.Findings, drift.Finding{ResourceRef: fmt.Sprintf("aws_security_group.b%04d", i),
			DriftClass: drift.ClassUnauthorizedRuntime, Risk: drift.RiskCritical, Blocking: true, ChangedFields: []string{"/ingress"}})
	}
	for i := 0; i < below; i++ {
		risk := drift.RiskLow
		if i%100 == 7 {
			risk = drift.RiskMedium
		}
		rep.Findings = append(rep.Findings, drift.Finding{ResourceRef: fmt.Sprintf("local_file.f%04d", i),
			DriftClass: drift.ClassState, Risk: risk, ChangedFields: []string{}, Deleted: true})
	}
	return rep
}

// TestDiagnosticsScale: 1,000 drifted resources below the gate print one warning, not 1,000;
// blocking findings print one error each up to the bound, then one error saying how many more.
func TestDiagnosticsScale(t *testing.T) {
	diags := findingDiagnostics(manyFindings(35, 1000), true)
	if got := diags.ErrorsCount(); got != maxBlockingErrors+1 {
		t.Errorf("%d errors, want %d", got, maxBlockingErrors+1)
	}
	if got := diags.WarningsCount(); got != 1 {
		t.Fatalf("%d warnings, want 1", got)
	}
	last := diags.Errors()[maxBlockingErrors]
	if !strings.Contains(last.Summary(), "15 more") || !strings.Contains(last.Detail(), "findings attribute") {
		t.Errorf("overflow error: %s / %s", last.Summary(), last.Detail())
	}
	w := diags.Warnings()[0]
	if w.Summary() != "Drift below gate: local_file.f0007 (STATE_DRIFT, MEDIUM) and 999 more (990 STATE_DRIFT LOW, 10 STATE_DRIFT MEDIUM)" {
		t.Errorf("summary %q", w.Summary())
	}
	if !strings.Contains(w.Detail(), "local_file.f0007") || !strings.Contains(w.Detail(), "995 more") {
		t.Errorf("the summary should name the riskiest first and say how many more:\n%s", w.Detail())
	}
	// A gate that is not enforced, or "none": one line each, however many findings.
	diags = findingDiagnostics(manyFindings(35, 1000), false)
	if diags.ErrorsCount() != 0 || diags.WarningsCount() != 2 {
		t.Errorf("not enforced: %d errors, %d warnings", diags.ErrorsCount(), diags.WarningsCount())
	}
	// One finding keeps its own warning.
	diags = findingDiagnostics(manyFindings(0, 1), true)
	if w := diags.Warnings()[0]; w.Summary() != "Drift below gate: local_file.f0000 (STATE_DRIFT, LOW)" {
		t.Errorf("single finding: %q", w.Summary())
	}
}
