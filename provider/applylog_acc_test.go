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
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// drift_finding with the log of the last apply (`tofu apply -json`) of a real OpenTofu stack in
// which creating local_file.broken failed: OpenTofu keeps nothing of it in the state, so only
// the log says the unit did not converge. It is FAILED_RECONCILIATION with OpenTofu's summary
// and never a value the configuration holds; at a MEDIUM gate it fails the plan naming the
// resource; a log that is not apply output is an error, never a clean apply.
func TestAccFailedApplyFromLog(t *testing.T) {
	stack := newRealStack(t)
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(stack.dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Its folder is a file, so the create fails; its content is a value that must stay put.
	write("blocker", "not a folder\n")
	write("broken.tf", `resource "local_file" "broken" {
  filename = "${path.module}/blocker/sub/x.txt"
  content  = "password=hunter2-in-config"
}
`)
	cmd := exec.Command(stack.tofu, "apply", "-auto-approve", "-input=false", "-json")
	cmd.Dir, cmd.Env = stack.dir, stack.env
	out, err := cmd.Output()
	if err == nil || !strings.Contains(string(out), `"apply_errored"`) {
		t.Fatalf("want the apply to fail creating local_file.broken, got %v:\n%s", err, out)
	}
	applyLog := write("apply.jsonl", string(out))
	plan := stack.planJSON("-refresh-only")
	notALog := write("apply.txt", "Error: Create local file error\n")

	cfg := func(gate, log string) string {
		return unitHCL(gate) + fmt.Sprintf(`
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  plan_json_path = %q
  apply_log_path = %q
}
`, plan, log)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg("critical", applyLog),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.drift_finding.f", "findings.#", "1"),
				resource.TestMatchTypeSetElemNestedAttrs("data.drift_finding.f", "findings.*", map[string]*regexp.Regexp{
					"resource_ref":       regexp.MustCompile(`^local_file\.broken$`),
					"drift_class":        regexp.MustCompile(`^FAILED_RECONCILIATION$`),
					"recommended_action": regexp.MustCompile(`^INVESTIGATE_CONTROL_LOOP$`),
					"auto_heal_allowed":  regexp.MustCompile(`^false$`),
					"risk":               regexp.MustCompile(`^MEDIUM$`),
					"explanation":        regexp.MustCompile(`^The last apply failed here: Create local file error\.`),
				}),
				func(s *terraform.State) error {
					for _, m := range s.Modules {
						for name, r := range m.Resources {
							for k, v := range r.Primary.Attributes {
								if strings.Contains(v, "hunter2") {
									return fmt.Errorf("a value of the configuration reached %s.%s", name, k)
								}
							}
						}
					}
					return nil
				},
			),
		}, {
			Config:      cfg("medium", applyLog),
			ExpectError: regexp.MustCompile(`(?s)FAILED_RECONCILIATION.*local_file\.broken`),
		}, {
			Config:      cfg("critical", notALog),
			ExpectError: regexp.MustCompile(`(?s)apply log .*apply\.txt line 1`),
		}},
	})
}
