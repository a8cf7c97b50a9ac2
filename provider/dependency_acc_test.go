package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// drift_finding over a real OpenTofu normal plan of a stack with hashicorp/local: a local_file
// whose content comes from data.local_file (another file) is DEPENDENCY_DRIFT naming the data
// source once that file changes, the managed file edited out of band in the same run keeps a
// finding of its own, and a terraform_data whose local-exec provisioner failed (tainted) is
// FAILED_RECONCILIATION, never unauthorized drift and never healed.
func TestAccDependencyDriftAndFailedReconciliation(t *testing.T) {
	stack := newRealStack(t)
	main := `resource "local_file" "managed" {
  filename = "${path.module}/managed.txt"
  content  = "desired content from git\n"
}

data "local_file" "upstream" {
  filename = "${path.module}/upstream.txt"
}

resource "local_file" "derived" {
  filename = "${path.module}/derived.txt"
  content  = "base: ${data.local_file.upstream.content}"
}

resource "terraform_data" "broken" {
  input = "migrate"
  provisioner "local-exec" {
    command = "exit 1"
  }
}
`
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(stack.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.tf", main)
	write("upstream.txt", "ami-1\n")
	// The provisioner fails, so the apply does: OpenTofu keeps terraform_data.broken, tainted.
	cmd := exec.Command(stack.tofu, "apply", "-auto-approve", "-input=false", "-no-color")
	cmd.Dir, cmd.Env = stack.dir, stack.env
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "exit 1") {
		t.Fatalf("want the apply to fail in the provisioner, got %v:\n%s", err, out)
	}
	write("upstream.txt", "ami-2\n")
	write("managed.txt", "hand-edited in production\n")
	plan := stack.planJSON()

	elem := func(ref, class, action, explanation string) resource.TestCheckFunc {
		return resource.TestMatchTypeSetElemNestedAttrs("data.drift_finding.f", "findings.*", map[string]*regexp.Regexp{
			"resource_ref":       regexp.MustCompile("^" + regexp.QuoteMeta(ref) + "$"),
			"drift_class":        regexp.MustCompile("^" + class + "$"),
			"recommended_action": regexp.MustCompile("^" + action + "$"),
			"auto_heal_allowed":  regexp.MustCompile("^false$"),
			"explanation":        regexp.MustCompile(explanation),
		})
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: unitHCL("critical") + fmt.Sprintf(`
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  plan_json_path = %q
}
`, plan),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.drift_finding.f", "findings.#", "3"),
				elem("local_file.derived", "DEPENDENCY_DRIFT", "REPLAN_AND_VALIDATE", `data\.local_file\.upstream changed.*pin`),
				resource.TestCheckTypeSetElemNestedAttrs("data.drift_finding.f", "findings.*", map[string]string{
					"resource_ref": "local_file.derived", "changed_fields.0": "/content", "changed_fields.#": "1", "rule": "dependency-drift",
				}),
				// hashicorp/local reads a file edited out of band as gone.
				resource.TestCheckTypeSetElemNestedAttrs("data.drift_finding.f", "findings.*", map[string]string{
					"resource_ref": "local_file.managed", "drift_class": "STATE_DRIFT", "deleted": "true",
				}),
				elem("terraform_data.broken", "FAILED_RECONCILIATION", "INVESTIGATE_CONTROL_LOOP", `tainted`),
			),
		}},
	})
}

// drift_finding with the lock files of the last apply and of the plan: an attribute the upgraded
// provider reads is DEPENDENCY_DRIFT naming both versions, marked provider_upgrade, while a value
// changed beside it stays unauthorized drift; one lock file alone is a configuration error.
func TestAccProviderUpgradeFromLockFiles(t *testing.T) {
	dir := t.TempDir()
	lock := func(name, version string) string {
		p := filepath.Join(dir, name)
		body := `provider "registry.opentofu.org/hashicorp/aws" {
  version     = "` + version + `"
  constraints = "~> 6.0"
  hashes = [
    "h1:abc=",
  ]
}
`
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	recorded, current := lock("recorded.lock.hcl", "6.1.0"), lock("current.lock.hcl", "6.2.0")
	plan := filepath.Join(dir, "plan.json")
	js := `{"format_version":"1.2","terraform_version":"1.10.10","planned_values":{"root_module":{}},
 "resource_drift":[{"address":"aws_instance.web","mode":"managed","type":"aws_instance","name":"web",
  "provider_name":"registry.opentofu.org/hashicorp/aws",
  "change":{"actions":["update"],"before":{"instance_type":"t3.small"},
   "after":{"instance_type":"t3.large","cpu_options":[{"core_count":2}]},"after_unknown":{}}}],
 "configuration":{"root_module":{}}}`
	if err := os.WriteFile(plan, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := func(locks string) string {
		return unitHCL("critical") + fmt.Sprintf(`
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  plan_json_path = %q
%s}
`, plan, locks)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg(fmt.Sprintf("  lock_file_path = %q\n  recorded_lock_file_path = %q\n", current, recorded)),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.drift_finding.f", "findings.#", "2"),
				resource.TestMatchTypeSetElemNestedAttrs("data.drift_finding.f", "findings.*", map[string]*regexp.Regexp{
					"changed_fields.0": regexp.MustCompile("^/cpu_options$"),
					"drift_class":      regexp.MustCompile("^DEPENDENCY_DRIFT$"),
					"provider_upgrade": regexp.MustCompile("^true$"),
					"rule":             regexp.MustCompile("^provider-upgrade$"),
					"explanation":      regexp.MustCompile(`from 6\.1\.0 to 6\.2\.0`),
				}),
				resource.TestCheckTypeSetElemNestedAttrs("data.drift_finding.f", "findings.*", map[string]string{
					"changed_fields.0": "/instance_type", "drift_class": "UNAUTHORIZED_RUNTIME_DRIFT", "provider_upgrade": "false",
				}),
			),
		}, {
			Config:      cfg(fmt.Sprintf("  lock_file_path = %q\n", current)),
			ExpectError: regexp.MustCompile(`Both lock files or neither`),
		}},
	})
}
