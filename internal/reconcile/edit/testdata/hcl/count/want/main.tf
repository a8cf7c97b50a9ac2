resource "local_file" "x" {
  count    = 3
  filename = "x${count.index}.txt"
  content  = "same"
}
