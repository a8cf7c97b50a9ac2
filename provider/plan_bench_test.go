package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/plangen"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// BenchmarkTofuPlan is what the gate costs a user: a whole `tofu plan` of a root module whose
// drift_finding reads a generated 10,000-resource plan (1,000 drifted), against the same module
// without drift_finding, and terraform-json parsing the same file as the baseline `make bench`
// divides the added time by. It also reports how many lines `tofu plan` printed, since a gate
// that prints thousands of warnings costs its reader more than its CPU.
func BenchmarkTofuPlan(b *testing.B) {
	tofu := testtools.Require(b, "TOFU")
	dir := b.TempDir()
	mirror := filepath.Join(dir, "mirror")
	bin := filepath.Join(mirror, "registry.opentofu.org", "driftplane", "drift", "0.1.0", "linux_amd64", "terraform-provider-drift_v0.1.0")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	cli := filepath.Join(dir, "cli.tfrc")
	writeBenchFile(b, cli, fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/driftplane/drift"]
  }
  direct { exclude = ["registry.opentofu.org/driftplane/drift"] }
}
`, mirror))
	plan := plangen.Generate(10000, 1000)
	planPath := filepath.Join(dir, "drift-plan.json")
	writeBenchFile(b, planPath, string(plan))
	unit := `terraform {
  required_providers {
    drift = { source = "driftplane/drift" }
  }
}

data "drift_managed_unit" "u" {
  name        = "bench"
  owner       = "platform"
  environment = "prod"
  risk_tier   = "high"
  gate        = "critical"
}
`
	gated := unit + fmt.Sprintf(`
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  plan_json_path = %q
}
`, planPath)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "NO_COLOR=1",
		"DRIFTPLANE_DIGEST_KEY_FILE="+filepath.Join(dir, "digest-key"))
	module := func(name, mainTF string) string {
		m := filepath.Join(dir, name)
		writeBenchFile(b, filepath.Join(m, "main.tf"), mainTF)
		init := exec.Command(tofu, "init", "-input=false", "-no-color")
		init.Dir, init.Env = m, env
		if out, err := init.CombinedOutput(); err != nil {
			b.Fatalf("tofu init: %v\n%s", err, out)
		}
		return m
	}
	plain, withGate := module("without", unit), module("with", gated)
	runPlan := func(b *testing.B, m string) {
		for b.Loop() {
			cmd := exec.Command(tofu, "plan", "-input=false", "-no-color", "-lock=false")
			cmd.Dir, cmd.Env = m, env
			out, err := cmd.CombinedOutput()
			// A blocking finding fails the plan; that is the gate working, not the benchmark failing.
			if err != nil && !bytes.Contains(out, []byte("Error: Unaccepted drift: ")) {
				b.Fatalf("tofu plan: %v\n%s", err, out)
			}
			b.ReportMetric(float64(bytes.Count(out, []byte("\n"))), "lines/op")
		}
	}
	b.Run("without_drift_finding", func(b *testing.B) { runPlan(b, plain) })
	b.Run("with_drift_finding", func(b *testing.B) { runPlan(b, withGate) })
	b.Run("terraform_json_parse", func(b *testing.B) {
		b.SetBytes(int64(len(plan)))
		for b.Loop() {
			var p tfjson.Plan
			if err := json.Unmarshal(plan, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func writeBenchFile(b *testing.B, path, content string) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}
