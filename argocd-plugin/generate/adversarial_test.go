package generate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/adversarial"
)

// TestGenerateReplaysAdversarialTable: every row of the adversarial table that an application's
// repository can carry (an exception or auto-heal policy in .drift/, a render) makes generate
// render nothing, with an error naming what it refused.
func TestGenerateReplaysAdversarialTable(t *testing.T) {
	rows := adversarial.Select(func(r adversarial.Row) bool {
		return r.Kubernetes && (r.Exception != nil || r.Manifests != "" || r.AutoHeal != "")
	})
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	for _, row := range rows {
		t.Run(row.Name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(name, body string) {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			manifests := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec: {replicas: 1}\n"
			if row.Manifests != "" {
				manifests = row.Manifests
			}
			write("app.yaml", manifests)
			write(".drift/unit.yaml", "apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\nmetadata: {name: web}\nspec: {owner: team-web, environment: prod, riskTier: high, gate: high}\n")
			if row.Exception != nil {
				write(".drift/exceptions.yaml", row.Exception.YAML("web"))
			}
			if row.AutoHeal != "" {
				write(".drift/autoheal.yaml", row.AutoHeal)
			}
			out, err := Generate(dir, Options{Env: appEnv})
			if err == nil {
				t.Fatal("generate rendered it")
			}
			for _, w := range row.Want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(out) != 0 {
				t.Error("partial output on error")
			}
		})
	}
}
