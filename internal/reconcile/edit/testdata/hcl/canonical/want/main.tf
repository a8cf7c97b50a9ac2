resource "local_file" "x" {
  filename        = "x.txt"
  content         = "new"
  file_permission = "0600"
}
