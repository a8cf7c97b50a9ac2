// Command argocd-driftplane is driftplane's Argo CD plugin.
//
//	argocd-driftplane generate [DIR]   render an application for Argo CD (run by argocd-cmp-server)
//	argocd-driftplane report [flags]   evaluate applications' drift into their DriftReports
//	argocd-driftplane version
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/generate"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: argocd-driftplane generate [DIR] | report [flags] | version")
		return 2
	}
	switch args[0] {
	case "generate":
		dir := "."
		if len(args) > 1 {
			dir = args[1]
		}
		out, err := generate.Generate(dir, generate.Options{Env: generate.EnvFromOS()})
		if err != nil {
			// Nothing reaches stdout on error: Argo CD must see a failure, never an empty app.
			fmt.Fprintf(stderr, "argocd-driftplane generate: %v\n", err)
			return 1
		}
		if _, err := stdout.Write(out); err != nil {
			fmt.Fprintf(stderr, "argocd-driftplane generate: writing output: %v\n", err)
			return 1
		}
		return 0
	case "report":
		if err := report(args[1:], stderr); err != nil {
			fmt.Fprintf(stderr, "argocd-driftplane report: %v\n", err)
			return 1
		}
		return 0
	case "version":
		fmt.Fprintln(stdout, version)
		return 0
	}
	fmt.Fprintf(stderr, "argocd-driftplane: unknown command %q\n", args[0])
	return 2
}
