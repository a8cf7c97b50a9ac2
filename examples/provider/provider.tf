terraform {
  required_providers {
    drift = {
      source = "driftplane/drift"
    }
  }
}

# The provider has no configuration.
provider "drift" {}
