package provider

import (
	"fmt"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccManagedUnit(t *testing.T) {
	requireTofu(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: unitHCL("critical"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_managed_unit.u", "id", "payments-prod-network"),
					resource.TestCheckResourceAttr("data.drift_managed_unit.u", "policy_json",
						`{"apiVersion":"drift.driftplane.io/v1alpha1","kind":"DriftManagedUnit","metadata":{"name":"payments-prod-network"},`+
							`"spec":{"kind":"opentofu-stack","owner":"platform-network","environment":"prod","riskTier":"critical","gate":"critical",`+
							`"ownershipRules":[{"resource":{"type":"aws_autoscaling_group"},"controllerOwned":[{"path":"/desired_capacity","owner":"aws-autoscaling"}]}]}}`),
				),
			},
			{
				Config: `
data "drift_managed_unit" "u" {
  name        = "u"
  owner       = "o"
  environment = "prod"
  risk_tier   = "extreme"
  ownership_rule {
    resource_type = "aws_autoscaling_group"
    controller_owned {
      path  = "desired_capacity"
      owner = "aws-autoscaling"
    }
  }
}`,
				ExpectError: diagRE(`risk_tier: "extreme" is not one of`, `ownership_rule[0].controller_owned[0].path`, `must start with "/"`),
			},
			{
				// The schedule and the provider-pinning switch reach the policy; a schedule that
				// is not one is an error naming it.
				Config: `
data "drift_managed_unit" "u" {
  name                     = "u"
  owner                    = "o"
  environment              = "prod"
  risk_tier                = "high"
  schedule                 = "0 9 * * 1-5"
  require_pinned_providers = true
}`,
				Check: resource.TestCheckResourceAttr("data.drift_managed_unit.u", "policy_json",
					`{"apiVersion":"drift.driftplane.io/v1alpha1","kind":"DriftManagedUnit","metadata":{"name":"u"},`+
						`"spec":{"kind":"opentofu-stack","owner":"o","environment":"prod","riskTier":"high","gate":"high","schedule":"0 9 * * 1-5","requirePinnedProviders":true}}`),
			},
			{
				Config: `
data "drift_managed_unit" "u" {
  name        = "u"
  owner       = "o"
  environment = "prod"
  risk_tier   = "high"
  schedule    = "every hour"
}`,
				ExpectError: diagRE(`schedule: schedule "every hour" is neither a Go`),
			},
		},
	})
}

// The same YAML an Argo CD application keeps in .drift/ configures a unit in HCL.
func TestAccManagedUnitPolicyFile(t *testing.T) {
	requireTofu(t)
	dir, _ := filepath.Abs("../argocd-plugin/generate/testdata/plain/.drift")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
data "drift_managed_unit" "u" {
  policy_file = %q
  environment = "staging"
  ownership_rule {
    kind          = "Deployment"
    api_group     = "apps"
    runtime_owned = ["/metadata/annotations"]
  }
}`, dir),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_managed_unit.u", "name", "payments-web"),
					resource.TestCheckResourceAttr("data.drift_managed_unit.u", "environment", "staging"),
					resource.TestCheckResourceAttr("data.drift_managed_unit.u", "kind", "kubernetes"),
					resource.TestCheckResourceAttr("data.drift_managed_unit.u", "exceptions_json.#", "1"),
					resource.TestMatchResourceAttr("data.drift_managed_unit.u", "exceptions_json.0", regexp.MustCompile(`"name":"EXC-12"`)),
					resource.TestMatchResourceAttr("data.drift_managed_unit.u", "policy_json",
						regexp.MustCompile(`"environment":"staging".*"ownershipRules":\[\{"name":"mesh-annotations".*\{"resource":\{"group":"apps","kind":"Deployment"\},"runtimeOwned":\["/metadata/annotations"\]\}\]`)),
				),
			},
			{
				Config:      `data "drift_managed_unit" "u" { policy_file = "/nonexistent/.drift" }`,
				ExpectError: diagRE("Invalid policy file", "policy /nonexistent/.drift does not exist"),
			},
			{
				Config:      `data "drift_managed_unit" "u" { owner = "o" }`,
				ExpectError: diagRE("name is required unless policy_file provides the unit"),
			},
		},
	})
}

func TestAccException(t *testing.T) {
	requireTofu(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: unitHCL("critical") + exceptionHCL("EXC-1", "aws_security_group.app_public", "EMERGENCY_DRIFT", soon, `["/ingress"]`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_exception.EXC-1", "active", "true"),
					resource.TestCheckResourceAttr("data.drift_exception.EXC-1", "expired", "false"),
					resource.TestMatchResourceAttr("data.drift_exception.EXC-1", "json", regexp.MustCompile(`^\{"apiVersion":"drift.driftplane.io/v1alpha1","kind":"DriftException","metadata":\{"name":"EXC-1"\}`)),
				),
			},
			{
				Config: unitHCL("critical") + exceptionHCL("EXC-1", "aws_security_group.app_public", "EMERGENCY_DRIFT", "2020-12-01T00:00:00Z", `["/ingress"]`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_exception.EXC-1", "active", "false"),
					resource.TestCheckResourceAttr("data.drift_exception.EXC-1", "expired", "true"),
				),
			},
			{
				Config: unitHCL("critical") + `
data "drift_exception" "bad" {
  id          = "EXC-2"
  unit        = "payments-prod-network"
  resource    = "aws_security_group.app_public"
  drift_class = "EMERGENCY_DRIFT"
  reason      = "because"
  approved_by = "me"
  expires_at  = "soon"
}`,
				ExpectError: diagRE("paths: is required", "ticket: is required: the exception touches network", `expires_at: "soon" is not an RFC 3339`),
			},
			{
				Config: unitHCL("critical") + `
data "drift_exception" "bad" {
  id          = "EXC-3"
  unit        = "payments-prod-network"
  resource    = "*"
  drift_class = "UNAUTHORIZED_RUNTIME_DRIFT"
  reason      = "because"
  ticket      = "T-1"
  approved_by = "me"
  expires_at  = "` + soon + `"
}`,
				ExpectError: diagRE(`"*" matches every resource`, "paths: is required"),
			},
		},
	})
}
