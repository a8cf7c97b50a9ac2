package argocd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/v3/cmpserver/apiclient"
	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/cmp"
	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/generate/helmref"
)

// startDriftplaneCMP builds argocd-driftplane, puts it on PATH and starts the real
// argocd-cmp-server with the product's plugin.yaml.
func startDriftplaneCMP(t *testing.T) string {
	t.Helper()
	argocd := argocdBinary(t)
	binDir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(binDir, "argocd-driftplane"), "./argocd-plugin/cmd/argocd-driftplane")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build argocd-driftplane: %v\n%s", err, out)
	}
	t.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	// Any download attempt by the plugin would go to a closed port.
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	return startCMPServer(t, argocd, filepath.Join(root, "argocd-plugin/manifests/base/plugin.yaml"), t.TempDir())
}

// pluginEnv is the environment the repo-server sends for an Application using the plugin with
// these parameters: ARGOCD_APP_PARAMETERS comes from Argo CD's own ApplicationSourcePluginParameters.Environ.
func pluginEnv(t *testing.T, sourcePath string, params v1alpha1.ApplicationSourcePluginParameters, extra ...string) []*apiclient.EnvEntry {
	t.Helper()
	vars := []string{
		"ARGOCD_APP_NAME=argocd_web", "ARGOCD_APP_NAMESPACE=shop", "ARGOCD_APP_REVISION=0123abc",
		"ARGOCD_APP_SOURCE_PATH=" + sourcePath,
		"KUBE_VERSION=1.31.2", "KUBE_API_VERSIONS=apps/v1,v1,autoscaling/v2,batch/v1",
	}
	if params != nil {
		pe, err := params.Environ()
		if err != nil {
			t.Fatal(err)
		}
		vars = append(vars, pe...)
	}
	vars = append(vars, extra...)
	var env []*apiclient.EnvEntry
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, &apiclient.EnvEntry{Name: k, Value: v})
	}
	return env
}

func stringParam(name, v string) v1alpha1.ApplicationSourcePluginParameter {
	return v1alpha1.ApplicationSourcePluginParameter{Name: name, String_: &v}
}

