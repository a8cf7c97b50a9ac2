// Command terraform-provider-drift is the driftplane OpenTofu/Terraform provider.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/driftplane/terraform-provider-drift/provider"
)

// Docs are generated from the schema of a locally built provider (scripts/generate-docs.sh),
// so tfplugindocs never downloads Terraform.
//go:generate bash scripts/generate-docs.sh

// version is set by the release build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.opentofu.org/driftplane/drift",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
