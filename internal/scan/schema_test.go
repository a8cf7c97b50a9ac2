package scan

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// schemaTofu is fakeTofu that also answers `providers schema -json` with $FAKE_SCHEMA (or fails
// when it is empty), logging every call to $FAKE_TOFU_LOG.
func schemaTofu(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tofu")
	script := `#!/bin/sh
echo "$1" >> "$FAKE_TOFU_LOG"
case "$1" in
init) exit 0 ;;
plan) for a in "$@"; do case "$a" in -out=*) : > "${a#-out=}" ;; esac; done; exit 2 ;;
show) cat "$FAKE_PLAN"; exit 0 ;;
providers) [ -n "$FAKE_SCHEMA" ] || { echo "no schema here" >&2; exit 1; }; cat "$FAKE_SCHEMA"; exit 0 ;;
esac
exit 1
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// A scan learns the stack's provider bookkeeping from `tofu providers schema -json`: drift of a
// computed-only attribute alone is clean; the schema is cached per stack and lock file; a stack
// whose schema cannot be read is still scanned, with a warning, and its bookkeeping reported.
func TestScanLearnsProviderBookkeeping(t *testing.T) {
	log := filepath.Join(t.TempDir(), "tofu.log")
	cache := t.TempDir()
	u := testUnit(t, "stack")
	if err := os.WriteFile(filepath.Join(u.StackDir, lockFile), []byte("# lock v1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := func(schema string, progress *bytes.Buffer) Options {
		return Options{Tofu: schemaTofu(t), SchemaCacheDir: cache, Progress: progress, Env: []string{
			"FAKE_TOFU_LOG=" + log, "FAKE_PLAN=" + planPath(t, "bookkeeping-plan.json"), "FAKE_SCHEMA=" + schema}}
	}
	calls := func() int {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "providers\n")
	}
	schema := planPath(t, "bookkeeping-schema.json")
	var progress bytes.Buffer
	if r := Run(context.Background(), []Unit{u}, opts(schema, &progress))[0]; r.Status != drift.StatusClean || len(r.Findings) != 0 {
		t.Fatalf("bookkeeping alone: %+v\n%s", r, progress.String())
	}
	if calls() != 1 {
		t.Fatalf("providers schema ran %d times", calls())
	}
	// Same stack, same lock file: the cache answers, even with tofu unable to.
	if r := Run(context.Background(), []Unit{u}, opts("", &progress))[0]; r.Status != drift.StatusClean || calls() != 1 {
		t.Fatalf("cached: %+v, %d calls", r, calls())
	}
	// A provider upgrade changes the lock file: the schema is made again; here tofu cannot, so
	// the scan warns and reports the attribute as drift rather than trusting a stale schema.
	if err := os.WriteFile(filepath.Join(u.StackDir, lockFile), []byte("# lock v2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	progress.Reset()
	r := Run(context.Background(), []Unit{u}, opts("", &progress))[0]
	if calls() != 2 || r.Status != drift.StatusDrifted || !strings.Contains(progress.String(), "built-in list only") {
		t.Fatalf("after the upgrade: %+v, %d calls, progress %q", r, calls(), progress.String())
	}
	// A corrupt cache entry is never used.
	if err := os.WriteFile(filepath.Join(u.StackDir, lockFile), []byte("# lock v1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	entry := schemaCachePath(Options{SchemaCacheDir: cache}, u.StackDir)
	if err := os.WriteFile(entry, []byte(`{"format_version":"9"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := Run(context.Background(), []Unit{u}, opts(schema, &progress))[0]; r.Status != drift.StatusClean || calls() != 3 {
		t.Fatalf("corrupt cache: %+v, %d calls", r, calls())
	}
}
