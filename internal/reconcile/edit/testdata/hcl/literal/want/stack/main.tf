# The public web tier. Keep ingress narrow.
resource "aws_security_group" "web" {
  name        = "web"   # stable name, referenced by the ALB
  description = "web tier $${file(\"/etc/passwd\")} %%{if true}x%%{endif}\n"

  ingress {
    from_port = 443 // HTTPS only
    to_port   = 443
    protocol  = "tcp"
  }
  ingress {
    from_port = 8080
    to_port   = 8080
    protocol  = "tcp"
  }

  tags = {
    Owner = "team-sre"    # paging rotation
    "cost-center" = "cc-2"
    Emergency = "INC-9127"
  }
}

resource "aws_instance" "other" {
  ami = "ami-1"
}
