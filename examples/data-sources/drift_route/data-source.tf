# Identity and network drift pages security; HIGH or CRITICAL drift in production pages the
# owning team; everything else becomes a ticket for its owner. INFO drift goes nowhere.
data "drift_route" "r" {
  name = "default-routing"

  receiver {
    name = "security-pager"
    type = "pagerduty"
    secret_ref {
      env = "PAGERDUTY_SECURITY_ROUTING_KEY" # the routing key is read when sending, never stored
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

  # The root takes whatever no child route takes.
  route {
    receivers       = ["owner-tickets"]
    group_by        = ["owner", "unit"]
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
      name      = "prod-high"
      matchers  = ["environment_class=\"prod\"", "risk=~\"HIGH|CRITICAL\""]
      receivers = ["team-pager"]
      page      = true
    }
  }

  # Scoped and expiring, like an exception.
  silence {
    name       = "payments-sg-migration"
    matchers   = ["unit=\"payments\"", "resource=~\"aws_security_group\\\\..*\""]
    reason     = "security groups are being migrated under CHG-204"
    created_by = "sre-lead"
    expires_at = "2027-01-15T00:00:00Z"
  }

  # Where would this finding go? See decisions.
  finding {
    finding_json = jsonencode(data.drift_finding.f.findings[0])
    unit_labels  = { "data-classification" = "pci" }
  }
}

# The same policy from the YAML an Argo CD application keeps in .drift/.
data "drift_route" "from_yaml" {
  policy_file = "${path.module}/.drift/routing.yaml"
}

output "routing_policy" {
  value = data.drift_route.r.policy_json
}
