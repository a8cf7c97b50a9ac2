resource "local_file" "x" {
  content = "a"
}
