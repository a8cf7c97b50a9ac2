# Policy rules on a unit: CEL expressions every resource they apply to must satisfy as it runs.
# The same rules for the Argo CD side or `driftplane scan` are in .drift/unit.yaml.
data "drift_managed_unit" "u" {
  name        = "payments-prod"
  kind        = "opentofu-stack"
  owner       = "team-payments"
  environment = "prod"
  risk_tier   = "high"

  # Mandatory tags: every AWS resource names its owner.
  policy_rule {
    id               = "owner-tag"
    applies_to       = ["aws_*"]
    expression       = "has(resource.values.tags) && resource.values.tags != null && 'owner' in resource.values.tags && resource.values.tags.owner != ''"
    message          = "every resource carries an owner tag"
    since            = "2026-06-01T00:00:00Z"
    migration_window = "720h"
  }

  # Encryption at rest: databases and volumes are encrypted.
  policy_rule {
    id               = "encrypted-at-rest"
    applies_to       = ["aws_db_instance", "aws_rds_cluster", "aws_ebs_volume"]
    expression       = "(has(resource.values.storage_encrypted) && resource.values.storage_encrypted == true) || (has(resource.values.encrypted) && resource.values.encrypted == true)"
    message          = "data is encrypted at rest"
    since            = "2026-06-01T00:00:00Z"
    migration_window = "2160h"
  }

  # No public buckets: every public-access block setting is on; no migration window.
  policy_rule {
    id         = "no-public-buckets"
    applies_to = ["aws_s3_bucket_public_access_block"]
    expression = "['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'].all(k, k in resource.values && resource.values[k] == true)"
    message    = "buckets are never public"
    since      = "2026-06-01T00:00:00Z"
  }

  # File permissions for hashicorp/local: files are readable by their owner only.
  policy_rule {
    id               = "private-files"
    applies_to       = ["local_file", "local_sensitive_file"]
    expression       = "resource.values.file_permission == '0600'"
    message          = "file_permission must be 0600"
    since            = "2026-06-01T00:00:00Z"
    migration_window = "720h"
  }
}

# The gate reads the refresh-only plan of the stack; policy rules judge every resource in it.
data "drift_finding" "f" {
  unit           = data.drift_managed_unit.u.policy_json
  plan_json_path = "${path.module}/drift-plan.json"
}
