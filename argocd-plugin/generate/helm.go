package generate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/release"

	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// What Argo CD's repo-server adds to a plugin's environment besides ARGOCD_APP_NAME/_NAMESPACE.
const (
	// EnvAppSourcePath is the application's path in its repository (spec.source.path): with it
	// the plugin knows the repository root, which bounds what a chart may read.
	EnvAppSourcePath = "ARGOCD_APP_SOURCE_PATH"
	// EnvKubeVersion is the destination cluster's version (e.g. 1.31.2): helm's --kube-version.
	EnvKubeVersion = "KUBE_VERSION"
	// EnvKubeAPIVersions is the destination's API versions, comma-separated: --api-versions.
	EnvKubeAPIVersions = "KUBE_API_VERSIONS"
)

// ChartFile marks a folder as a Helm chart.
const ChartFile = "Chart.yaml"

// helmDefaultRelease is helm template's release name when none is given.
const helmDefaultRelease = "release-name"

// confine is the folder nothing a render reads may leave: the repository root (or the
// application's folder when the plugin cannot tell where the repository starts). Its path has
// its symlinks resolved.
type confine struct{ root string }

func (c confine) inside(p string) bool {
	return p == c.root || strings.HasPrefix(p, c.root+string(filepath.Separator))
}

// rel names p for messages relative to the root: the sidecar's work folder is noise.
func (c confine) rel(p string) string {
	if r, err := filepath.Rel(c.root, p); err == nil && filepath.IsLocal(r) {
		return r
	}
	return p
}

// appLocation is where an application sits: its folder, its repository root, and the
// application's path from the root ("." when they are one).
type appLocation struct {
	confine
	dir    string
	appRel string
}

// locate resolves dir and its repository root. The root is dir minus ARGOCD_APP_SOURCE_PATH when
// dir really ends with that path, so a hostile source path can only shrink what may be read,
// never widen it past the folder argocd-cmp-server unpacked the repository into.
func locate(dir string, env map[string]string) (appLocation, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return appLocation{}, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return appLocation{}, fmt.Errorf("application folder %s: %w", dir, err)
	}
	loc := appLocation{confine: confine{root: real}, dir: real, appRel: "."}
	src := filepath.Clean(filepath.FromSlash(strings.TrimSpace(env[EnvAppSourcePath])))
	if src != "." && filepath.IsLocal(src) && strings.HasSuffix(real, string(filepath.Separator)+src) {
		loc.root = strings.TrimSuffix(real, string(filepath.Separator)+src)
		if loc.root == "" {
			loc.root = string(filepath.Separator)
		}
		loc.appRel = src
	}
	return loc, nil
}

// resolve finds a values file (or --set-file path) as Argo CD does: relative to the application's
// folder, or, when absolute, to the repository root. It returns the path relative to the root,
// and refuses remote URLs and anything that leaves the root. Symlinks are resolved when the file
// is opened through os.Root, which refuses those that lead out.
func (l appLocation) resolve(what, p string) (string, error) {
	if u, err := url.Parse(p); err == nil && u.Scheme != "" {
		return "", fmt.Errorf("%s %q: remote files are not fetched (generate runs offline); commit it to the repository", what, p)
	}
	var rel string
	if filepath.IsAbs(p) {
		rel = filepath.Clean(strings.TrimLeft(filepath.ToSlash(p), "/"))
	} else {
		rel = filepath.Join(l.appRel, p)
	}
	if rel == "" || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s %q resolves outside the repository root", what, p)
	}
	return rel, nil
}

// helmRequest is one helm template invocation.
type helmRequest struct {
	// Args are helm template's positional arguments: [NAME] CHART. Only their count and NAME
	// matter; the chart is ChartDir.
	Args         []string
	ChartDir     string
	NameTemplate string
	GenerateName bool
	Namespace    string
	Values       values.Options
	sources      *valueSources
	KubeVersion  string
	APIVersions  []string
	IncludeCRDs  bool
	SkipTests    bool
	NoHooks      bool
	// SkipSchemaValidation is --skip-schema-validation.
	SkipSchemaValidation bool
}

