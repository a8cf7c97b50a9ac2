package scan

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/s3test"
)

// fakeTofu writes a stand-in for tofu: init succeeds, plan reports drift (exit 2) after
// $FAKE_PLAN_SLEEP seconds and touches -out=, show prints $FAKE_PLAN. Every call is appended to
// $FAKE_TOFU_LOG. It makes the scan's own behaviour testable without a real stack; the real
// program is exercised in cmd/driftplane.
func fakeTofu(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tofu")
	script := `#!/bin/sh
[ -n "$FAKE_TOFU_LOG" ] && echo "$1" >> "$FAKE_TOFU_LOG"
case "$1" in
init) echo "OpenTofu has been successfully initialized!"; exit 0 ;;
plan)
  [ -n "$FAKE_PLAN_SLEEP" ] && sleep "$FAKE_PLAN_SLEEP"
  for a in "$@"; do case "$a" in -out=*) : > "${a#-out=}" ;; esac; done
  exit 2 ;;
show) cat "$FAKE_PLAN"; exit 0 ;;
esac
echo "unexpected $*" >&2
exit 1
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func testUnit(t *testing.T, name string) Unit {
	t.Helper()
	return Unit{Policy: &drift.ManagedUnit{Metadata: drift.Metadata{Name: name}, Spec: drift.UnitSpec{
		Kind: drift.UnitOpenTofuStack, Owner: "team", Environment: "prod", RiskTier: "critical", Gate: "medium"}},
		StackDir: t.TempDir()}
}

func planPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPanickingUnitIsUnknown: issue 9 class 10. A unit whose scan panics is unknown with the
// panic named, the other units are scanned, every worker is waited for, and the exit code is 3.
func TestPanickingUnitIsUnknown(t *testing.T) {
	var finished atomic.Int32
	scanUnit := func(ctx context.Context, u Unit, o Options) Result {
		defer finished.Add(1)
		if u.Policy.Metadata.Name == "b" {
			bump(nil, "boom") // a nil-map write: a real runtime panic
		}
		if u.Policy.Metadata.Name == "d" {
			panic(fmt.Errorf("injected"))
		}
		time.Sleep(20 * time.Millisecond)
		return Result{Unit: u.Policy.Metadata.Name, Status: drift.StatusClean, Findings: []drift.Finding{}}
	}
	units := []Unit{testUnit(t, "a"), testUnit(t, "b"), testUnit(t, "c"), testUnit(t, "d"), testUnit(t, "e")}
	var progress bytes.Buffer
	results := Run(context.Background(), units, Options{Parallelism: 3, Progress: &progress, scanUnit: scanUnit})
	if finished.Load() != 5 {
		t.Fatalf("%d units finished", finished.Load())
	}
	for i, r := range results {
		name := units[i].Policy.Metadata.Name
		switch name {
		case "b", "d":
			if r.Status != StatusUnknown || !strings.Contains(r.Error, "panic") || r.Unit != name {
				t.Errorf("%s: %+v", name, r)
			}
		default:
			if r.Status != drift.StatusClean {
				t.Errorf("%s: %+v", name, r)
			}
		}
	}
	if !strings.Contains(results[1].Error, "assignment to entry in nil map") || !strings.Contains(results[3].Error, "injected") {
		t.Errorf("panic values: %q, %q", results[1].Error, results[3].Error)
	}
	if ExitCode(results) != 3 {
		t.Errorf("exit code %d, want 3", ExitCode(results))
	}
	if !strings.Contains(progress.String(), "unit b panicked") || !strings.Contains(progress.String(), "[5/5]") {
		t.Errorf("progress:\n%s", progress.String())
	}
	var out bytes.Buffer
	if err := Write(&out, "sarif", results); err != nil || strings.Count(out.String(), `"ruleId": "UNKNOWN`) != 2 {
		t.Errorf("sarif must report both panicked units as unknown errors (%v):\n%s", err, out.String())
	}
}

func bump(m map[string]int, k string) { m[k]++ }

