variable "name" {
  type = string
}

resource "local_file" "index" {
  filename = "out/${var.name}/index.html"
  content  = "<h1>${var.name}</h1>\n"
}

output "path" {
  value = local_file.index.filename
}
