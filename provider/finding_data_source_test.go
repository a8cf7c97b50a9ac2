package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

func unitHCL(gate string) string {
	return fmt.Sprintf(`
data "drift_managed_unit" "u" {
  name        = "payments-prod-network"
  kind        = "opentofu-stack"
  owner       = "platform-network"
  environment = "prod"
  risk_tier   = "critical"
  gate        = %q
  ownership_rule {
    resource_type = "aws_autoscaling_group"
    controller_owned {
      path  = "/desired_capacity"
      owner = "aws-autoscaling"
    }
  }
}
`, gate)
}

func exceptionHCL(id, resource, class, expires, paths string) string {
	pathsLine := ""
	if paths != "" {
		pathsLine = "paths = " + paths
	}
	return fmt.Sprintf(`
data "drift_exception" %[1]q {
  id          = %[1]q
  unit        = data.drift_managed_unit.u.name
  resource    = %[2]q
  %[5]s
  drift_class = %[3]q
  reason      = "accepted during INC-9127"
  ticket      = "INC-9127"
  approved_by = "oncall-lead"
  expires_at  = %[4]q
}
`, id, resource, class, expires, pathsLine)
}

func findingHCL(plan string, exceptions ...string) string {
	refs := make([]string, len(exceptions))
	for i, e := range exceptions {
		refs[i] = fmt.Sprintf("data.drift_exception.%s.json", e)
	}
	return fmt.Sprintf(`
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  exceptions     = [%s]
  plan_json_path = %q
}
`, strings.Join(refs, ", "), plan)
}

// Real drift: OpenTofu applies a local_file, the file is edited out of band, a refresh-only plan
// sees it, and drift_finding gates a second plan on it.
func TestAccFindingRealDrift(t *testing.T) {
	stack := newRealStack(t)
	plan := stack.driftOutOfBand()

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      unitHCL("medium") + findingHCL(plan),
				ExpectError: diagRE("Unaccepted drift: local_file.managed (STATE_DRIFT, MEDIUM)", "(deleted outside IaC)", "STATE_REFRESH", "no exception matches local_file.managed"),
			},
			{
				Config: unitHCL("medium") + exceptionHCL("EXC-1", "local_file.managed", "STATE_DRIFT", soon, "") + findingHCL(plan, "EXC-1"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_finding.f", "status", "drifted"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "blocking_count", "0"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.#", "1"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.resource_ref", "local_file.managed"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.drift_class", "STATE_DRIFT"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.risk", "MEDIUM"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.accepted_by", "EXC-1"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.recommended_action", "STATE_REFRESH"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.domain", "other"),
					resource.TestMatchResourceAttr("data.drift_finding.f", "findings.0.finding_id", regexp.MustCompile(`^drift-[0-9a-f]{24}$`)),
					resource.TestCheckResourceAttr("data.drift_exception.EXC-1", "active", "true"),
				),
			},
			{
				Config:      unitHCL("medium") + exceptionHCL("EXC-1", "local_file.managed", "STATE_DRIFT", "2020-01-01T00:00:00Z", "") + findingHCL(plan, "EXC-1"),
				ExpectError: diagRE("exception EXC-1 expired at 2020-01-01T00:00:00Z"),
			},
			{
				// Above the finding's risk the gate does not fail; the drift is still reported.
				Config: unitHCL("high") + findingHCL(plan),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_finding.f", "status", "drifted"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "blocking_count", "0"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.blocking", "false"),
				),
			},
		},
	})
}

// A stack with no drift is clean.
func TestAccFindingRealClean(t *testing.T) {
	stack := newRealStack(t)
	plan := stack.planJSON("-refresh-only")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: unitHCL("info") + findingHCL(plan),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.drift_finding.f", "status", "clean"),
				resource.TestCheckResourceAttr("data.drift_finding.f", "findings.#", "0"),
				resource.TestCheckResourceAttr("data.drift_finding.f", "summary", "no drift"),
			),
		}},
	})
}

