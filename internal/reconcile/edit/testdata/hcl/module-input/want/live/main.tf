module "site" {
  source = "../modules/site"

  # Content is reviewed by marketing.
  body = "welcome back"
  mode = "0600"
}
