package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/adversarial"
)

// driftCLI is a real OpenTofu with this provider installed from a filesystem mirror, for tests
// that must see what `tofu plan` prints and stores, not only what the test framework reports.
type driftCLI struct {
	t    *testing.T
	tofu string
	dir  string
	env  []string
}

func newDriftCLI(t *testing.T) *driftCLI {
	t.Helper()
	tofu := requireTofu(t)
	mirror := providerMirror(t)
	dir := t.TempDir()
	cli := filepath.Join(dir, "cli.tfrc")
	writeFile(t, cli, fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/driftplane/drift"]
  }
  direct { exclude = ["registry.opentofu.org/driftplane/drift"] }
}
`, mirror))
	return &driftCLI{t: t, tofu: tofu, dir: dir, env: append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1", "NO_COLOR=1", "DRIFTPLANE_DIGEST_KEY_FILE="+filepath.Join(dir, "digest-key"))}
}

// providerMirror builds this provider into a filesystem mirror, as `make install` lays it out.
func providerMirror(t *testing.T) string {
	t.Helper()
	mirror := t.TempDir()
	bin := filepath.Join(mirror, "registry.opentofu.org", "driftplane", "drift", "0.1.0", "linux_amd64", "terraform-provider-drift_v0.1.0")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return mirror
}

// run writes main.tf and runs tofu with args, returning everything it printed and whether it
// succeeded.
func (c *driftCLI) run(mainTF string, args ...string) (string, bool) {
	c.t.Helper()
	writeFile(c.t, filepath.Join(c.dir, "main.tf"), `terraform {
  required_providers {
    drift = { source = "driftplane/drift" }
  }
}
`+mainTF)
	var buf bytes.Buffer
	for _, a := range [][]string{{"init", "-input=false", "-no-color"}, append(args, "-no-color")} {
		cmd := exec.Command(c.tofu, a...)
		cmd.Dir, cmd.Env = c.dir, c.env
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			return buf.String(), false
		}
	}
	return buf.String(), true
}

// TestAdversarialTofuPlan replays the adversarial table (internal/testenv/adversarial) through a
// real `tofu plan`: every row that a stack can meet (an exception, a plan file, a manifests
// folder, a policy_file) must fail the plan with an error naming what was refused.
func TestAdversarialTofuPlan(t *testing.T) {
	c := newDriftCLI(t)
	network, _ := filepath.Abs("testdata/network-plan.json")
	kubeUnit := `
data "drift_managed_unit" "u" {
  name        = "payments-web"
  kind        = "kubernetes"
  owner       = "team-web"
  environment = "prod"
  risk_tier   = "critical"
  gate        = "high"
}
`
	rows := adversarial.Select(func(r adversarial.Row) bool { return len(r.Planted) == 0 })
	for i, row := range rows {
		t.Run(row.Name, func(t *testing.T) {
			var hcl string
			wants := row.Want
			switch {
			case row.Exception != nil:
				x := row.Exception
				ticket := ""
				if x.Ticket != "" {
					ticket = "ticket = " + strconv.Quote(x.Ticket)
				}
				exc := fmt.Sprintf(`
data "drift_exception" "e" {
  id          = %q
  unit        = data.drift_managed_unit.u.name
  resource    = %q
  paths       = [%q]
  drift_class = %q
  reason      = "r"
  %s
  approved_by = "a"
  expires_at  = %q
}
`, x.ID, x.Resource, x.Path, x.Class, ticket, x.Expires())
				if row.Kubernetes {
					hcl = kubeUnit + exc
					break
				}
				evaluationTime := ""
				if x.EvaluatedAgo > 0 {
					evaluationTime = fmt.Sprintf("evaluation_time = %q", time.Now().UTC().Add(-x.EvaluatedAgo).Format(time.RFC3339))
				}
				hcl = unitHCL("critical") + exc + fmt.Sprintf(`
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  exceptions     = [data.drift_exception.e.json]
  plan_json_path = %q
  %s
}
`, network, evaluationTime)
			case row.Plan != "":
				file := filepath.Join(c.dir, fmt.Sprintf("plan-%d.json", i))
				writeFile(t, file, row.Plan)
				hcl = unitHCL("none") + findingHCL(file)
				wants = append([]string{"Cannot read plan: drift is unknown", file}, wants...)
			case row.Manifests != "":
				file := filepath.Join(c.dir, fmt.Sprintf("manifests-%d.yaml", i))
				writeFile(t, file, row.Manifests)
				hcl = kubeUnit + fmt.Sprintf(`
data "drift_finding" "f" {
  unit = data.drift_managed_unit.u.policy_json
  kubernetes {
    manifests_path  = %q
    kubeconfig_path = "/nonexistent/kubeconfig"
  }
}
`, file)
				wants = append([]string{file}, wants...)
			case row.AutoHeal != "":
				dir := filepath.Join(c.dir, fmt.Sprintf("drift-%d", i))
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(dir, "unit.yaml"), "apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\n"+
					"metadata: {name: payments-web}\nspec: {owner: team-web, environment: prod, riskTier: high, gate: high}\n")
				writeFile(t, filepath.Join(dir, "autoheal.yaml"), row.AutoHeal)
				hcl = fmt.Sprintf("data \"drift_managed_unit\" \"u\" {\n  policy_file = %q\n}\n", dir)
			default:
				t.Skip("not a stack input")
			}
			out, ok := c.run(hcl, "plan", "-input=false")
			if ok {
				t.Fatalf("tofu plan passed:\n%s", out)
			}
			flat := strings.Join(strings.Fields(strings.ReplaceAll(out, "│", " ")), " ")
			for _, w := range wants {
				if !strings.Contains(flat, w) {
					t.Errorf("tofu plan output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestAdversarialSecretsNeverLeaveTofu plants sensitive values that only one side of the plan
// marks, and one in a list whose elements shift, then greps everything OpenTofu prints and stores.
func TestAdversarialSecretsNeverLeaveTofu(t *testing.T) {
	c := newDriftCLI(t)
	row := adversarial.Select(func(r adversarial.Row) bool { return len(r.Planted) > 0 })[0]
	plan := filepath.Join(t.TempDir(), "secrets-plan.json")
	writeFile(t, plan, row.Plan)
	evidenceDir := filepath.Join(c.dir, "evidence")
	hcl := unitHCL("critical") + `
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  plan_json_path = "` + plan + `"
  enforce_gate   = false
  evidence {
    dir = "` + evidenceDir + `"
  }
}
output "findings" { value = data.drift_finding.f.findings }
output "summary" { value = data.drift_finding.f.summary }
`
	out, ok := c.run(hcl, "apply", "-auto-approve", "-input=false")
	if !ok {
		t.Fatalf("tofu apply: %s", out)
	}
	show, _ := c.run(hcl, "output", "-json")
	blobs := map[string]string{"apply output": out, "tofu output -json": show}
	for _, dir := range []string{c.dir, evidenceDir} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Type().IsRegular() {
				b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				blobs[filepath.Join(dir, e.Name())] = string(b)
			}
		}
	}
	if _, ok := blobs[filepath.Join(c.dir, "terraform.tfstate")]; !ok {
		t.Fatal("no state written")
	}
	for name, s := range blobs {
		for _, p := range row.Planted {
			if strings.Contains(s, p) {
				t.Errorf("%s holds the planted secret %q", name, p)
			}
		}
	}
	if !strings.Contains(show, "/password") || !strings.Contains(show, "/environment") {
		t.Errorf("the findings should still name the changed sensitive fields:\n%s", show)
	}
}
