// Command argocd-driftplane is driftplane's Argo CD plugin.
//
//	argocd-driftplane generate [DIR]   render an application for Argo CD (run by argocd-cmp-server)
//	argocd-driftplane report [flags]   evaluate applications' drift into their DriftReports
//	argocd-driftplane version
//	argocd-driftplane completion bash|zsh|fish|powershell
//
// Every flag can also be set from $DRIFTPLANE_<FLAG> (--resync is $DRIFTPLANE_RESYNC); a flag on
// the command line wins. Exit codes: 0 success, 1 failure, 2 a usage error.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/generate"
	"github.com/driftplane/terraform-provider-drift/internal/cli"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// exitUsage is the exit code of a usage error.
const exitUsage = 2

func main() {
	// kustomize's helmCharts call `helm`; generate points kustomize at a symlink of this binary
	// by that name (see generate.RunHelmShim).
	if filepath.Base(os.Args[0]) == generate.HelmShimName {
		os.Exit(generate.RunHelmShim(os.Args[0], os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: argocd-driftplane generate [DIR] | report [flags] | version")
		fmt.Fprintln(stderr, "Run 'argocd-driftplane --help' for the commands.")
		return exitUsage
	}
	return cli.Execute(newRootCommand(), args, stdout, stderr, exitUsage)
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "argocd-driftplane",
		Short: "driftplane's Argo CD plugin: render applications, report their drift",
		Long: `argocd-driftplane is driftplane's Argo CD plugin. argocd-cmp-server runs 'generate' to render
an application with its drift policy; the reporter ('report') evaluates every such application's
drift into its DriftReport.

Every flag can also be set from $DRIFTPLANE_<FLAG>, e.g. --resync from $DRIFTPLANE_RESYNC;
a flag on the command line wins.`,
		Example: `  # What argocd-cmp-server runs in an application's folder
  argocd-driftplane generate

  # The reporter, as its Deployment runs it
  argocd-driftplane report --argocd-server=https://argocd-server --namespace=argocd`,
	}
	root.AddCommand(newGenerateCommand(), newReportCommand())
	cli.Configure(root, version)
	return root
}

func newGenerateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "generate [DIR]",
		Short: "Render an application for Argo CD (run by argocd-cmp-server)",
		Long: `Generate renders an application's folder (DIR, default the current one) as Argo CD's config
management plugin: the desired objects minus the fields its drift policy (.drift/) says Git does
not own, then a DriftReport carrying the validated policy, as a YAML stream on stdout.

DIR is rendered as Argo CD would pick for it: a kustomization (helmCharts enabled), else a Helm
chart (Chart.yaml, rendered with the Helm SDK as helm template, offline: dependencies must be
vendored in charts/ or file://), else YAML/JSON files.

It fails closed: on any error nothing reaches stdout and the exit code is 1, so Argo CD never
sees an empty application. It reads what Argo CD passes to plugins: $ARGOCD_APP_NAME,
$ARGOCD_APP_NAMESPACE, $ARGOCD_APP_REVISION, $ARGOCD_APP_SOURCE_PATH, $KUBE_VERSION,
$KUBE_API_VERSIONS, the Application's plugin env $ARGOCD_ENV_DRIFTPLANE_ENVIRONMENT, _GATE,
_RISK_TIER, _FRESHNESS_SECONDS, _HELM_VALUES_FILES, _HELM_RELEASE_NAME and _HELM_SET, and its
plugin parameters $ARGOCD_APP_PARAMETERS (a chart's values-files, values, set, set-string,
set-file, release-name, skip-crds, skip-tests, skip-schema-validation,
ignore-missing-value-files).`,
		Example: `  # Render an application locally, as the repo-server would
  ARGOCD_APP_NAME=payments-web ARGOCD_APP_NAMESPACE=argocd argocd-driftplane generate ./apps/payments-web`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) > 0 {
				dir = args[0]
			}
			out, err := generate.Generate(dir, generate.Options{Env: generate.EnvFromOS()})
			if err != nil {
				// Nothing reaches stdout on error: Argo CD must see a failure, never an empty app.
				return cli.Fail(1, err)
			}
			if _, err := cmd.OutOrStdout().Write(out); err != nil {
				return cli.Fail(1, fmt.Errorf("writing output: %w", err))
			}
			return nil
		},
	}
}
