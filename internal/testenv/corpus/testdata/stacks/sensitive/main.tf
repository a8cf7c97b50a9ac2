# A stack with sensitive values: a sensitive variable written by local_sensitive_file and a
# sensitive output. The values are dummies, never real credentials.
variable "token" {
  type      = string
  sensitive = true
  default   = "dummy-token-not-a-secret"
}

resource "local_sensitive_file" "token" {
  filename = "${path.module}/out/token"
  content  = var.token
}

resource "local_file" "endpoint" {
  filename = "${path.module}/out/endpoint.conf"
  content  = "endpoint = https://api.example.com\n"
}

output "token" {
  value     = var.token
  sensitive = true
}