// TestEvidenceUploadStopsOnTimeout: issue 9 class 9. The unit's --timeout covers the evidence
// upload: an S3 server that never answers the PUT leaves the unit unknown, promptly, and the
// server sees the request go away.
func TestEvidenceUploadStopsOnTimeout(t *testing.T) {
	o, st := s3test.StartStalledPuts(t, "evidence")
	c, err := blob.Client(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Tofu: fakeTofu(t), Parallelism: 2, Timeout: 1500 * time.Millisecond,
		Evidence: blob.S3Store{Client: c, Bucket: "evidence", Prefix: "nightly"},
		Env:      []string{"FAKE_PLAN=" + planPath(t, "clean-plan.json")}}
	start := time.Now()
	results := Run(context.Background(), []Unit{testUnit(t, "a"), testUnit(t, "b")}, opts)
	took := time.Since(start)
	for _, r := range results {
		if r.Status != StatusUnknown || !strings.Contains(r.Error, "evidence") || !strings.Contains(r.Error, "timed out") ||
			!strings.Contains(r.Error, "deadline exceeded") || r.Evidence != "" {
			t.Errorf("%s: %+v", r.Unit, r)
		}
	}
	if took > 6*time.Second {
		t.Errorf("scan took %s with a 1.5s unit limit", took)
	}
	t.Logf("two uploads stopped; scan returned after %s (limit 1.5s per unit)", took.Round(time.Millisecond))
	if st.Puts.Load() == 0 {
		t.Fatal("no upload reached the server")
	}
	deadline := time.Now().Add(2 * time.Second)
	for st.Cancelled.Load() < st.Puts.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st.Cancelled.Load() < st.Puts.Load() {
		t.Errorf("server saw %d of %d uploads cancelled", st.Cancelled.Load(), st.Puts.Load())
	}
}

