variable "settings" {
  type = object({ port = number, host = string })
}

resource "example_server" "s" {
  port = var.settings.port
  host = var.settings["host"]
}
