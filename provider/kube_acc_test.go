package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

// TestAccKubernetesGate gates a plan on cluster drift read from a real kube-apiserver: of a
// human's image patch, a controller's scale, an injected sidecar and a break-glass change under
// an exception, only the human's image change fails the plan.
func TestAccKubernetesGate(t *testing.T) {
	requireTofu(t)
	c := kubetest.Start(t)
	sc := kubetest.SetUpScenario(t, c)

	unit := `
data "drift_managed_unit" "web" {
  name               = "web-prod"
  kind               = "kubernetes"
  owner              = "team-web"
  environment        = "prod"
  risk_tier          = "high"
  gate               = "high"
  break_glass_groups = ["` + kubetest.BreakGlass + `"]
  ownership_rule {
    api_group = "apps"
    kind      = "Deployment"
    controller_owned {
      path  = "/spec/replicas"
      owner = "horizontal-pod-autoscaler"
    }
  }
}

data "drift_exception" "incident" {
  id          = "EXC-77"
  unit        = data.drift_managed_unit.web.name
  resource    = "/v1/ConfigMap/web/web-config"
  paths       = ["/data/MAX_CONNECTIONS"]
  drift_class = "EMERGENCY_DRIFT"
  reason      = "connection storm during INC-77"
  ticket      = "INC-77"
  approved_by = "sre-lead"
  expires_at  = "` + soon + `"
}
`
	hotfix := `
data "drift_exception" "hotfix" {
  id          = "EXC-78"
  unit        = data.drift_managed_unit.web.name
  resource    = "apps/v1/Deployment/web/web"
  paths       = ["/spec/template/spec/containers/name=app/image"]
  drift_class = "UNAUTHORIZED_RUNTIME_DRIFT"
  reason      = "hotfix 1.1 until the release lands in Git"
  ticket      = "CHG-1001"
  approved_by = "web-lead"
  expires_at  = "` + soon + `"
}
`
	finding := func(enforce bool, exceptions string) string {
		return fmt.Sprintf(`
data "drift_finding" "web" {
  unit         = data.drift_managed_unit.web.policy_json
  exceptions   = [%s]
  enforce_gate = %v
  kubernetes {
    kubeconfig_path = %q
    manifests_path  = %q
    audit_log_path  = %q
  }
}
`, exceptions, enforce, sc.ReaderKubeconfig, sc.GateDir, c.AuditLog)
	}
	const f = "data.drift_finding.web"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: unit + finding(false, "data.drift_exception.incident.json"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(f, "status", "drifted"),
					resource.TestCheckResourceAttr(f, "blocking_count", "1"),
					resource.TestCheckResourceAttr(f, "findings.#", "5"),
					resource.TestCheckTypeSetElemNestedAttrs(f, "findings.*", map[string]string{
						"resource_ref": "apps/v1/Deployment/web/web", "drift_class": "UNAUTHORIZED_RUNTIME_DRIFT", "risk": "HIGH",
						"changed_fields.0": "/spec/template/spec/containers/name=app/image", "actor": "alice",
						"field_manager": "kubectl-set", "blocking": "true", "recommended_action": "INCIDENT_AND_REVERT",
					}),
					resource.TestCheckTypeSetElemNestedAttrs(f, "findings.*", map[string]string{
						"changed_fields.0": "/spec/replicas", "drift_class": "CONTROLLER_OWNED_DRIFT", "blocking": "false",
						"actor": "system:kube-controller-manager",
					}),
					resource.TestCheckTypeSetElemNestedAttrs(f, "findings.*", map[string]string{
						"changed_fields.0": "/spec/template/spec/containers/name=istio-proxy", "drift_class": "CONTROLLER_OWNED_DRIFT",
						"field_manager": "istio-sidecar-injector", "blocking": "false",
					}),
					resource.TestCheckTypeSetElemNestedAttrs(f, "findings.*", map[string]string{
						"resource_ref": "/v1/ConfigMap/web/web-config", "drift_class": "EMERGENCY_DRIFT", "actor": "bob",
						"accepted_by": "EXC-77", "actor_groups.#": "3", "blocking": "false",
					}),
					resource.TestCheckTypeSetElemNestedAttrs(f, "findings.*", map[string]string{
						"resource_ref": "/v1/ConfigMap/web/web-feature-flags", "drift_class": "STATE_DRIFT", "deleted": "true", "blocking": "false",
					}),
				),
			},
			{
				Config: unit + finding(true, "data.drift_exception.incident.json"),
				ExpectError: diagRE("Unaccepted drift: apps/v1/Deployment/web/web (UNAUTHORIZED_RUNTIME_DRIFT, HIGH)",
					"/spec/template/spec/containers/name=app/image", "Changed by alice", "kubectl-set"),
			},
			{
				Config: unit + hotfix + finding(true, "data.drift_exception.incident.json, data.drift_exception.hotfix.json"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(f, "blocking_count", "0"),
					resource.TestCheckTypeSetElemNestedAttrs(f, "findings.*", map[string]string{
						"actor": "alice", "accepted_by": "EXC-78",
					}),
				),
			},
		},
	})
	if got := sc.CurrentResourceVersions(t, c); fmt.Sprint(got) != fmt.Sprint(sc.ResourceVersions) {
		t.Errorf("the provider changed live objects: before %v after %v", sc.ResourceVersions, got)
	}
}
