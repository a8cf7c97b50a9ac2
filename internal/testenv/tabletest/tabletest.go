// Package tabletest builds decision tables that differ from the built-in one in one place, so a
// front end's test can show that a decision follows internal/drift/decisions.yaml and not Go code
// of its own. It is test-only: no product package may import it.
package tabletest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// With is the built-in decision table with old, which must occur exactly once in
// internal/drift/decisions.yaml, replaced by new.
func With(t testing.TB, old, new string) *drift.Table {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "drift", "decisions.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), old); n != 1 {
		t.Fatalf("decisions.yaml holds %q %d times, want once", old, n)
	}
	tab, err := drift.LoadTable([]byte(strings.Replace(string(src), old, new, 1)))
	if err != nil {
		t.Fatalf("decisions.yaml with %q for %q: %v", new, old, err)
	}
	return tab
}
