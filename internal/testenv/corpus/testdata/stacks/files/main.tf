# A small stack of the project's own: plain files, a for_each, a child module and an output,
# managed by the real hashicorp/local provider. The recorder changes its files behind OpenTofu's
# back and records what `tofu show -json` says about it.
variable "greeting" {
  type    = string
  default = "hello from git\n"
}

resource "local_file" "motd" {
  filename        = "${path.module}/out/motd.txt"
  content         = var.greeting
  file_permission = "0644"
}

resource "local_file" "app" {
  for_each = toset(["api", "worker"])
  filename = "${path.module}/out/${each.key}.conf"
  content  = "role = ${each.key}\n"
}

module "web" {
  source = "./modules/site"
  name   = "web"
}

output "motd_path" {
  value = local_file.motd.filename
}
