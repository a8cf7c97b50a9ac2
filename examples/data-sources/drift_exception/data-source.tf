data "drift_exception" "e" {
  id          = "EXC-1"
  unit        = data.drift_managed_unit.u.name
  resource    = "aws_security_group.app_public" # `*` globs within one segment
  paths       = ["/ingress"]                    # a path covers everything below it
  drift_class = "EMERGENCY_DRIFT"
  reason      = "debug access during INC-9127"
  ticket      = "INC-9127"
  approved_by = "oncall-lead"
  expires_at  = "2027-01-15T00:00:00Z"
}

# A resource deleted outside IaC is accepted by a STATE_DRIFT exception on its exact address.
data "drift_exception" "gone" {
  id          = "EXC-2"
  unit        = data.drift_managed_unit.u.name
  resource    = "aws_instance.legacy_batch"
  drift_class = "STATE_DRIFT"
  reason      = "decommissioned by hand; removal from Git in PR 812"
  approved_by = "platform-lead"
  expires_at  = "2027-01-31T00:00:00Z"
}
