terraform {
  required_providers {
    drift = { source = "driftplane/drift" }
    local = { source = "hashicorp/local" }
  }
}

# The managed infrastructure: a config file standing in for a real resource.
resource "local_file" "payments_config" {
  filename = "${path.module}/payments.conf"
  content  = "max_connections = 500\n"
}

data "drift_managed_unit" "payments" {
  name        = "payments-prod"
  owner       = "team-payments"
  environment = "prod"
  risk_tier   = "critical"
  gate        = "medium"
}

data "drift_finding" "payments" {
  unit           = data.drift_managed_unit.payments.policy_json
  exceptions     = [for e in data.drift_exception.accepted : e.json]
  plan_json_path = "${path.module}/drift-plan.json"
}

output "drift_status" {
  value = data.drift_finding.payments.status
}

output "drift_summary" {
  value = data.drift_finding.payments.summary
}

output "drift_findings" {
  value = [for f in data.drift_finding.payments.findings : "${f.resource_ref}: ${f.drift_class} ${f.risk} -> ${f.recommended_action} (accepted by ${f.accepted_by == "" ? "nobody" : f.accepted_by})"]
}
