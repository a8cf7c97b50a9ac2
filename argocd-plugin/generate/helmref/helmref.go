// Package helmref is the reference the plugin's Helm rendering is tested against: `helm
// dependency build` (for file:// dependencies) and `helm template` done step by step with the
// Helm SDK the way helm's own command line does them, on real files, with none of the plugin's
// code; and an object-by-object comparison of the two renders that allows only the fields the
// plugin strips (listed in its DriftReport) and the DriftReport itself. Tests only: no binary
// links it.
package helmref

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// BuildFileDependencies is what `helm dependency build` does for the chart's file://
// dependencies that are not in charts/ yet: load the folder and save it as charts/<name>-<version>.tgz.
func BuildFileDependencies(chartDir string) error {
	ch, err := loader.LoadDir(chartDir)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	for _, d := range ch.Metadata.Dependencies {
		if have[d.Name] || !strings.HasPrefix(d.Repository, "file://") {
			continue
		}
		p := strings.TrimPrefix(d.Repository, "file://")
		if !filepath.IsAbs(p) {
			p = filepath.Join(chartDir, p)
		}
		sub, err := loader.LoadDir(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(chartDir, "charts"), 0o755); err != nil {
			return err
		}
		if _, err := chartutil.Save(sub, filepath.Join(chartDir, "charts")); err != nil {
			return err
		}
	}
	return nil
}

// Template is `helm template` with these flags.
type Template struct {
	Chart        string
	NameTemplate string // --name-template (Argo CD passes the application's name there)
	Namespace    string
	ValueFiles   []string // -f, real paths
	Set          []string
	SetString    []string
	SetFile      []string
	KubeVersion  string
	APIVersions  []string
	IncludeCRDs  bool
	SkipTests    bool
}

// Run renders as cmd/helm/template.go and cmd/helm/install.go's runInstall do.
func (t Template) Run() (string, error) {
	client := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	if t.KubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(t.KubeVersion)
		if err != nil {
			return "", err
		}
		client.KubeVersion = kv
	}
	client.DryRunOption = "true"
	client.DryRun = true
	client.ReleaseName = "release-name"
	client.Replace = true
	client.ClientOnly = true
	client.APIVersions = chartutil.VersionSet(t.APIVersions)
	client.IncludeCRDs = t.IncludeCRDs
	client.NameTemplate = t.NameTemplate

	name, chartPath, err := client.NameAndChart([]string{t.Chart})
	if err != nil {
		return "", err
	}
	client.ReleaseName = name
	valueOpts := values.Options{ValueFiles: t.ValueFiles, Values: t.Set, StringValues: t.SetString, FileValues: t.SetFile}
	vals, err := valueOpts.MergeValues(getter.All(cli.New()))
	if err != nil {
		return "", err
	}
	ch, err := loader.Load(chartPath)
	if err != nil {
		return "", err
	}
	if req := ch.Metadata.Dependencies; req != nil {
		if err := action.CheckDependencies(ch, req); err != nil {
			return "", err
		}
	}
	client.Namespace = t.Namespace
	rel, err := client.RunWithContext(context.Background(), ch, vals)
	if err != nil {
		return "", err
	}
	var manifests bytes.Buffer
	fmt.Fprintln(&manifests, strings.TrimSpace(rel.Manifest))
	for _, m := range rel.Hooks {
		if t.SkipTests && isTestHook(m) {
			continue
		}
		fmt.Fprintf(&manifests, "---\n# Source: %s\n%s\n", m.Path, m.Manifest)
	}
	return manifests.String(), nil
}

func isTestHook(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}

// Decode splits a YAML (or JSON) stream into objects, skipping empty documents.
func Decode(stream []byte) ([]map[string]any, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	var out []map[string]any
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(obj) > 0 {
			out = append(out, obj)
		}
	}
}

// Key names an object: group/kind/namespace/name.
func Key(obj map[string]any) string {
	u := unstructured.Unstructured{Object: obj}
	gvk := u.GroupVersionKind()
	return gvk.Group + "/" + gvk.Kind + "/" + u.GetNamespace() + "/" + u.GetName()
}

// Compare checks the plugin's objects against helm's, object by object: the same objects, equal
// except for the fields the DriftReport lists as stripped (spec.strippedFields: ref
// group/version/Kind/namespace/name and a JSON pointer path), plus exactly one DriftReport. It
// returns the stripped fields it saw and every difference.
func Compare(helm, plugin []map[string]any) (stripped []string, diffs []string) {
	var report map[string]any
	got := map[string]map[string]any{}
	for _, o := range plugin {
		if o["kind"] == "DriftReport" {
			if report != nil {
				diffs = append(diffs, "two DriftReports")
			}
			report = o
			continue
		}
		got[Key(o)] = o
	}
	if report == nil {
		diffs = append(diffs, "no DriftReport")
		return nil, diffs
	}
	strip := map[string][]string{} // object key → paths
	fields, _, _ := unstructured.NestedSlice(report, "spec", "strippedFields")
	for _, f := range fields {
		m, _ := f.(map[string]any)
		ref, _ := m["ref"].(string)
		path, _ := m["path"].(string)
		parts := strings.Split(ref, "/") // group/version/Kind/namespace/name; core has an empty group
		if len(parts) != 5 {
			diffs = append(diffs, fmt.Sprintf("stripped field ref %q: want group/version/kind/namespace/name", ref))
			continue
		}
		k := parts[0] + "/" + parts[2] + "/" + parts[3] + "/" + parts[4]
		strip[k] = append(strip[k], path)
		stripped = append(stripped, k+path)
	}
	if len(helm) != len(got) {
		diffs = append(diffs, fmt.Sprintf("helm rendered %d objects, the plugin %d (besides its DriftReport)", len(helm), len(got)))
	}
	for _, want := range helm {
		k := Key(want)
		have, ok := got[k]
		if !ok {
			diffs = append(diffs, "missing "+k)
			continue
		}
		want = deepCopy(want)
		for _, p := range strip[k] {
			removePointer(want, p)
		}
		if !reflect.DeepEqual(normalize(want), normalize(have)) {
			diffs = append(diffs, fmt.Sprintf("%s differs:\n helm   %v\n plugin %v", k, normalize(want), normalize(have)))
		}
	}
	sort.Strings(stripped)
	return stripped, diffs
}

// removePointer deletes the field at a JSON pointer, and parents it leaves empty, as the plugin
// does.
func removePointer(obj map[string]any, pointer string) {
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	for i := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(parts[i], "~1", "/"), "~0", "~")
	}
	var walk func(m map[string]any, ps []string)
	walk = func(m map[string]any, ps []string) {
		if len(ps) == 1 {
			delete(m, ps[0])
			return
		}
		child, ok := m[ps[0]].(map[string]any)
		if !ok {
			return
		}
		walk(child, ps[1:])
		if len(child) == 0 {
			delete(m, ps[0])
		}
	}
	walk(obj, parts)
}

// normalize makes numbers comparable across decoders (YAML int64 vs JSON float64).
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = normalize(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = normalize(x)
		}
		return out
	case int64:
		return float64(t)
	case int:
		return float64(t)
	default:
		return v
	}
}

func deepCopy(m map[string]any) map[string]any {
	return runtimeDeepCopy(m).(map[string]any)
}

func runtimeDeepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = runtimeDeepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = runtimeDeepCopy(x)
		}
		return out
	default:
		return v
	}
}
