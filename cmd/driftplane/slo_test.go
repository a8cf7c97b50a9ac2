package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

var sloT0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// recordEvaluation appends an evaluation of u to the ledger in dir as the pipeline does: stale
// bound from the schedule, budgets judged on the history.
func recordEvaluation(t *testing.T, dir string, u *drift.ManagedUnit, at time.Time, fs ...drift.Finding) {
	t.Helper()
	ctx := context.Background()
	s := blob.Dir(dir)
	prev, key, err := ledger.Latest(ctx, s, u.Metadata.Name)
	if err != nil {
		t.Fatal(err)
	}
	st := drift.StatusClean
	if len(fs) > 0 {
		st = drift.StatusDrifted
	}
	rep := &drift.Report{Unit: u.Metadata.Name, Status: st, Findings: fs}
	rec := ledger.Next(prev, key, rep, at, ledger.Outcome{})
	if d, _ := drift.StaleAfter(u.Spec.Schedule); d > 0 {
		rec.StaleAfter = d.String()
	}
	drift.ApplyBudgets(rep, u, at, nil, &drift.History{})
	rec.Budgets = rep.Budgets
	if _, _, err := ledger.Append(ctx, s, rec, prev); err != nil {
		t.Fatal(err)
	}
}

func runSLO(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"slo"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// slo exits 0 while every budget holds and every unit is fresh, 2 when a budget is exhausted or
// a unit stale (after printing the SLIs), 3 when the ledger cannot be read, 64 on usage errors.
func TestSLOExitCodes(t *testing.T) {
	dir := t.TempDir()
	zero := 0
	web := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "web"}, Spec: drift.UnitSpec{Schedule: "1h",
		Budgets: []drift.Budget{{Name: "identity-zero", Domain: "identity", MaxOpen: &zero}}}}
	role := drift.Finding{FindingID: "f1", Unit: "web", ResourceRef: "aws_iam_role.app", DriftClass: drift.ClassUnauthorizedRuntime,
		Risk: drift.RiskCritical, Domain: "identity", Owner: "team", Environment: "prod", ChangedFields: []string{"/policy"}}
	recordEvaluation(t, dir, web, sloT0)
	at := func(d time.Duration) string { return sloT0.Add(d).Format(time.RFC3339) }

	code, out, errOut := runSLO("--evidence", dir, "--to", at(time.Hour), "--since", "24h")
	if code != 0 || !strings.Contains(out, "Budgets (0 exhausted, 0 burning of 1)") || errOut != "" {
		t.Fatalf("fresh, within budget: exit %d\n%s\n%s", code, out, errOut)
	}

	// Three hours after its last evaluation, a unit scheduled hourly is stale: exit 2, and its
	// budget shows exhausted since it went stale.
	code, out, errOut = runSLO("--evidence", dir, "--to", at(3*time.Hour), "--format", "json")
	if code != 2 || !strings.Contains(errOut, "1 unit(s) stale") {
		t.Fatalf("stale: exit %d\n%s", code, errOut)
	}
	var rep struct {
		Budgets []drift.BudgetState `json:"budgets"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Budgets) != 1 || rep.Budgets[0].State != drift.BudgetExhausted || rep.Budgets[0].Reason != "stale since "+at(2*time.Hour) {
		t.Errorf("budgets %+v", rep.Budgets)
	}

	// Fresh, but the identity budget is exhausted by open drift.
	recordEvaluation(t, dir, web, sloT0.Add(4*time.Hour), role)
	code, out, errOut = runSLO("--evidence", dir, "--to", at(5*time.Hour), "--format", "markdown", "--by", "domain")
	if code != 2 || !strings.Contains(errOut, "1 budget(s) exhausted, 0 unit(s) stale") || !strings.Contains(out, "| web | identity-zero | exhausted |") {
		t.Fatalf("exhausted: exit %d\n%s\n%s", code, out, errOut)
	}

	// A ledger folder holding something that is not a record cannot be read: exit 3.
	if _, err := blob.Dir(dir).Put("ledger/web/notes.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runSLO("--evidence", dir, "--to", at(5*time.Hour)); code != 3 || !strings.Contains(errOut, "notes.json") {
		t.Errorf("unreadable ledger: exit %d\n%s", code, errOut)
	}

	for _, args := range [][]string{
		{},
		{"--evidence", dir, "--stale-after", "0s"},
		{"--evidence", dir, "--since", "-1h"},
		{"--evidence", dir, "--by", "colour"},
		{"--evidence", dir, "--format", "yaml"},
		{"--evidence", dir, "--to", "yesterday"},
	} {
		if code, _, _ := runSLO(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// The exit codes are in the command's help.
func TestSLOHelpNamesExitCodes(t *testing.T) {
	code, out, _ := runSLO("--help")
	if code != 0 || !strings.Contains(out, "2 they were printed and a budget is exhausted or a unit is\nstale") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "M8") || !strings.Contains(out, "M9") {
		t.Errorf("help does not name the SLIs:\n%s", out)
	}
}
