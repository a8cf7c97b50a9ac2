package generate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGenerateRefusesAdversarialExceptions replays the core's exception rows (issue 9 classes 1
// and 2) through generate: an application whose .drift/ holds an unscoped or over-long exception
// renders nothing, and the error names the exception and the path.
func TestGenerateRefusesAdversarialExceptions(t *testing.T) {
	soon := time.Now().UTC().Add(7 * 24 * time.Hour).Format(time.RFC3339)
	for _, tc := range []struct{ resource, path, expires, want string }{
		{"apps/v1/Deployment/web/web", "/spec/**", soon, `"/spec/**" uses "**"`},
		{"apps/v1/Deployment/web/web", "/spec/*", soon, `"/spec/*" has a wildcard in its second segment`},
		{"apps/v1/Deployment/web/web", "/metadata", soon, `"/metadata" covers the whole metadata`},
		{"/v1/*/web/web", "/metadata/labels", soon, "spec.ticket: is required"},
		{"apps/v1/Deployment/web/web", "/metadata/labels", "2099-01-01T00:00:00Z", "more than 90 days"},
	} {
		dir := t.TempDir()
		write := func(name, body string) {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		write("app.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec: {replicas: 1}\n")
		write(".drift/unit.yaml", "apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\nmetadata: {name: web}\nspec: {owner: team-web, environment: prod, riskTier: high, gate: high}\n")
		write(".drift/exceptions.yaml", "apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftException\nmetadata: {name: EXC-ADV}\n"+
			"spec: {unit: web, resource: '"+tc.resource+"', paths: ['"+tc.path+"'], driftClass: UNAUTHORIZED_RUNTIME_DRIFT, reason: r, approvedBy: a, expiresAt: '"+tc.expires+"'}\n")
		out, err := Generate(dir, Options{Env: appEnv})
		if err == nil || !strings.Contains(err.Error(), `DriftException "EXC-ADV"`) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: error %v, want %q", tc.resource, tc.path, err, tc.want)
		}
		if len(out) != 0 {
			t.Errorf("%s %s: partial output on error", tc.resource, tc.path)
		}
	}
}
