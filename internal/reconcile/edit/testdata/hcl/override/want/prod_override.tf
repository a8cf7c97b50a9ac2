resource "local_file" "x" {
  content = "prod"
}
