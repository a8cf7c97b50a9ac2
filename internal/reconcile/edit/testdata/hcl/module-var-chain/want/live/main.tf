variable "site_body" {
  type = string
}

module "site" {
  source = "../modules/site"
  body   = var.site_body
}
