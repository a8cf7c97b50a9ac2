resource "local_file" "x" {
  filename = "x.txt"
  content  = "base"
}
