resource "local_file" "x" {
  filename = "x.txt"
  content  = "v1" # pinned
}
