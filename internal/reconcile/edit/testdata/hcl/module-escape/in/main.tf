module "m" {
  source = "../../outside"
}
