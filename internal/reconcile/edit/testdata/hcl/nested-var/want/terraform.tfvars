settings = {
  port = 8080 # default HTTP
  host = "example.org"
}
