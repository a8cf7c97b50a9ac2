variable "body" {
  type = string
}

variable "mode" {
  type    = string
  default = "0644"
}

resource "local_file" "index" {
  filename        = "index.html"
  content         = var.body
  file_permission = var.mode
}
