variable "db_password" {
  sensitive = true
}

resource "aws_db_instance" "db" {
  username = "root"
  password = var.db_password
}
