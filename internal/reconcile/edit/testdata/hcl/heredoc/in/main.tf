resource "local_file" "cfg" {
  filename = "app.conf"
  content  = <<EOT
listen 80
EOT
}