// TestStoppedScan: once the scan's context ends (SIGTERM), running units stop and units not yet
// started are unknown without running tofu.
func TestStoppedScan(t *testing.T) {
	log := filepath.Join(t.TempDir(), "calls")
	opts := Options{Tofu: fakeTofu(t), Parallelism: 1, Timeout: time.Minute,
		Env: []string{"FAKE_PLAN=" + planPath(t, "clean-plan.json"), "FAKE_PLAN_SLEEP=30", "FAKE_TOFU_LOG=" + log}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	results := Run(ctx, []Unit{testUnit(t, "a"), testUnit(t, "b"), testUnit(t, "c")}, opts)
	if took := time.Since(start); took > tofuGrace+3*time.Second {
		t.Errorf("stopped scan took %s", took)
	}
	for _, r := range results {
		if r.Status != StatusUnknown || !strings.Contains(r.Error, "scan stopped") {
			t.Errorf("%s: %+v", r.Unit, r)
		}
	}
	calls, _ := os.ReadFile(log)
	if got := strings.Fields(string(calls)); len(got) != 2 || got[0] != "init" || got[1] != "plan" {
		t.Errorf("tofu calls %v: only the first unit may have run", got)
	}
	if ExitCode(results) != 3 {
		t.Errorf("exit %d", ExitCode(results))
	}
}

// TestPlanOutputBound: `tofu show -json` printing more than the bound is unknown, not read.
func TestPlanOutputBound(t *testing.T) {
	opts := Options{Tofu: fakeTofu(t), MaxPlanBytes: 100, Env: []string{"FAKE_PLAN=" + planPath(t, "clean-plan.json")}}
	r := Run(context.Background(), []Unit{testUnit(t, "a")}, opts)[0]
	if r.Status != StatusUnknown || !strings.Contains(r.Error, "more than 100 bytes") {
		t.Fatalf("%+v", r)
	}
	opts.MaxPlanBytes = 0
	if r := Run(context.Background(), []Unit{testUnit(t, "a")}, opts)[0]; r.Status != drift.StatusClean {
		t.Fatalf("default bound: %+v", r)
	}
}

// TestNotAPlanIsUnknown: issue 9 class 3 through scan: tofu printing something that is not a
// plan is unknown, never clean.
func TestNotAPlanIsUnknown(t *testing.T) {
	bogus := filepath.Join(t.TempDir(), "bogus.json")
	if err := os.WriteFile(bogus, []byte(`{"format_version":"1.2","planned_values":null}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := Run(context.Background(), []Unit{testUnit(t, "a")}, Options{Tofu: fakeTofu(t), Env: []string{"FAKE_PLAN=" + bogus}})[0]
	if r.Status != StatusUnknown || !strings.Contains(r.Error, "planned_values null") {
		t.Fatalf("%+v", r)
	}
}

// planted are the secrets of testdata/secrets-plan.json: a value sensitive on one side only, a
// list whose sensitive element shifts, and a deleted resource's sensitive attribute.
var planted = []string{"PLANTED-one-sided-before", "PLANTED-one-sided-after", "PLANTED-shifted-token", "PLANTED-deleted-secret", "PLANTED"}

// TestSecretsNeverOutput: issue 9 class 4 through scan. No planted value appears in any output
// format, the progress stream or the evidence records, and the evidence carries the keyed
// digests of the installation key that was passed in.
func TestSecretsNeverOutput(t *testing.T) {
	d, err := drift.NewDigester([]byte("scan-test-installation-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var progress bytes.Buffer
	results := Run(context.Background(), []Unit{testUnit(t, "secrets")}, Options{Tofu: fakeTofu(t), Digester: d,
		Evidence: evidence.Dir(dir), Progress: &progress, Env: []string{"FAKE_PLAN=" + planPath(t, "secrets-plan.json")}})
	r := results[0]
	if r.Status != drift.StatusDrifted || len(r.Findings) != 3 || r.Evidence == "" {
		t.Fatalf("%+v", r)
	}
	outputs := map[string]string{"progress": progress.String()}
	for _, format := range []string{"text", "json", "markdown", "sarif"} {
		var b bytes.Buffer
		if err := Write(&b, format, results); err != nil {
			t.Fatal(err)
		}
		outputs[format] = b.String()
	}
	record, err := os.ReadFile(r.Evidence)
	if err != nil {
		t.Fatal(err)
	}
	outputs["evidence"] = string(record)
	for name, out := range outputs {
		for _, secret := range planted {
			if strings.Contains(out, secret) {
				t.Errorf("%s output holds %q:\n%s", name, secret, out)
			}
		}
	}
	for _, want := range []string{string(d.Digest("PLANTED-one-sided-before")), string(d.Digest("PLANTED-one-sided-after"))} {
		if !strings.Contains(outputs["evidence"], want) {
			t.Errorf("evidence lacks the keyed digest %s", want)
		}
	}
	if !strings.Contains(outputs["text"], "values withheld") {
		t.Errorf("text output should say values are withheld:\n%s", outputs["text"])
	}
	// The list whose sensitive element shifted is hidden whole.
	if strings.Contains(outputs["evidence"], "plain-a") {
		t.Errorf("a list holding a sensitive element must be hidden whole:\n%s", outputs["evidence"])
	}
	if _, err := evidence.Decode(r.Evidence, record); err != nil {
		t.Errorf("record does not decode: %v", err)
	}
}

// An exhausted budget fails the scan even when nothing is open to block (a spent objective);
// burning budgets do not; unknown still wins.
func TestExitCodeBudgets(t *testing.T) {
	clean := Result{Unit: "a", Status: drift.StatusClean, Budgets: []drift.BudgetState{{Name: "b", State: drift.BudgetBurning}}}
	spent := Result{Unit: "b", Status: drift.StatusClean, Budgets: []drift.BudgetState{{Name: "cost-7d", State: drift.BudgetExhausted}}}
	if got := ExitCode([]Result{clean}); got != 0 {
		t.Errorf("burning budget: exit %d", got)
	}
	if got := ExitCode([]Result{clean, spent}); got != 2 {
		t.Errorf("exhausted budget: exit %d, want 2", got)
	}
	if got := ExitCode([]Result{spent, {Unit: "c", Status: StatusUnknown}}); got != 3 {
		t.Errorf("with an unknown unit: exit %d, want 3", got)
	}
}
