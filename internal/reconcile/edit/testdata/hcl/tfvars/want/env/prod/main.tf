variable "replicas" {
  type    = number
  default = 1
}

variable "image" {
  type = string
}

resource "kubernetes_deployment" "app" {
  spec {
    replicas = var.replicas
    template {
      spec {
        container {
          image = var.image
        }
      }
    }
  }
}
