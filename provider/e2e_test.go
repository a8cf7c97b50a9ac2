package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2ETofuPlanGate drives the user's workflow with the real OpenTofu CLI and the provider
// installed from a filesystem mirror, exactly as a user installs it: apply, drift out of band,
// detect with a refresh-only plan that excludes the gate, then `tofu plan` must exit non-zero
// with the classified finding, and exit zero once an exception accepts it. Sensitive content
// must not appear anywhere in OpenTofu's output.
func TestE2ETofuPlanGate(t *testing.T) {
	tofu := requireTofu(t)
	paths := toolPaths(t)
	mirror := providerMirror(t)
	dir := t.TempDir()
	cli := filepath.Join(dir, "cli.tfrc")
	writeFile(t, cli, fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/driftplane/drift"]
  }
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/hashicorp/local"]
  }
  direct { exclude = ["registry.opentofu.org/driftplane/drift", "registry.opentofu.org/hashicorp/local"] }
}
`, mirror, paths["LOCAL_MIRROR"]))
	const secret = "db-password-9f8e7d"
	stack := `terraform {
  required_providers {
    drift = { source = "driftplane/drift" }
    local = { source = "hashicorp/local" }
  }
}

resource "local_file" "config" {
  filename = "${path.module}/app.conf"
  content  = "replicas=3\n"
}

resource "local_sensitive_file" "password" {
  filename = "${path.module}/password.txt"
  content  = "` + secret + `"
}

data "drift_managed_unit" "u" {
  name        = "e2e-prod"
  owner       = "team-e2e"
  environment = "prod"
  risk_tier   = "critical"
  gate        = var.gate
}

variable "gate" {
  type    = string
  default = "medium"
}

data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  exceptions     = [for e in data.drift_exception.accepted : e.json]
  plan_json_path = "${path.module}/drift-plan.json"
}

output "summary" { value = data.drift_finding.f.summary }
`
	writeFile(t, filepath.Join(dir, "main.tf"), stack)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "NO_COLOR=1")
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(tofu, append(args, "-no-color")...)
		cmd.Dir, cmd.Env = dir, env
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		err := cmd.Run()
		out := buf.String()
		if strings.Contains(out, secret) {
			t.Fatalf("tofu %v printed the sensitive value:\n%s", args, out)
		}
		if wantOK && err != nil {
			t.Fatalf("tofu %v: %v\n%s", args, err, out)
		}
		if !wantOK && err == nil {
			t.Fatalf("tofu %v succeeded, want a non-zero exit:\n%s", args, out)
		}
		return out
	}
	writeFile(t, filepath.Join(dir, "exceptions.tf"), `locals { accepted = {} }
data "drift_exception" "accepted" {
  for_each    = local.accepted
  id          = each.key
  unit        = data.drift_managed_unit.u.name
  resource    = each.value
  drift_class = "STATE_DRIFT"
  reason      = "file rotated by the on-call during INC-42"
  ticket      = "INC-42"
  approved_by = "oncall-lead"
  expires_at  = "`+soon+`"
}
`)
	run(true, "init", "-input=false")
	run(true, "apply", "-auto-approve", "-input=false", "-exclude=data.drift_finding.f")
	detect := func() {
		run(true, "plan", "-refresh-only", "-input=false", "-exclude=data.drift_finding.f", "-out=drift.plan")
		cmd := exec.Command(tofu, "show", "-json", "drift.plan")
		cmd.Dir, cmd.Env = dir, env
		js, err := cmd.Output()
		if err != nil {
			t.Fatalf("tofu show -json: %v", err)
		}
		writeFile(t, filepath.Join(dir, "drift-plan.json"), string(js))
	}

	detect()
	out := run(true, "plan", "-input=false")
	if !strings.Contains(out, `summary = "no drift"`) {
		t.Errorf("clean stack: want summary \"no drift\" in plan output:\n%s", out)
	}

	writeFile(t, filepath.Join(dir, "app.conf"), "replicas=30\n")
	writeFile(t, filepath.Join(dir, "password.txt"), "rotated-by-hand")
	detect()
	out = run(false, "plan", "-input=false")
	for _, want := range []string{
		"Error: Unaccepted drift: local_file.config (STATE_DRIFT, MEDIUM)",
		"Error: Unaccepted drift: local_sensitive_file.password (STATE_DRIFT, MEDIUM)",
		"recommended action STATE_REFRESH",
		"no\nexception matches local_file.config",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("failing plan output lacks %q:\n%s", want, out)
		}
	}

	// Above the findings' risk the plan passes, and the drift is a warning, not silence.
	out = run(true, "plan", "-input=false", "-var=gate=high")
	if !strings.Contains(out, "Warning: Drift below gate: local_file.config (STATE_DRIFT, MEDIUM)") {
		t.Errorf("plan below the gate lacks the warning:\n%s", out)
	}

	writeFile(t, filepath.Join(dir, "exceptions.tf"), strings.Replace(readFile(t, filepath.Join(dir, "exceptions.tf")),
		"locals { accepted = {} }", `locals { accepted = { "EXC-42" = "local_file.config", "EXC-43" = "local_sensitive_file.password" } }`, 1))
	out = run(true, "plan", "-input=false")
	if !strings.Contains(out, "2 accepted by exception; 0 blocking at gate medium") {
		t.Errorf("accepted plan output lacks the summary:\n%s", out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
