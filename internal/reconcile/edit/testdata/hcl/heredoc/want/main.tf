resource "local_file" "cfg" {
  filename = "app.conf"
  content  = <<EOT
listen 8080
log $${HOME}
EOT
}
