package generate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/generate/helmref"
)

// TestMain lets this test binary stand in for helm when kustomize calls it, as the plugin's own
// binary does (kustomizeApp points kustomize at a symlink to os.Executable()).
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == HelmShimName {
		os.Exit(RunHelmShim(os.Args[0], os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const helmRepo = "testdata/helmrepo"

// helmCase is one Helm application render: the plugin's environment, and the same inputs as
// helm template flags for the reference.
type helmCase struct {
	name      string
	env       map[string]string
	ref       helmref.Template // Chart and ValueFiles relative to the repository copy
	stripped  []string         // fields the DriftReport must list as stripped
	wantKinds []string         // kinds the render must hold (so the comparison is not vacuous)
	noKinds   []string
}

func helmCases() []helmCase {
	base := map[string]string{
		EnvAppName: "argocd_web", EnvAppNamespace: "shop", EnvAppSourcePath: "apps/web",
		EnvRevision: "0123abc",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	return []helmCase{
		{
			name:      "defaults",
			env:       with(),
			ref:       helmref.Template{NameTemplate: "web", Namespace: "shop", IncludeCRDs: true},
			wantKinds: []string{"CustomResourceDefinition", "ConfigMap", "Service", "Deployment", "StatefulSet", "Job", "Pod"},
			noKinds:   []string{"HorizontalPodAutoscaler"},
		},
		{
			name: "values files, values, set, set-string, set-file, cluster version",
			env: with(
				EnvKubeVersion, "1.31.2", EnvKubeAPIVersions, "apps/v1,v1,autoscaling/v2",
				EnvAppParameters, `[
					{"name":"values-files","array":["values-prod.yaml","/envs/prod.yaml","../../envs/prod.yaml"]},
					{"name":"values","string":"service:\n  port: 8080\n"},
					{"name":"set","map":{"image.tag":"2.8.0","config.extra":"a,b","autoscaling.minReplicas":"3"}},
					{"name":"set-string","map":{"config.logLevel":"12"}},
					{"name":"set-file","map":{"config.motd":"/envs/motd.txt"}}
				]`),
			ref: helmref.Template{
				NameTemplate: "web", Namespace: "shop", IncludeCRDs: true,
				ValueFiles:  []string{"apps/web/values-prod.yaml", "envs/prod.yaml", "envs/prod.yaml", "values-param.yaml"},
				Set:         []string{`autoscaling.minReplicas=3`, `config.extra=a\,b`, `image.tag=2.8.0`},
				SetString:   []string{"config.logLevel=12"},
				SetFile:     []string{"config.motd=envs/motd.txt"},
				KubeVersion: "1.31.2", APIVersions: []string{"apps/v1", "v1", "autoscaling/v2"},
			},
			stripped:  []string{"apps/Deployment//web-web/spec/replicas"},
			wantKinds: []string{"HorizontalPodAutoscaler", "Deployment"},
		},
		{
			name: "release name, skip crds and tests, env values files",
			env: with(
				EnvHelmValuesFiles, "values-prod.yaml", EnvHelmSet, "cache.enabled=false",
				EnvAppParameters, `[{"name":"release-name","string":"shop"},{"name":"skip-crds","string":"true"},{"name":"skip-tests","string":"true"}]`),
			ref: helmref.Template{
				NameTemplate: "shop", Namespace: "shop", SkipTests: true,
				ValueFiles: []string{"apps/web/values-prod.yaml"}, Set: []string{"cache.enabled=false"},
			},
			stripped:  []string{"apps/Deployment//shop-web/spec/replicas"},
			wantKinds: []string{"HorizontalPodAutoscaler", "Job"},
			noKinds:   []string{"CustomResourceDefinition", "Pod", "StatefulSet"},
		},
	}
}

// TestHelmMatchesHelmTemplate is the differential test: the plugin's output equals what the
// Helm SDK renders through helm's own steps (`helm dependency build` for the file://
// dependency, then `helm template` with the same flags, on real files), object by object, except
// the fields the DriftReport lists as stripped and the DriftReport itself.
func TestHelmMatchesHelmTemplate(t *testing.T) {
	for _, tc := range helmCases() {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Generate(filepath.Join(helmRepo, "apps/web"), Options{Env: tc.env})
			if err != nil {
				t.Fatal(err)
			}
			want := referenceRender(t, tc.ref)
			got, err := helmref.Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			stripped, diffs := helmref.Compare(want, got)
			for _, d := range diffs {
				t.Error(d)
			}
			if strings.Join(stripped, " ") != strings.Join(tc.stripped, " ") {
				t.Errorf("stripped %v, want %v", stripped, tc.stripped)
			}
			kinds := map[string]bool{}
			for _, o := range want {
				kinds[o["kind"].(string)] = true
			}
			for _, k := range tc.wantKinds {
				if !kinds[k] {
					t.Errorf("helm rendered no %s", k)
				}
			}
			for _, k := range tc.noKinds {
				if kinds[k] {
					t.Errorf("helm rendered a %s", k)
				}
			}
			again, err := Generate(filepath.Join(helmRepo, "apps/web"), Options{Env: tc.env})
			if err != nil || string(again) != string(out) {
				t.Errorf("generate is not deterministic (%v)", err)
			}
		})
	}
}

// referenceRender renders tc with helmref on a copy of the test repository whose file://
// dependency went through `helm dependency build`.
func referenceRender(t *testing.T, ref helmref.Template) []map[string]any {
	t.Helper()
	// Not t.TempDir(): its name holds the subtest's commas, which --set-file would split on.
	tmp, err := os.MkdirTemp("", "helmref-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	repo := filepath.Join(tmp, "repo")
	if err := os.CopyFS(repo, os.DirFS(helmRepo)); err != nil {
		t.Fatal(err)
	}
	chart := filepath.Join(repo, "apps/web")
	if err := helmref.BuildFileDependencies(chart); err != nil {
		t.Fatal(err)
	}
	ref.Chart = chart
	for i, f := range ref.ValueFiles {
		if f == "values-param.yaml" {
			// Argo CD writes the values parameter to a file passed last.
			f = filepath.Join(tmp, f)
			if err := os.WriteFile(f, []byte("service:\n  port: 8080\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			ref.ValueFiles[i] = f
			continue
		}
		ref.ValueFiles[i] = filepath.Join(repo, f)
	}
	for i, s := range ref.SetFile {
		k, v, _ := strings.Cut(s, "=")
		ref.SetFile[i] = k + "=" + filepath.Join(repo, v)
	}
	out, err := ref.Run()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := helmref.Decode([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestHelmValuesReachTheRender guards the differential test against both sides ignoring the
// same input: each parameter visibly changes the output.
func TestHelmValuesReachTheRender(t *testing.T) {
	tc := helmCases()[1]
	raw, err := Generate(filepath.Join(helmRepo, "apps/web"), Options{Env: tc.env})
	if err != nil {
		t.Fatal(err)
	}
	// Chart documents go out as helm wrote them (or as JSON when stripped): compare objects in
	// one spelling.
	objs, err := helmref.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, "---\n"...), y...)
	}
	for _, want := range []string{
		"image: registry.example.com/web:2.8.0", // set
		"EXTRA: a,b",                            // set: the comma is literal
		`LOG_LEVEL: "12"`,                       // set-string
		"MOTD: |",                               // set-file (multi-line file)
		"GREETING: hello from prod",             // /envs/prod.yaml, absolute = repository root
		"port: 8080",                            // values
		"maxReplicas: 20",                       // values-prod.yaml
		"value: v1.31.2",                        // KUBE_VERSION
		"apiVersion: autoscaling/v2\n",          // KUBE_API_VERSIONS
		"name: web-web",                         // release name: the app name without its namespace
		"value: shop",                           // release namespace
		"name: web-common",                      // the file:// dependency
		"image: redis:7.2",                      // the vendored dependency
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestHelmRemoteDependencyFailsClosed: a dependency that would have to be downloaded fails with
// the chart, the dependency and its repository named, and nothing is rendered.
func TestHelmRemoteDependencyFailsClosed(t *testing.T) {
	// Any attempt to reach the network would go to a closed port.
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	out, err := Generate("testdata/helm-remote-dep", Options{Env: appEnv})
	if err == nil || out != nil {
		t.Fatalf("generate rendered a chart whose dependency is not vendored: %q, %v", out, err)
	}
	for _, want := range []string{"chart shop", "dependency postgresql", `"15.5.x"`, "https://charts.bitnami.com/bitnami", "not vendored", "helm dependency build"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestHelmDependencyRules: file:// dependencies are built from their folder only inside the
// repository and only when their version fits; a subchart's own missing dependency fails too.
func TestHelmDependencyRules(t *testing.T) {
	for _, tc := range []struct {
		name, chartYAML string
		files           map[string]string
		want            string
	}{
		{
			name:      "file dependency outside the repository",
			chartYAML: "dependencies:\n  - {name: common, version: 1.0.0, repository: 'file://../../outside/common'}\n",
			want:      "outside the repository root",
		},
		{
			name:      "file dependency of the wrong version",
			chartYAML: "dependencies:\n  - {name: common, version: '>=2.0.0', repository: 'file://../lib/common'}\n",
			files:     map[string]string{"lib/common/Chart.yaml": "apiVersion: v2\nname: common\nversion: 1.0.0\n"},
			want:      "can't get a valid version",
		},
		{
			name:      "file dependency that is missing",
			chartYAML: "dependencies:\n  - {name: common, version: 1.0.0, repository: 'file://../lib/nothing'}\n",
			want:      "not found",
		},
		{
			name:      "nested unvendored dependency",
			chartYAML: "dependencies:\n  - {name: sub, version: 1.0.0, repository: 'https://charts.example.com'}\n",
			files: map[string]string{
				"app/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\ndependencies:\n  - {name: deep, version: 2.0.0, repository: 'oci://registry.example.com/charts'}\n",
			},
			want: "chart sub needs dependency deep",
		},
		{
			name:      "library chart",
			chartYAML: "type: library\n",
			want:      "library charts are not installable",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := t.TempDir()
			writeFiles(t, repo, map[string]string{
				"outside/common/Chart.yaml":  "apiVersion: v2\nname: common\nversion: 1.0.0\n",
				"repo/app/Chart.yaml":        "apiVersion: v2\nname: app\nversion: 0.1.0\n" + tc.chartYAML,
				"repo/app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n",
				"repo/app/.drift/unit.yaml":  unitYAML,
			})
			for name, body := range tc.files {
				writeFiles(t, filepath.Join(repo, "repo"), map[string]string{name: body})
			}
			env := map[string]string{EnvAppName: "app", EnvAppSourcePath: "app"}
			out, err := Generate(filepath.Join(repo, "repo/app"), Options{Env: env})
			if err == nil || out != nil {
				t.Fatalf("rendered: %s", out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

const unitYAML = "apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\nmetadata: {name: app}\nspec: {owner: team, environment: prod, riskTier: high, gate: critical}\n"

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKustomizeHelmCharts: a kustomization's helmCharts are inflated as `kustomize build
// --enable-helm` does (chart from the chart home, valuesInline over the chart's values,
// additionalValuesFiles, release name and namespace, the destination's version), then
// kustomize's own transformations, then ownership stripping.
func TestKustomizeHelmCharts(t *testing.T) {
	out, err := Generate("testdata/kustomize-helm", Options{Env: map[string]string{EnvAppName: "greet", EnvKubeVersion: "1.30.1"}})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := helmref.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]map[string]any{}
	for _, o := range objs {
		byKey[helmref.Key(o)] = o
	}
	dep := byKey["apps/Deployment/greet/hello-greeter"]
	if dep == nil || byKey["autoscaling/HorizontalPodAutoscaler/greet/hello-greeter"] == nil || byKey["/ConfigMap/greet/plain"] == nil {
		t.Fatalf("objects %v", keys(byKey))
	}
	s := string(out)
	for _, want := range []string{"value: from kustomize", "value: v1.30.1", "team: shop", "ref: apps/v1/Deployment/greet/hello-greeter"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if spec := dep["spec"].(map[string]any); spec["replicas"] != nil {
		t.Errorf("the HPA's target kept replicas: %v", spec)
	}
}

// TestKustomizeHelmChartNotVendored: kustomize asks helm to pull a chart it does not find; the
// shim refuses, naming the chart, and nothing is rendered.
func TestKustomizeHelmChartNotVendored(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		".drift/unit.yaml": unitYAML,
		"kustomization.yaml": "helmCharts:\n  - name: ingress-nginx\n    repo: https://kubernetes.github.io/ingress-nginx\n" +
			"    version: 4.11.3\n    releaseName: ingress\n",
	})
	out, err := Generate(dir, Options{Env: appEnv})
	if err == nil || out != nil {
		t.Fatalf("rendered: %s", out)
	}
	for _, want := range []string{"ingress-nginx", "4.11.3", "https://kubernetes.github.io/ingress-nginx", "not vendored"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestKustomizeHelmChartHomeOutsideRoot: a chart home outside the repository is refused by the
// shim even though kustomize accepts an absolute one.
func TestKustomizeHelmChartHomeOutsideRoot(t *testing.T) {
	top := t.TempDir()
	writeFiles(t, top, map[string]string{
		"elsewhere/leak/Chart.yaml":          "apiVersion: v2\nname: leak\nversion: 0.1.0\n",
		"elsewhere/leak/templates/leak.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leak}\ndata: {secret: TOPSECRET}\n",
		"app/.drift/unit.yaml":               unitYAML,
		"app/kustomization.yaml":             "helmGlobals:\n  chartHome: " + filepath.Join(top, "elsewhere") + "\nhelmCharts:\n  - name: leak\n    releaseName: leak\n    valuesFile: values.yaml\n",
		"app/values.yaml":                    "{}\n",
	})
	out, err := Generate(filepath.Join(top, "app"), Options{Env: appEnv})
	if err == nil || out != nil {
		t.Fatalf("rendered a chart outside the repository: %s", out)
	}
	if !strings.Contains(err.Error(), "outside the repository root") || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("error %q", err)
	}
}

// TestHelmParametersOnPlainApp: Helm parameters on an application that is not a chart would
// silently do nothing; generate says so instead.
func TestHelmParametersOnPlainApp(t *testing.T) {
	env := map[string]string{EnvAppParameters: `[{"name":"values-files","array":["prod.yaml"]}]`}
	if out, err := Generate("testdata/plain", Options{Env: env}); err == nil || !strings.Contains(err.Error(), "values-files") || out != nil {
		t.Fatalf("out %q err %v", out, err)
	}
}

func TestHelmShimCommands(t *testing.T) {
	var out, errOut strings.Builder
	if code := RunHelmShim("/nonexistent/helm", []string{"version", "-c", "--short"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "v3.") {
		t.Errorf("version: %d %q %q", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := RunHelmShim("/nonexistent/helm", []string{"template", "x", "/tmp"}, &out, &errOut); code == 0 || out.Len() != 0 || !strings.Contains(errOut.String(), "only for kustomize") {
		t.Errorf("template outside generate: %d %q %q", code, out.String(), errOut.String())
	}
	errOut.Reset()
	if code := RunHelmShim("/nonexistent/helm", []string{"install", "x"}, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), `not "install"`) {
		t.Errorf("install: %d %q", code, errOut.String())
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
