variable "content" {
  description = "what the file says"
  default     = "hello" # greeting
}

resource "local_file" "greeting" {
  filename = "greeting.txt"
  content  = var.content
}

output "content" {
  value = var.content
}
