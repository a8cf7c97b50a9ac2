resource "local_file" "x" {
  filename = "y.txt"
  content  = "base"
}
