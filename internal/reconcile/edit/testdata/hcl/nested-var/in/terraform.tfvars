settings = {
  port = 80 # default HTTP
  host = "example.com"
}
