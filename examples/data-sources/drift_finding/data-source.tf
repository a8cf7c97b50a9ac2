# drift-plan.json is written by the drift job before the gated plan:
#   tofu plan -refresh-only -exclude=data.drift_finding.f -out=drift.plan
#   tofu show -json drift.plan > drift-plan.json
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  exceptions     = [data.drift_exception.e.json, data.drift_exception.gone.json]
  plan_json_path = "${path.module}/drift-plan.json"
}

output "drift_summary" {
  value = data.drift_finding.f.summary
}

output "blocking" {
  value = [for f in data.drift_finding.f.findings : f.resource_ref if f.blocking]
}
