// Package testtools finds the real programs scripts/tools.sh builds into its per-user cache, for tests.
// A missing program skips the test outside CI and fails it in CI, where a skipped integration test
// proves nothing.
package testtools

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// toolPaths runs `scripts/tools.sh paths` once per test binary; the map is read-only afterwards.
var toolPaths = sync.OnceValues(func() (map[string]string, error) {
	out, err := exec.Command("bash", filepath.Join(Root(), "scripts", "tools.sh"), "paths").Output()
	paths := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			paths[k] = v
		}
	}
	return paths, err
})

// Paths returns what `scripts/tools.sh paths` prints: TOFU, LOCAL_MIRROR, KUBE_APISERVER, ...
// The map is shared: read it, never write it.
func Paths(t testing.TB) map[string]string {
	t.Helper()
	paths, err := toolPaths()
	if err != nil {
		t.Fatalf("scripts/tools.sh paths: %v", err)
	}
	return paths
}

// Require returns the path of a program (a Paths key), skipping or failing when it is absent.
func Require(t testing.TB, key string) string {
	t.Helper()
	p := Paths(t)[key]
	if _, err := os.Stat(p); p == "" || err != nil {
		Missing(t, key+" ("+p+")")
	}
	return p
}

// Command returns a program from PATH, skipping or failing when it is absent.
func Command(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name)
	}
	return p
}

// Missing skips outside CI and fails in CI.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing: run `make tools` (the end-to-end test also needs redis-server: `make system-deps`)", what)
	}
	t.Skipf("%s is missing: run `make tools`", what)
}
