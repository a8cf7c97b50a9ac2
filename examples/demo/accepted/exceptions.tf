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
  expires_at  = "2099-01-01T00:00:00Z"
}
