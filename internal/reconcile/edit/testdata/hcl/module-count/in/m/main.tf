resource "local_file" "x" {
  content = "same for both"
}
