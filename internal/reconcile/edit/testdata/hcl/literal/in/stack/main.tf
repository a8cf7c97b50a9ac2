# The public web tier. Keep ingress narrow.
resource "aws_security_group" "web" {
  name        = "web"   # stable name, referenced by the ALB
  description = "web tier"

  ingress {
    from_port = 443 // HTTPS only
    to_port   = 443
    protocol  = "tcp"
  }
  ingress {
    from_port = 80
    to_port   = 80
    protocol  = "tcp"
  }

  tags = {
    Owner = "team-web"    # paging rotation
    "cost-center" = "cc-1"
  }
}

resource "aws_instance" "other" {
  ami = "ami-1"
}
