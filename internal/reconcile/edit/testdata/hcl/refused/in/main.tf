locals {
  name = "svc"
}

variable "env" {
  default = "prod"
}

resource "local_file" "x" {
  filename        = "${path.module}/${local.name}.txt"
  content         = upper(local.name)
  file_permission = var.env == "prod" ? "0600" : "0644"
  directory_permission = local.name
  source          = other_resource.y.path
}
