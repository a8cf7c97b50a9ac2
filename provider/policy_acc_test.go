package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// policyStackMain is the stack as Git declares it: a file created before the rule, with the
// permissions everyone used then, and one created compliant.
const policyStackMain = `resource "local_file" "legacy" {
  filename        = "${path.module}/legacy.txt"
  content         = "created before the rule\n"
  file_permission = "0644"
}

resource "local_file" "private" {
  filename        = "${path.module}/private.txt"
  content         = "created under the rule\n"
  file_permission = "0600"
}
`

// Policy drift on a real stack (real OpenTofu and hashicorp/local): a rule added after the files
// were created makes the pre-existing violation POLICY_DRIFT that does not block inside its
// migration window and fails the plan with the rule's message once the window is over; a
// violation brought in after the rule took effect by an apply from outside Git is unauthorized
// drift naming the rule, and blocks at once.
func TestAccPolicyRuleMigration(t *testing.T) {
	stack := newRealStack(t)
	stack.write(policyStackMain)
	stack.run("apply", "-auto-approve", "-input=false", "-no-color")
	// The rule takes effect after the files exist.
	since := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	inWindow := since.Add(time.Hour)
	pastWindow := since.Add(25 * time.Hour)
	unitAt := func(gate string) string {
		return fmt.Sprintf(`
data "drift_managed_unit" "u" {
  name        = "payments-prod-files"
  owner       = "team-payments"
  environment = "prod"
  risk_tier   = "high"
  gate        = %q
  policy_rule {
    id               = "private-files"
    applies_to       = ["local_file"]
    expression       = "resource.values.file_permission == '0600'"
    message          = "file_permission must be 0600"
    since            = %q
    migration_window = "24h"
  }
}
`, gate, since.Format(time.RFC3339))
	}
	unit := unitAt("high")
	finding := func(plan string, at time.Time) string {
		return fmt.Sprintf(`
data "drift_finding" "f" {
  unit            = data.drift_managed_unit.u.policy_json
  plan_json_path  = %q
  evaluation_time = %q
}
`, plan, at.Format(time.RFC3339))
	}
	// No drift at all: only the prior state shows the files, so the rule judges every resource.
	clean := stack.planJSON("-refresh-only")
	const f0 = "findings.0."
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: unit + finding(clean, inWindow),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.#", "1"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f0+"resource_ref", "local_file.legacy"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f0+"drift_class", "POLICY_DRIFT"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f0+"recommended_action", "MIGRATION_PLAN"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f0+"rule", "policy-migration-window"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f0+"policy_rule", "private-files"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f0+"blocking", "false"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "blocking_count", "0"),
					resource.TestMatchResourceAttr("data.drift_finding.f", f0+"explanation",
						regexp.MustCompile(`Policy rule private-files \(file_permission must be 0600\).*before `+regexp.QuoteMeta(since.Add(24*time.Hour).Format(time.RFC3339)))),
				),
			},
			{
				// The migration window is over: the same violation fails the plan with the rule's
				// id and message, though its risk is below the gate.
				Config:      unit + finding(clean, pastWindow),
				ExpectError: diagRE("Unaccepted drift: local_file.legacy (POLICY_DRIFT", "Policy rule private-files (file_permission must be 0600)", "migration window ended"),
			},
		},
	})

	// Someone applies from outside Git, opening the compliant file up; Git still declares 0600.
	stack.write(strings.Replace(policyStackMain, `file_permission = "0600"`, `file_permission = "0644"`, 1))
	stack.run("apply", "-auto-approve", "-input=false", "-no-color")
	stack.write(policyStackMain)
	normal := stack.planJSON()
	const f1 = "findings.1."
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: unit + finding(normal, inWindow),
				ExpectError: diagRE("Unaccepted drift: local_file.private (UNAUTHORIZED_RUNTIME_DRIFT",
					"Policy rule private-files (file_permission must be 0600) is violated", "out-of-band change"),
			},
			{
				// Observe only (gate none): the legacy file stays a migration in the same plan, as
				// Git itself declares its permissions.
				Config: unitAt("none") + finding(normal, inWindow),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.#", "2"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f0+"resource_ref", "local_file.legacy"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f0+"drift_class", "POLICY_DRIFT"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f1+"resource_ref", "local_file.private"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f1+"drift_class", "UNAUTHORIZED_RUNTIME_DRIFT"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f1+"rule", "policy-violation-introduced"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f1+"policy_rule", "private-files"),
					resource.TestCheckResourceAttr("data.drift_finding.f", f1+"recommended_action", "RUNTIME_REVERT"),
				),
			},
		},
	})
}

// write replaces the stack's configuration.
func (s *realStack) write(main string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, "main.tf"), []byte(main), 0o600); err != nil {
		s.t.Fatal(err)
	}
}
