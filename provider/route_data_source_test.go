package provider

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
)

// TestRouteHCLPath: the core's YAML field names become the HCL attribute paths diagnostics point at.
func TestRouteHCLPath(t *testing.T) {
	for field, want := range map[string]string{
		"spec.route.routes[1].routes[0].matchers[2]": "route.route[1].route[0].matchers[2]",
		"spec.route.receivers[0]":                    "route.receivers[0]",
		"spec.route.groupWait":                       "route.group_wait",
		"spec.receivers[0].settings.hmac.key":        `receiver[0].settings["hmac.key"]`,
		"spec.receivers[2].secretRef.env":            "receiver[2].secret_ref.env",
		"spec.silences[3].expiresAt":                 "silence[3].expires_at",
		"spec.unitLabels[0]":                         "unit_labels[0]",
		"spec.maxSilenceDays":                        "max_silence_days",
		"metadata.name":                              "name",
	} {
		if got := routeHCLPath(field).String(); got != want {
			t.Errorf("%s: %s, want %s", field, got, want)
		}
	}
}

const routeAt = "2026-12-01T12:00:00Z"

// exampleRouteHCL is testdata/example.yaml of the core, written in HCL.
const exampleRouteHCL = `
data "drift_route" "r" {
  name        = "default-routing"
  at          = "` + routeAt + `"
  unit_labels = ["tier"]
  receiver {
    name = "security-pager"
    type = "pagerduty"
    secret_ref {
      env = "PAGERDUTY_SECURITY_ROUTING_KEY"
    }
  }
  receiver {
    name = "team-pager"
    type = "alertmanager"
    url  = "http://alertmanager.monitoring.svc:9093"
  }
  receiver {
    name     = "owner-tickets"
    type     = "github"
    settings = { repository = "acme/infra-drift" }
    secret_ref {
      name = "driftplane-github"
      key  = "token"
    }
  }
  route {
    receivers       = ["owner-tickets"]
    group_by        = ["owner", "unit"]
    group_wait      = "30s"
    group_interval  = "5m"
    repeat_interval = "1d"
    create_issue    = true
    route {
      name            = "security"
      matchers        = ["domain=~\"identity|network\"", "risk!=\"INFO\""]
      receivers       = ["security-pager"]
      group_by        = ["domain", "resource"]
      repeat_interval = "1h"
      page            = true
      create_incident = true
    }
    route {
      name            = "prod-high"
      matchers        = ["{environment_class=\"prod\", risk=~\"HIGH|CRITICAL\"}"]
      receivers       = ["team-pager"]
      group_by        = ["owner"]
      repeat_interval = "4h"
      page            = true
    }
  }
  silence {
    name       = "payments-sg-migration"
    matchers   = ["unit=\"payments\"", "resource=~\"aws_security_group\\\\..*\""]
    reason     = "security groups are being migrated under CHG-204"
    created_by = "sre-lead"
    expires_at = "2026-12-20T00:00:00Z"
  }
  finding {
    labels = { domain = "identity", risk = "HIGH", resource = "aws_iam_role.app" }
  }
  finding {
    finding_json = jsonencode({ unit = "payments", owner = "team-payments", environment = "production", domain = "data",
      resource_ref = "aws_db_instance.main", drift_class = "UNAUTHORIZED_RUNTIME_DRIFT", risk = "CRITICAL" })
  }
  finding {
    labels = { unit = "payments", domain = "network", risk = "HIGH", resource = "aws_security_group.db" }
  }
  finding {
    labels = { domain = "compute", severity = "INFO" }
  }
}
`

// TestAccRoute: with real OpenTofu, a routing policy declared in HCL is the same policy as the
// YAML document (same canonical JSON), and routes findings as the core does.
func TestAccRoute(t *testing.T) {
	requireTofu(t)
	at, _ := time.Parse(time.RFC3339, routeAt)
	example, _ := filepath.Abs("../internal/drift/route/testdata/example.yaml")
	p, err := route.Load(example, at)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := p.JSON()
	decisions := resource.ComposeAggregateTestCheckFunc(
		resource.TestCheckResourceAttr("data.drift_route.r", "id", "default-routing"),
		resource.TestCheckResourceAttr("data.drift_route.r", "policy_json", string(js)),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.#", "4"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.0.name", "security"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.0.receivers.0", "security-pager"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.0.page", "true"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.0.create_incident", "true"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.0.group_key", `route.routes[0]:{domain="identity",resource="aws_iam_role.app"}`),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.0.repeat_interval", "1h"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.1.finding", "1"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.1.name", "prod-high"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.1.receivers.0", "team-pager"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.1.group_key", `route.routes[1]:{owner="team-payments"}`),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.2.notify", "false"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.2.receivers.#", "0"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.2.held.0", "security-pager"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.2.silenced_by.0", "payments-sg-migration"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.3.notify", "false"),
		resource.TestCheckResourceAttr("data.drift_route.r", "decisions.3.suppressed", route.InfoUnrouted),
	)
	fileHCL := fmt.Sprintf(`
data "drift_route" "r" {
  policy_file = %q
  at          = %q
  finding {
    labels = { domain = "identity", risk = "HIGH", resource = "aws_iam_role.app" }
  }
}
`, example, routeAt)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: exampleRouteHCL, Check: decisions},
			{Config: fileHCL, Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.drift_route.r", "policy_json", string(js)),
				resource.TestCheckResourceAttr("data.drift_route.r", "decisions.0.receivers.0", "security-pager"),
			)},
		},
	})
}

