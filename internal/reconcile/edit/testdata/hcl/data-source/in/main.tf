variable "ports" {
  default = [80, 443]
}

data "aws_ami" "ubuntu" {
  owners = ["099720109477"] # Canonical
}

resource "aws_security_group" "sg" {
  dynamic "ingress" {
    for_each = var.ports
    content {
      from_port = ingress.value
    }
  }
}
