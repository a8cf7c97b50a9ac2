resource "aws_security_group_rule" "r" {
  cidr_blocks = [
    "10.0.0.0/8", # office
    "192.168.0.0/16",
    "172.16.0.0/12",
  ]
  ipv6_cidr_blocks = [
    "fd00::/8", # lab
    "2001:db8::/32"
  ]
  prefix_list_ids = ["pl-1", "pl-2"]
  security_groups = ["sg-1"]
}
