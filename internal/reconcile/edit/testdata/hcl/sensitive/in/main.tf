variable "db_password" {
  sensitive = true
}

resource "aws_db_instance" "db" {
  username = "admin"
  password = var.db_password
}