// The issue's own example: a security group opened to the world fails at gate critical until an
// emergency exception covering /ingress accepts it; sensitive values never reach state.
func TestAccFindingNetworkExposureAndSensitive(t *testing.T) {
	requireTofu(t)
	plan, _ := filepath.Abs("testdata/network-plan.json")
	exc := exceptionHCL("EXC-1", "module.net.aws_security_group.web", "EMERGENCY_DRIFT", soon, `["/ingress"]`)
	dbExc := exceptionHCL("EXC-2", "aws_db_instance.main", "UNAUTHORIZED_RUNTIME_DRIFT", soon, `["/instance_class", "/password"]`)
	noSecret := func(s *terraform.State) error {
		for _, m := range s.Modules {
			for name, r := range m.Resources {
				for k, v := range r.Primary.Attributes {
					if strings.Contains(v, "s3cr3t") {
						return fmt.Errorf("sensitive value stored in state: %s.%s", name, k)
					}
				}
			}
		}
		return nil
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      unitHCL("critical") + findingHCL(plan),
				ExpectError: diagRE("Unaccepted drift: module.net.aws_security_group.web (UNAUTHORIZED_RUNTIME_DRIFT, CRITICAL)", "/ingress/0/cidr_blocks/1", "INCIDENT_AND_REVERT"),
			},
			{
				// aws_db_instance.main is CRITICAL too (data, prod, critical tier): its error names the
				// sensitive field but withholds the value.
				Config:      unitHCL("critical") + exc + findingHCL(plan, "EXC-1"),
				ExpectError: diagRE("Unaccepted drift: aws_db_instance.main", "/password (sensitive, values withheld: /password)"),
			},
			{
				Config: unitHCL("critical") + exc + dbExc + findingHCL(plan, "EXC-1", "EXC-2"),
				Check: resource.ComposeAggregateTestCheckFunc(
					noSecret,
					resource.TestCheckResourceAttr("data.drift_finding.f", "blocking_count", "0"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "status", "drifted"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.#", "3"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.resource_ref", "aws_db_instance.main"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.sensitive_fields.0", "/password"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.changed_fields.#", "2"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.risk", "CRITICAL"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.accepted_by", "EXC-2"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.1.resource_ref", "aws_instance.app"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.1.drift_class", "STATE_DRIFT"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.2.drift_class", "EMERGENCY_DRIFT"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.2.risk", "CRITICAL"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.2.accepted_by", "EXC-1"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.2.changed_fields.0", "/ingress/0/cidr_blocks/1"),
				),
			},
		},
	})
}

func TestAccFindingBadPlanFiles(t *testing.T) {
	requireTofu(t)
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.json")
	full, err := os.ReadFile("testdata/network-plan.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, full[:len(full)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.json")
	if err := os.WriteFile(state, []byte(`{"format_version":"1.0","values":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []resource.TestStep{}
	for file, msg := range map[string]string{
		filepath.Join(dir, "missing.json"): "does not exist",
		truncated:                          "is truncated",
		state:                              "holds a state",
	} {
		steps = append(steps, resource.TestStep{
			Config:      unitHCL("none") + findingHCL(file),
			ExpectError: diagRE("Cannot read plan: drift is unknown", "plan file "+file+" "+msg),
		})
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// CloudTrail names who opened the security group: a break-glass role, so the drift is emergency
// drift, still blocking without an exception.
func TestAccFindingCloudTrail(t *testing.T) {
	requireTofu(t)
	plan, _ := filepath.Abs("testdata/network-plan.json")
	trail, _ := filepath.Abs("testdata/cloudtrail")
	cfg := strings.Replace(unitHCL("critical"), `gate        = "critical"`, `gate        = "critical"
  break_glass_groups = ["sre-breakglass"]`, 1) + fmt.Sprintf(`
data "drift_finding" "f" {
  unit            = data.drift_managed_unit.u.policy_json
  plan_json_path  = %q
  cloudtrail_path = %q
  enforce_gate    = false
}
`, plan, trail)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.drift_finding.f", "findings.2.resource_ref", "module.net.aws_security_group.web"),
				resource.TestCheckResourceAttr("data.drift_finding.f", "findings.2.actor", "arn:aws:sts::123456789012:assumed-role/sre-breakglass/bob@example.com"),
				resource.TestCheckResourceAttr("data.drift_finding.f", "findings.2.drift_class", "EMERGENCY_DRIFT"),
				resource.TestCheckResourceAttr("data.drift_finding.f", "findings.2.actor_groups.0", "sre-breakglass"),
				resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.actor", ""),
			),
		}, {
			Config:      strings.Replace(cfg, trail, "/nonexistent/trail", 1),
			ExpectError: diagRE("Cannot read CloudTrail logs", "cloudtrail logs /nonexistent/trail do not exist"),
		}},
	})
}

// Evidence: a record per evaluation, content-addressed, sensitive values only as digests.
func TestAccFindingEvidence(t *testing.T) {
	requireTofu(t)
	plan, _ := filepath.Abs("testdata/network-plan.json")
	dir := t.TempDir()
	cfg := unitHCL("critical") + fmt.Sprintf(`
data "drift_finding" "f" {
  unit            = data.drift_managed_unit.u.policy_json
  plan_json_path  = %q
  enforce_gate    = false
  evaluation_time = "2026-11-22T10:00:00Z"
  evidence {
    dir = %q
  }
}
`, plan, dir)
	checkRecord := func(s *terraform.State) error {
		loc := s.RootModule().Resources["data.drift_finding.f"].Primary.Attributes["evidence_location"]
		data, err := os.ReadFile(loc)
		if err != nil {
			return fmt.Errorf("evidence_location %q: %w", loc, err)
		}
		switch {
		case strings.Contains(string(data), "s3cr3t"):
			return fmt.Errorf("sensitive value in evidence %s", loc)
		case !strings.Contains(string(data), `"schema_version":"driftplane.evidence/v1"`),
			!strings.Contains(string(data), `"path":"/ingress/0/cidr_blocks/1","before":null,"after":"0.0.0.0/0"`):
			return fmt.Errorf("evidence record lacks its schema or diff: %s", data)
		}
		return nil
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestMatchResourceAttr("data.drift_finding.f", "evidence_location",
					regexp.MustCompile(regexp.QuoteMeta(dir)+`/payments-prod-network/20261122T100000Z-[0-9a-f]{24}\.json$`)),
				checkRecord,
			),
		}},
	})
}