// helmTemplate renders a chart with the Helm SDK as `helm template` does (client-only, no
// cluster, no network), and returns the same text helm template prints.
func helmTemplate(c confine, req helmRequest) ([]byte, error) {
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	// What cmd/helm/template.go sets before running the install.
	inst.DryRun = true
	inst.DryRunOption = "true"
	inst.ReleaseName = helmDefaultRelease
	inst.Replace = true
	inst.ClientOnly = true
	inst.APIVersions = chartutil.VersionSet(req.APIVersions)
	inst.IncludeCRDs = req.IncludeCRDs
	inst.NameTemplate = req.NameTemplate
	inst.GenerateName = req.GenerateName
	inst.DisableHooks = req.NoHooks
	inst.SkipSchemaValidation = req.SkipSchemaValidation
	if req.KubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(req.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("invalid kube version '%s': %w", req.KubeVersion, err)
		}
		inst.KubeVersion = kv
	}
	name, _, err := inst.NameAndChart(req.Args)
	if err != nil {
		return nil, err
	}
	inst.ReleaseName = name
	src := req.sources
	if src == nil {
		src = &valueSources{}
	}
	vals, err := req.Values.MergeValues(src.providers())
	if err != nil {
		return nil, src.rename(err)
	}
	ch, err := loadChart(c, req.ChartDir)
	if err != nil {
		return nil, err
	}
	inst.Namespace = req.Namespace
	rel, err := inst.RunWithContext(context.Background(), ch, vals)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", chartName(ch, req.ChartDir), err)
	}
	var b bytes.Buffer
	fmt.Fprintln(&b, strings.TrimSpace(rel.Manifest))
	if !req.NoHooks {
		for _, h := range rel.Hooks {
			if req.SkipTests && isTestHook(h) {
				continue
			}
			fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
		}
	}
	return b.Bytes(), nil
}

func isTestHook(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}

func chartName(ch *chart.Chart, dir string) string {
	if ch != nil && ch.Metadata != nil && ch.Metadata.Name != "" {
		return ch.Metadata.Name
	}
	return filepath.Base(dir)
}

// loadChart loads the chart in dir with its dependencies as `helm dependency build` then
// `helm template` would see them, without the network: dependencies vendored in charts/ are
// used as they are, a file:// dependency is loaded from its folder (inside the root), and any
// other missing dependency fails naming the chart, the dependency and its repository.
// Symlinks under the chart that lead out of the root are refused first: helm's loader follows
// them and would put whatever they point at into .Files.
func loadChart(c confine, dir string) (*chart.Chart, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	if !c.inside(real) {
		return nil, fmt.Errorf("chart %s is outside the repository root", dir)
	}
	if err := c.checkSymlinks(real); err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.rel(real), err)
	}
	ch, err := loader.Load(real)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.rel(real), err)
	}
	switch ch.Metadata.Type {
	case "", "application":
	default:
		return nil, fmt.Errorf("chart %s: %s charts are not installable", ch.Name(), ch.Metadata.Type)
	}
	for _, d := range ch.Metadata.Dependencies {
		if d == nil || hasDependency(ch, d.Name) {
			continue
		}
		if !strings.HasPrefix(d.Repository, "file://") {
			return nil, missingDependency(ch, d)
		}
		sub, err := loadFileDependency(c, real, d)
		if err != nil {
			return nil, fmt.Errorf("chart %s: dependency %s (%s): %w", ch.Name(), d.Name, d.Repository, err)
		}
		ch.AddDependency(sub)
	}
	if err := checkNestedDependencies(ch); err != nil {
		return nil, err
	}
	return ch, nil
}

// hasDependency is helm's action.CheckDependencies test: a dependency is present when a loaded
// subchart has its name.
func hasDependency(ch *chart.Chart, name string) bool {
	for _, d := range ch.Dependencies() {
		if d.Name() == name {
			return true
		}
	}
	return false
}

func missingDependency(ch *chart.Chart, d *chart.Dependency) error {
	repo := d.Repository
	if repo == "" {
		repo = "no repository"
	}
	return fmt.Errorf("chart %s needs dependency %s (version %q, %s), which is not vendored in its charts/ folder: "+
		"argocd-driftplane renders offline and never downloads charts; run `helm dependency build` and commit charts/",
		ch.Name(), d.Name, d.Version, repo)
}

