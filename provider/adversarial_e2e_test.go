package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	mirror := t.TempDir()
	bin := filepath.Join(mirror, "registry.opentofu.org", "driftplane", "drift", "0.1.0", "linux_amd64", "terraform-provider-drift_v0.1.0")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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

// TestAdversarialTofuPlan replays the core's adversarial rows that apply to the provider through
// a real `tofu plan`: every one must fail the plan with an error naming what was refused.
func TestAdversarialTofuPlan(t *testing.T) {
	c := newDriftCLI(t)
	network, _ := filepath.Abs("testdata/network-plan.json")
	notPlan := filepath.Join(c.dir, "not-a-plan.json")
	writeFile(t, notPlan, `{"format_version":"1.2","planned_values":null}`)
	emptyManifests := filepath.Join(c.dir, "empty.yaml")
	writeFile(t, emptyManifests, "# nothing here\n---\n")
	past := time.Now().UTC().Add(-48 * time.Hour).Format(time.RFC3339)
	expired := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)

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
	for _, row := range []struct {
		name  string
		hcl   string
		wants []string
	}{{
		name: "exception scope: /spec/** on a Deployment",
		hcl: kubeUnit + `
data "drift_exception" "e" {
  id          = "EXC-SCOPE"
  unit        = data.drift_managed_unit.u.name
  resource    = "apps/v1/Deployment/web/web"
  paths       = ["/spec/**"]
  drift_class = "UNAUTHORIZED_RUNTIME_DRIFT"
  reason      = "r"
  ticket      = "T-1"
  approved_by = "a"
  expires_at  = "` + soon + `"
}
`,
		wants: []string{`DriftException "EXC-SCOPE": paths[0]: "/spec/**" uses "**"`},
	}, {
		name: "exception scope: one wildcard below the first segment (OpenTofu)",
		hcl: unitHCL("critical") + exceptionHCL("EXC-STAR", "aws_security_group.app_public", "EMERGENCY_DRIFT", soon, `["/*/**"]`) +
			findingHCL(network, "EXC-STAR"),
		wants: []string{`DriftException "EXC-STAR"`, `"/*/**"`},
	}, {
		name: "time: an evaluation_time in the past does not revive an expired exception",
		hcl: unitHCL("critical") + exceptionHCL("EXC-OLD", "module.net.aws_security_group.web", "EMERGENCY_DRIFT", expired, `["/ingress"]`) + `
data "drift_finding" "f" {
  unit            = data.drift_managed_unit.u.policy_json
  exceptions      = [data.drift_exception.EXC-OLD.json]
  plan_json_path  = "` + network + `"
  evaluation_time = "` + past + `"
}
`,
		wants: []string{"Unaccepted drift: module.net.aws_security_group.web", "exception EXC-OLD expired at " + expired, "evaluation_time is in the past"},
	}, {
		name:  "time: an exception approved until 2099",
		hcl:   unitHCL("critical") + exceptionHCL("EXC-FOREVER", "module.net.aws_security_group.web", "EMERGENCY_DRIFT", "2099-01-01T00:00:00Z", `["/ingress"]`),
		wants: []string{"exception EXC-FOREVER", "more than 365 days"},
	}, {
		name:  "time: an exception over the unit's 90 days",
		hcl:   unitHCL("critical") + exceptionHCL("EXC-LONG", "module.net.aws_security_group.web", "EMERGENCY_DRIFT", time.Now().UTC().Add(120*24*time.Hour).Format(time.RFC3339), `["/ingress"]`) + findingHCL(network, "EXC-LONG"),
		wants: []string{`DriftException "EXC-LONG"`, "more than 90 days"},
	}, {
		name:  "plans that are not plans",
		hcl:   unitHCL("none") + findingHCL(notPlan),
		wants: []string{"Cannot read plan: drift is unknown", notPlan},
	}, {
		name: "an empty manifests file",
		hcl: kubeUnit + `
data "drift_finding" "f" {
  unit = data.drift_managed_unit.u.policy_json
  kubernetes {
    manifests_path  = "` + emptyManifests + `"
    kubeconfig_path = "/nonexistent/kubeconfig"
  }
}
`,
		wants: []string{"manifests path " + emptyManifests + " holds no Kubernetes objects"},
	}} {
		t.Run(row.name, func(t *testing.T) {
			out, ok := c.run(row.hcl, "plan", "-input=false")
			if ok {
				t.Fatalf("tofu plan passed:\n%s", out)
			}
			flat := strings.Join(strings.Fields(strings.ReplaceAll(out, "│", " ")), " ")
			for _, w := range row.wants {
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
	plan, _ := filepath.Abs("testdata/secrets-plan.json")
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
		if strings.Contains(s, "PLANTED") {
			t.Errorf("%s holds a planted secret", name)
		}
	}
	if !strings.Contains(show, "/password") || !strings.Contains(show, "/environment") {
		t.Errorf("the findings should still name the changed sensitive fields:\n%s", show)
	}
}
