variable "token_ttl" {
  type = number
}

resource "vault_token" "t" {
  ttl = var.token_ttl
}