// loadFileDependency is what `helm dependency build` does for a file:// dependency (package the
// folder into charts/ if its version satisfies the constraint), in memory.
func loadFileDependency(c confine, chartDir string, d *chart.Dependency) (*chart.Chart, error) {
	p := strings.TrimPrefix(d.Repository, "file://")
	if !filepath.IsAbs(p) {
		p = filepath.Join(chartDir, p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, fmt.Errorf("directory %s not found", c.rel(p))
	}
	if !c.inside(real) {
		return nil, fmt.Errorf("the folder is outside the repository root")
	}
	if err := c.checkSymlinks(real); err != nil {
		return nil, err
	}
	sub, err := loader.LoadDir(real)
	if err != nil {
		return nil, err
	}
	constraint, err := semver.NewConstraint(d.Version)
	if err != nil {
		return nil, fmt.Errorf("invalid version constraint %q: %w", d.Version, err)
	}
	v, err := semver.NewVersion(sub.Metadata.Version)
	if err != nil {
		return nil, fmt.Errorf("chart version %q: %w", sub.Metadata.Version, err)
	}
	if !constraint.Check(v) {
		return nil, fmt.Errorf("can't get a valid version for dependency %s: %s has version %s", d.Name, c.rel(real), sub.Metadata.Version)
	}
	if sub.Name() != d.Name {
		return nil, fmt.Errorf("the chart there is named %s", sub.Name())
	}
	return sub, nil
}

// checkNestedDependencies fails on a subchart that declares a dependency nobody vendored. helm
// itself renders such a subchart without it; a desired state missing objects the chart declares
// is not one the plugin can vouch for, so it fails instead.
func checkNestedDependencies(ch *chart.Chart) error {
	for _, sub := range ch.Dependencies() {
		for _, d := range sub.Metadata.Dependencies {
			if d != nil && !hasDependency(sub, d.Name) {
				return missingDependency(sub, d)
			}
		}
		if err := checkNestedDependencies(sub); err != nil {
			return err
		}
	}
	return nil
}

// checkSymlinks refuses any symlink under dir that does not resolve, leads out of the root, or
// loops back to a folder above it (helm's loader follows symlinks, folders included).
func (c confine) checkSymlinks(dir string) error {
	seen := map[string]bool{}
	var walk func(string) error
	walk = func(d string) error {
		if seen[d] {
			return nil
		}
		seen[d] = true
		return filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			t, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("symlink %s does not resolve", c.rel(p))
			}
			if !c.inside(t) {
				return fmt.Errorf("symlink %s points outside the repository root", c.rel(p))
			}
			fi, err := os.Stat(t)
			if err != nil {
				return err
			}
			if !fi.IsDir() {
				return nil
			}
			if rp, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil && (rp == t || strings.HasPrefix(rp, t+string(filepath.Separator))) {
				return fmt.Errorf("symlink %s loops back to a folder above it", c.rel(p))
			}
			return walk(t)
		})
	}
	return walk(dir)
}

// valueSources hands helm's values merging (values.Options.MergeValues, so values files, --set,
// --set-string and --set-file combine exactly as in helm) files read by the plugin: each values
// file becomes "driftplane-values:N", which only this getter serves. helm reads any other name
// from the local disk or the network, so nothing else is ever passed to it.
type valueSources struct {
	names []string
	read  []func() ([]byte, error)
}

const valuesScheme = "driftplane-values"

func (s *valueSources) add(name string, read func() ([]byte, error)) string {
	s.names = append(s.names, name)
	s.read = append(s.read, read)
	return valuesScheme + ":" + strconv.Itoa(len(s.read)-1)
}

func (s *valueSources) providers() getter.Providers {
	return getter.Providers{{
		Schemes: []string{valuesScheme},
		New:     func(...getter.Option) (getter.Getter, error) { return s, nil },
	}}
}

// Get implements getter.Getter.
func (s *valueSources) Get(ref string, _ ...getter.Option) (*bytes.Buffer, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(ref, valuesScheme+":"))
	if err != nil || n < 0 || n >= len(s.read) {
		return nil, fmt.Errorf("no such values source %q", ref)
	}
	data, err := s.read[n]()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(data), nil
}

// rename puts the files' names back into helm's messages, which name them by reference.
func (s *valueSources) rename(err error) error {
	msg := err.Error()
	for i := len(s.names) - 1; i >= 0; i-- {
		msg = strings.ReplaceAll(msg, valuesScheme+":"+strconv.Itoa(i), s.names[i])
	}
	return errors.New(msg)
}

