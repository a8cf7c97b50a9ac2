resource "local_file" "x" {
  filename = "x.txt"
  content  = "v2" # pinned
}
