resource "aws_security_group_rule" "r" {
  cidr_blocks = [
    "10.0.0.0/8", # office
    "192.168.0.0/16",
  ]
  ipv6_cidr_blocks = [
    "fd00::/8" # lab
  ]
  prefix_list_ids = ["pl-1"]
  security_groups = []
}