// renderHelmApp renders the chart in dir as Argo CD's repo-server runs helm template on a Helm
// application: release name from the application (or release-name), namespace from its
// destination, values files and values from the parameters, --kube-version/--api-versions from
// the destination cluster, CRDs included unless skip-crds.
func renderHelmApp(dir string, env map[string]string, p HelmParams) ([]kube.Manifest, [][]byte, error) {
	loc, err := locate(dir, env)
	if err != nil {
		return nil, nil, err
	}
	root, err := os.OpenRoot(loc.root)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = root.Close() }()
	src := &valueSources{}
	readRel := func(what, p string) (string, bool, error) {
		rel, err := loc.resolve(what, p)
		if err != nil {
			return "", false, err
		}
		fi, err := root.Stat(rel)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return rel, false, fmt.Errorf("%s %q: no such file in the repository", what, p)
			}
			return "", false, fmt.Errorf("%s %q: %w", what, p, err)
		}
		if !fi.Mode().IsRegular() {
			return "", false, fmt.Errorf("%s %q: not a regular file", what, p)
		}
		return rel, true, nil
	}
	var opts values.Options
	for _, f := range p.ValuesFiles {
		rel, ok, err := readRel("values file", f)
		if !ok && p.IgnoreMissingValueFiles && rel != "" {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		opts.ValueFiles = append(opts.ValueFiles, src.add(f, func() ([]byte, error) { return root.ReadFile(rel) }))
	}
	if p.Values != "" {
		opts.ValueFiles = append(opts.ValueFiles, src.add("the "+ParamValues+" parameter", func() ([]byte, error) { return []byte(p.Values), nil }))
	}
	opts.Values = p.Set
	opts.StringValues = p.SetString
	names := make([]string, 0, len(p.SetFile))
	for k := range p.SetFile {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		rel, _, err := readRel(ParamSetFile+" "+k, p.SetFile[k])
		if err != nil {
			return nil, nil, err
		}
		opts.FileValues = append(opts.FileValues, k+"="+src.add(p.SetFile[k], func() ([]byte, error) { return root.ReadFile(rel) }))
	}
	ns := strings.TrimSpace(env[EnvAppNamespace])
	if ns == "" {
		ns = "default"
	}
	req := helmRequest{
		Args:                 []string{loc.dir},
		ChartDir:             loc.dir,
		NameTemplate:         releaseName(env, p),
		Namespace:            ns,
		Values:               opts,
		sources:              src,
		KubeVersion:          strings.TrimSpace(env[EnvKubeVersion]),
		APIVersions:          splitList(env[EnvKubeAPIVersions]),
		IncludeCRDs:          !p.SkipCRDs,
		SkipTests:            p.SkipTests,
		SkipSchemaValidation: p.SkipSchemaValidation,
	}
	out, err := helmTemplate(loc.confine, req)
	if err != nil {
		return nil, nil, err
	}
	return decodeRendered(filepath.Join(dir, ChartFile)+" (rendered)", out)
}

// releaseName is what Argo CD passes as --name-template: the release-name parameter, else the
// application's name without its "<namespace>_" prefix (apps in any namespace); empty leaves
// helm's default.
func releaseName(env map[string]string, p HelmParams) string {
	if p.ReleaseName != "" {
		return p.ReleaseName
	}
	name := strings.TrimSpace(env[EnvAppName])
	if _, n, ok := strings.Cut(name, "_"); ok {
		name = n
	}
	return name
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// decodeRendered decodes a render's YAML stream with the checks a manifests folder gets (no
// empty render, no object twice), its documents in parallel. It also returns each object's
// document, or nil where a document held several objects (a List).
func decodeRendered(name string, out []byte) ([]kube.Manifest, [][]byte, error) {
	docs, err := kube.SplitDocuments(out)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	decoded := make([][]kube.Manifest, len(docs))
	errs := make([]error, len(docs))
	workers := min(runtime.GOMAXPROCS(0), len(docs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d kube.DocumentDecoder
			for i := w; i < len(docs); i += workers {
				decoded[i], errs[i] = d.Decode(fmt.Sprintf("%s document %d", name, i+1), docs[i])
			}
		}()
	}
	wg.Wait()
	var ms []kube.Manifest
	var raw [][]byte
	for i, d := range decoded {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		for _, m := range d {
			ms = append(ms, m)
			if len(d) == 1 {
				raw = append(raw, docs[i])
			} else {
				raw = append(raw, nil)
			}
		}
	}
	if len(ms) == 0 {
		return nil, nil, fmt.Errorf("%s holds no Kubernetes objects: an empty render is not a desired state", name)
	}
	seen := map[string]string{}
	for _, m := range ms {
		gvk := m.Object.GroupVersionKind()
		k := gvk.Group + "/" + gvk.Kind + "/" + m.Object.GetNamespace() + "/" + m.Object.GetName()
		if prev, ok := seen[k]; ok {
			return nil, nil, fmt.Errorf("%s declares %s %q again (first in %s)", m.Source, gvk.Kind, m.Object.GetName(), prev)
		}
		seen[k] = m.Source
	}
	return ms, raw, nil
}
