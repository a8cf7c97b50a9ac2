variable "api_key" {
  type      = string
  sensitive = true
  default   = "placeholder"
}

resource "example_client" "c" {
  api_key = var.api_key
}