// TestCMPHelmWithRealServer: the plugin in the real argocd-cmp-server, sent a repository the way
// the repo-server sends it (the whole repository, the application's path inside it), renders a
// chart with values files (one outside the chart, one absolute from the repository root), set
// parameters, a vendored subchart, a file:// dependency and an HPA. Its output equals the Helm
// SDK's `helm template` for the same inputs, object by object, except the fields the
// DriftReport lists as stripped (the HPA target's replicas) and the DriftReport itself.
func TestCMPHelmWithRealServer(t *testing.T) {
	sock := startDriftplaneCMP(t)
	testdata := filepath.Join(root, "argocd-plugin/generate/testdata")
	repo := filepath.Join(testdata, "helmrepo")
	app := filepath.Join(repo, "apps/web")
	params := v1alpha1.ApplicationSourcePluginParameters{
		{Name: "values-files", OptionalArray: &v1alpha1.OptionalArray{Array: []string{"values-prod.yaml", "/envs/prod.yaml"}}},
		{Name: "set", OptionalMap: &v1alpha1.OptionalMap{Map: map[string]string{"image.tag": "2.8.0", "config.extra": "a,b"}}},
		stringParam("release-name", "web"),
	}
	env := pluginEnv(t, "apps/web", params)

	t.Run("discovery picks the chart", func(t *testing.T) {
		ok, enabled, err := cmpMatchRepo(t, sock, app, repo, env)
		if err != nil || !ok || !enabled {
			t.Fatalf("supported=%v enabled=%v err=%v", ok, enabled, err)
		}
	})
	t.Run("output equals helm template", func(t *testing.T) {
		got, err := cmpGenerateRepo(t, sock, app, repo, env)
		if err != nil {
			t.Fatal(err)
		}
		plugin, err := helmref.Decode([]byte(strings.Join(got, "\n---\n")))
		if err != nil {
			t.Fatal(err)
		}
		copyRepo := filepath.Join(t.TempDir(), "repo")
		if err := os.CopyFS(copyRepo, os.DirFS(repo)); err != nil {
			t.Fatal(err)
		}
		chart := filepath.Join(copyRepo, "apps/web")
		if err := helmref.BuildFileDependencies(chart); err != nil {
			t.Fatal(err)
		}
		rendered, err := helmref.Template{
			Chart: chart, NameTemplate: "web", Namespace: "shop", IncludeCRDs: true,
			ValueFiles:  []string{filepath.Join(chart, "values-prod.yaml"), filepath.Join(copyRepo, "envs/prod.yaml")},
			Set:         []string{`config.extra=a\,b`, "image.tag=2.8.0"},
			KubeVersion: "1.31.2", APIVersions: []string{"apps/v1", "v1", "autoscaling/v2", "batch/v1"},
		}.Run()
		if err != nil {
			t.Fatal(err)
		}
		helm, err := helmref.Decode([]byte(rendered))
		if err != nil {
			t.Fatal(err)
		}
		stripped, diffs := helmref.Compare(helm, plugin)
		for _, d := range diffs {
			t.Error(d)
		}
		if want := "apps/Deployment//web-web/spec/replicas"; strings.Join(stripped, " ") != want {
			t.Errorf("stripped %v, want [%s]", stripped, want)
		}
		kinds := map[string]int{}
		for _, o := range helm {
			kinds[o["kind"].(string)]++
		}
		for _, k := range []string{"HorizontalPodAutoscaler", "StatefulSet", "CustomResourceDefinition", "Deployment", "ConfigMap", "Job"} {
			if kinds[k] == 0 {
				t.Errorf("helm rendered no %s: the comparison does not cover it (%v)", k, kinds)
			}
		}
		joined := strings.Join(got, "\n")
		for _, want := range []string{`"image":"registry.example.com/web:2.8.0"`, `"EXTRA":"a,b"`, `"GREETING":"hello from prod"`, `"value":"v1.31.2"`, `"name":"web-common"`} {
			if !strings.Contains(joined, want) {
				t.Errorf("output lacks %s", want)
			}
		}
	})
	t.Run("unvendored remote dependency fails closed", func(t *testing.T) {
		dir := filepath.Join(testdata, "helm-remote-dep")
		got, err := cmpGenerateRepo(t, sock, dir, dir, pluginEnv(t, ".", nil))
		if err == nil || len(got) != 0 {
			t.Fatalf("generate rendered %d manifests for a chart whose dependency is not vendored (err %v)", len(got), err)
		}
		for _, want := range []string{"chart shop needs dependency postgresql", "https://charts.bitnami.com/bitnami", "not vendored"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	})
	t.Run("values file outside the repository fails closed", func(t *testing.T) {
		hostile := v1alpha1.ApplicationSourcePluginParameters{
			{Name: "values-files", OptionalArray: &v1alpha1.OptionalArray{Array: []string{"../../../../../../../../etc/passwd"}}},
		}
		got, err := cmpGenerateRepo(t, sock, app, repo, pluginEnv(t, "apps/web", hostile))
		if err == nil || len(got) != 0 || !strings.Contains(err.Error(), "resolves outside the repository root") {
			t.Fatalf("manifests %d, err %v", len(got), err)
		}
	})
	t.Run("kustomize helmCharts", func(t *testing.T) {
		dir := filepath.Join(testdata, "kustomize-helm")
		e := pluginEnv(t, ".", nil)
		if ok, _, err := cmpMatchRepo(t, sock, dir, dir, e); err != nil || !ok {
			t.Fatalf("discovery: %v %v", ok, err)
		}
		got, err := cmpGenerateRepo(t, sock, dir, dir, e)
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(got, "\n")
		for _, want := range []string{`"name":"hello-greeter"`, `"value":"from kustomize"`, `"value":"v1.31.2"`, `"kind":"HorizontalPodAutoscaler"`, `"path":"/spec/replicas"`} {
			if !strings.Contains(joined, want) {
				t.Errorf("output lacks %s:\n%s", want, joined)
			}
		}
	})
	t.Run("a chart without .drift is not ours", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(filepath.Join(testdata, "helm-remote-dep"))); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(dir, ".drift")); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := cmpMatchRepo(t, sock, dir, dir, pluginEnv(t, ".", nil)); err != nil || ok {
			t.Errorf("discovery matched a chart without .drift/: %v %v", ok, err)
		}
	})
}

// cmpGenerateRepo is cmpGenerate for an application inside a larger repository: the whole of
// repoDir is sent and the plugin runs in appDir's place in it, as the repo-server does.
func cmpGenerateRepo(t testing.TB, socketPath, appDir, repoDir string, env []*apiclient.EnvEntry) ([]string, error) {
	t.Helper()
	client, ctx, done := cmpClient(t, socketPath)
	defer done()
	stream, err := client.GenerateManifest(ctx, grpc_retry.Disable())
	if err != nil {
		return nil, err
	}
	if err := cmp.SendRepoStream(stream.Context(), appDir, repoDir, stream, envStrings(env), nil); err != nil {
		return nil, err
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return resp.GetManifests(), nil
}

// cmpMatchRepo is cmpMatch for an application inside a larger repository.
func cmpMatchRepo(t testing.TB, socketPath, appDir, repoDir string, env []*apiclient.EnvEntry) (supported, discoveryEnabled bool, err error) {
	t.Helper()
	client, ctx, done := cmpClient(t, socketPath)
	defer done()
	stream, err := client.MatchRepository(ctx, grpc_retry.Disable())
	if err != nil {
		return false, false, err
	}
	if err := cmp.SendRepoStream(stream.Context(), appDir, repoDir, stream, envStrings(env), nil); err != nil {
		return false, false, err
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return false, false, err
	}
	return resp.GetIsSupported(), resp.GetIsDiscoveryEnabled(), nil
}
