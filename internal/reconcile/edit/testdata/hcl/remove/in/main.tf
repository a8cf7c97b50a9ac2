resource "local_file" "x" {
  filename        = "x.txt"
  file_permission = "0600" # tightened
  content         = "a"
}
