package generate

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// kustomize's helmCharts run an external `helm` (kustomize build --enable-helm, as Argo CD runs
// it). The plugin image has no helm: kustomize is pointed at a symlink named HelmShimName to this
// very executable, which answers the three commands kustomize issues (version, template, pull)
// with the Helm SDK. Its main dispatches on that name (RunHelmShim). Rendering goes through
// helmTemplate, so a chart inflated by kustomize reads exactly what a Helm application may.

// HelmShimName is the name the plugin's executable runs as when kustomize calls helm. Any
// program whose Generate may meet helmCharts must dispatch on it first thing in main (as
// argocd-driftplane's main and this package's TestMain do): kustomize runs os.Executable().
const HelmShimName = "helm"

// shimConfigFile sits beside the shim's symlink: what the shim may read.
const shimConfigFile = "driftplane-helm.json"

type shimConfig struct {
	Root string `json:"root"`
}

// kustomizeApp builds a kustomization as Argo CD does with --enable-helm (and, like Argo CD, the
// destination's KUBE_VERSION/KUBE_API_VERSIONS for the charts).
func kustomizeApp(dir string, env map[string]string) ([]kube.Manifest, [][]byte, error) {
	loc, err := locate(dir, env)
	if err != nil {
		return nil, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("kustomization %s: locating the helm shim: %w", dir, err)
	}
	shimDir, err := os.MkdirTemp("", "driftplane-helm-")
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = os.RemoveAll(shimDir) }()
	shim := filepath.Join(shimDir, HelmShimName)
	if err := os.Symlink(exe, shim); err != nil {
		return nil, nil, err
	}
	cfg, _ := json.Marshal(shimConfig{Root: loc.root})
	if err := os.WriteFile(filepath.Join(shimDir, shimConfigFile), cfg, 0o600); err != nil {
		return nil, nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.PluginConfig.HelmConfig.Enabled = true
	opts.PluginConfig.HelmConfig.Command = shim
	opts.PluginConfig.HelmConfig.KubeVersion = strings.TrimSpace(env[EnvKubeVersion])
	opts.PluginConfig.HelmConfig.ApiVersions = splitList(env[EnvKubeAPIVersions])
	rm, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, nil, fmt.Errorf("kustomization %s: %w", dir, err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		return nil, nil, fmt.Errorf("kustomization %s: %w", dir, err)
	}
	return decodeRendered(filepath.Join(dir, "kustomization.yaml")+" (rendered)", y)
}

// RunHelmShim is `helm` as kustomize calls it: argv0 is the symlink's path (its folder holds the
// shim's configuration), args the helm arguments. It returns the exit code.
func RunHelmShim(argv0 string, args []string, stdout, stderr io.Writer) int {
	if err := runHelmShim(argv0, args, stdout); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

func runHelmShim(argv0 string, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("argocd-driftplane's helm answers only kustomize's version, template and pull")
	}
	switch args[0] {
	case "version":
		_, err := fmt.Fprintln(stdout, helmVersion())
		return err
	case "pull":
		return shimPull(args[1:])
	case "template":
	default:
		return fmt.Errorf("argocd-driftplane's helm answers only kustomize's version, template and pull, not %q", args[0])
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(argv0), shimConfigFile))
	if err != nil {
		return fmt.Errorf("argocd-driftplane runs as helm only for kustomize under `argocd-driftplane generate`: %w", err)
	}
	var cfg shimConfig
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg.Root == "" {
		return fmt.Errorf("%s: no root", shimConfigFile)
	}
	req, err := parseShimTemplate(args[1:])
	if err != nil {
		return err
	}
	out, err := helmTemplate(confine{root: cfg.Root}, req)
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

// parseShimTemplate reads the helm template flags kustomize passes (HelmChart.AsHelmArgs), with
// helm's own flag types.
func parseShimTemplate(args []string) (helmRequest, error) {
	fs := pflag.NewFlagSet("template", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		req                       helmRequest
		valueFiles, apis          []string
		includeCRDs, skipTests    bool
		noHooks, debugFlag, devel bool
	)
	fs.BoolVarP(&req.GenerateName, "generate-name", "g", false, "")
	fs.StringVarP(&req.Namespace, "namespace", "n", "", "")
	fs.StringVar(&req.NameTemplate, "name-template", "", "")
	fs.StringSliceVarP(&valueFiles, "values", "f", nil, "")
	fs.StringSliceVarP(&apis, "api-versions", "a", nil, "")
	fs.StringVar(&req.KubeVersion, "kube-version", "", "")
	fs.BoolVar(&includeCRDs, "include-crds", false, "")
	fs.BoolVar(&skipTests, "skip-tests", false, "")
	fs.BoolVar(&noHooks, "no-hooks", false, "")
	fs.BoolVar(&debugFlag, "debug", false, "")
	fs.BoolVar(&devel, "devel", false, "")
	if err := fs.Parse(args); err != nil {
		return helmRequest{}, err
	}
	req.Args = fs.Args()
	if len(req.Args) == 0 {
		return helmRequest{}, fmt.Errorf("template: no chart")
	}
	req.ChartDir = req.Args[len(req.Args)-1]
	if req.Namespace == "" {
		req.Namespace = "default"
	}
	// kustomize writes the chart's values (merged with valuesInline) into its own temporary
	// file and checks additionalValuesFiles against its load restrictions before calling helm;
	// the shim reads them from the disk but never a URL.
	src := &valueSources{}
	for _, f := range valueFiles {
		if strings.Contains(f, "://") {
			return helmRequest{}, fmt.Errorf("values file %q: remote files are not fetched (generate runs offline)", f)
		}
		req.Values.ValueFiles = append(req.Values.ValueFiles, src.add(f, func() ([]byte, error) { return os.ReadFile(f) }))
	}
	req.sources = src
	req.APIVersions = apis
	req.IncludeCRDs = includeCRDs
	req.SkipTests = skipTests
	req.NoHooks = noHooks
	return req, nil
}

// shimPull is kustomize asking helm to download a chart it did not find under its chart home:
// never done, the error names the chart so its owner can vendor it.
func shimPull(args []string) error {
	fs := pflag.NewFlagSet("pull", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var untar, devel bool
	var untarDir, repo, version string
	fs.BoolVar(&untar, "untar", false, "")
	fs.StringVar(&untarDir, "untardir", "", "")
	fs.StringVar(&repo, "repo", "", "")
	fs.StringVar(&version, "version", "", "")
	fs.BoolVar(&devel, "devel", false, "")
	_ = fs.Parse(args)
	name := strings.Join(fs.Args(), " ")
	where := repo
	if where == "" {
		where = "its repository"
	}
	return fmt.Errorf("helm chart %s (version %q, from %s) is not vendored in the kustomization's helm chart home %s: "+
		"argocd-driftplane renders offline and never downloads charts; `helm pull --untar` it there and commit it",
		name, version, where, untarDir)
}

// helmVersion is the linked Helm SDK's version, which kustomize checks is 3.x.
func helmVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "helm.sh/helm/v3" {
				if d.Replace != nil && d.Replace.Version != "" {
					return d.Replace.Version
				}
				if d.Version != "" && d.Version != "(devel)" {
					return d.Version
				}
			}
		}
	}
	return "v3.0.0"
}
