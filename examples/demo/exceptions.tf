# No drift is accepted yet.
data "drift_exception" "accepted" {
  for_each    = {}
  id          = each.key
  unit        = data.drift_managed_unit.payments.name
  resource    = each.value
  drift_class = "STATE_DRIFT"
  reason      = "unused"
  approved_by = "nobody"
  expires_at  = "2000-01-01T00:00:00Z"
}
