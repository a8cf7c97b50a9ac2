// Command decisiondoc writes the decision-table guide template from internal/drift/decisions.yaml,
// so the documentation cannot drift from the table the classifier runs on.
package main

import (
	"fmt"
	"os"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: decisiondoc OUTPUT.md.tmpl")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], []byte(drift.DefaultTable().Markdown()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
