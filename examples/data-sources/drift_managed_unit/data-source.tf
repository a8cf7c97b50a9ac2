data "drift_managed_unit" "u" {
  name        = "payments-prod-network"
  kind        = "opentofu-stack"
  owner       = "platform-network"
  environment = "prod"
  risk_tier   = "critical"
  gate        = "critical"

  # Autoscaling owns the desired capacity: drift there is expected, never blocking.
  ownership_rule {
    resource_type = "aws_autoscaling_group"
    controller_owned {
      path  = "/desired_capacity"
      owner = "aws-autoscaling"
    }
  }

  # A tag scanner may set any tag, but the Owner tag stays Git's.
  ownership_rule {
    resource_type = "aws_instance"
    runtime_owned = ["/tags"]
    git_owned     = ["/tags/Owner"]
  }

  # Cost resources: a pull request rather than a revert.
  domain_override {
    domain             = "cost"
    recommended_action = "GIT_UPDATE_PR"
  }

  # Drift budgets: no unaccepted high-risk identity drift at all, and no network drift left open
  # over a day. An exhausted budget fails the plan whatever the gate.
  budget {
    name     = "identity-zero-high"
    domain   = "identity"
    min_risk = "HIGH"
    max_open = 0
  }
  budget {
    name    = "network-within-a-day"
    domain  = "network"
    max_age = "24h"
  }
}
