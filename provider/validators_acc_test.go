package provider

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestAccFindingSourceValidators: the schema says "exactly one drift source" and "exactly one
// evidence location", so OpenTofu reports a wrong configuration before anything is read.
func TestAccFindingSourceValidators(t *testing.T) {
	requireTofu(t)
	plan, _ := filepath.Abs("testdata/network-plan.json")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      unitHCL("none") + `data "drift_finding" "f" { unit = data.drift_managed_unit.u.policy_json }`,
				ExpectError: diagRE("Missing Attribute Configuration", "Exactly one of these attributes must be configured", "plan_json_path", "kubernetes"),
			},
			{
				Config: unitHCL("none") + `
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  plan_json_path = "` + plan + `"
  kubernetes {
    manifests_path = "/nonexistent"
  }
}`,
				ExpectError: diagRE("Invalid Attribute Combination", "plan_json_path", "kubernetes"),
			},
			{
				Config: unitHCL("none") + `
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  plan_json_path = "` + plan + `"
  evidence {
    dir    = "/tmp/x"
    s3_url = "s3://b/p"
  }
}`,
				ExpectError: diagRE("Invalid Attribute Combination", "s3_url"),
			},
		},
	})
}
