# The hot fix is accepted until the change lands in Git (hashicorp/local reports a file edited
# out of band as deleted, so this is STATE_DRIFT on the exact address).
data "drift_exception" "accepted" {
  for_each    = { "EXC-1042" = "local_file.payments_config" }
  id          = each.key
  unit        = data.drift_managed_unit.payments.name
  resource    = each.value
  drift_class = "STATE_DRIFT"
  reason      = "max_connections raised during INC-1042; PR 2210 ports it to Git"
  ticket      = "INC-1042"
  approved_by = "payments-oncall-lead"
  # Exceptions expire within 90 days of the evaluation (a unit may allow up to 365 with
  # max_exception_days); the demo approves this one for 30 days from the plan.
  expires_at = timeadd(plantimestamp(), "720h")
}