// TestAccRouteInvalid: a wrong policy fails the plan with the HCL attribute named, and the schema
// refuses what it can on its own.
func TestAccRouteInvalid(t *testing.T) {
	requireTofu(t)
	example, _ := filepath.Abs("../internal/drift/route/testdata/example.yaml")
	base := func(receiver, routes string) string {
		return `
data "drift_route" "r" {
  name = "bad"
  at   = "` + routeAt + `"
  receiver {
    name = "r"
    type = "webhook"
    url  = "http://hooks.example/drift"
` + receiver + `
  }
  route {
    receivers = ["r"]
` + routes + `
  }
}
`
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: base("", `
    route {
      matchers = ["risk=\"HIGH\""]
    }
    route {
      matchers = ["domain=\"identity\""]
      route {
        matchers = ["unit=\"a\"", "risk=\"high\""]
      }
    }`),
				ExpectError: diagRE(`route.route[1].route[0].matchers[1]`, `"risk=\"high\"": it matches no risk`),
			},
			{
				Config:      base(`    settings = { hmac_secret = "s3cr3t-value" }`, ""),
				ExpectError: diagRE(`receiver[0].settings["hmac_secret"]`, `looks like a credential: reference it with secretRef`),
			},
			{
				Config: base("", `
    route {
      receivers = ["nobody"]
      matchers  = ["domain=\"identity\""]
    }`) + `
data "drift_route" "s" {
  name = "s"
  route {
    receivers = ["x"]
  }
  silence {
    name       = "forever"
    matchers   = ["unit=\"web\""]
    reason     = "r"
    created_by = "me"
    expires_at = "2099-01-01T00:00:00Z"
  }
}`,
				ExpectError: diagRE(`route.route[0].receivers[0]`, `"nobody" is not a receiver`),
			},
			{
				Config: fmt.Sprintf(`
data "drift_route" "r" {
  policy_file = %q
  route {
    receivers = ["x"]
  }
}`, example),
				ExpectError: diagRE("Invalid Attribute Combination", "policy_file", "route"),
			},
			{
				Config: `
data "drift_route" "r" {
  name = "t"
  receiver {
    name = "x"
    type = "email"
  }
  route {
    receivers = ["x"]
  }
}`,
				ExpectError: diagRE(`receiver[0].type`, `value must be one of`),
			},
			{
				Config: `
data "drift_route" "r" {
  name = "t"
  receiver {
    name = "x"
    type = "webhook"
    url  = "http://x.example"
  }
  route {
    receivers = ["x"]
  }
  silence {
    name       = "forever"
    matchers   = ["unit=\"web\""]
    reason     = "r"
    created_by = "me"
    expires_at = "2099-01-01T00:00:00Z"
  }
}`,
				ExpectError: diagRE(`silence[0].expires_at`, `more than 90 days after the evaluation time`),
			},
		},
	})
}

// TestAccRouteFindings: the findings drift_finding reports on a real plan are routed as the
// policy says: the security group opened to the world pages security, the database's drift in
// production pages its team, and the instance's LOW state drift is a ticket for the owner.
func TestAccRouteFindings(t *testing.T) {
	requireTofu(t)
	plan, _ := filepath.Abs("testdata/network-plan.json")
	head, _, _ := strings.Cut(exampleRouteHCL, "  finding {")
	policy := head + `
  dynamic "finding" {
    for_each = data.drift_finding.f.findings
    content {
      finding_json = jsonencode(finding.value)
    }
  }
}
`
	r := "data.drift_route.r"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: unitHCL("none") + findingHCL(plan) + policy,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckTypeSetElemNestedAttrs(r, "decisions.*", map[string]string{
					"name": "security", "receivers.0": "security-pager", "page": "true", "create_incident": "true",
					"group_key": `route.routes[0]:{domain="network",resource="module.net.aws_security_group.web"}`}),
				resource.TestCheckTypeSetElemNestedAttrs(r, "decisions.*", map[string]string{
					"name": "prod-high", "receivers.0": "team-pager", "group_key": `route.routes[1]:{owner="platform-network"}`}),
				resource.TestCheckTypeSetElemNestedAttrs(r, "decisions.*", map[string]string{
					"route": "route", "receivers.0": "owner-tickets", "create_issue": "true", "page": "false",
					"group_key": `route:{owner="platform-network",unit="payments-prod-network"}`}),
			),
		}},
	})
}
