package argocd

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/v3/cmpserver/apiclient"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

const root = "../.."

// TestHealthLua runs argocd-plugin/health/health_test.yaml (Argo CD's fixture format) through
// Argo CD's own Lua VM, the way the application controller runs argocd-cm health overrides.
func TestHealthLua(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(root, "argocd-plugin/manifests/base/health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "argocd-plugin/health/health_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var fixtures struct {
		Tests []struct {
			HealthStatus struct{ Status, Message string } `json:"healthStatus"`
			InputPath    string                           `json:"inputPath"`
		} `json:"tests"`
	}
	if err := yaml.UnmarshalStrict(raw, &fixtures); err != nil {
		t.Fatal(err)
	}
	if len(fixtures.Tests) < 6 {
		t.Fatalf("only %d fixtures", len(fixtures.Tests))
	}
	for _, f := range fixtures.Tests {
		t.Run(f.InputPath, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(root, "argocd-plugin/health", f.InputPath))
			if err != nil {
				t.Fatal(err)
			}
			js, err := yaml.YAMLToJSON(in)
			if err != nil {
				t.Fatal(err)
			}
			obj := &unstructured.Unstructured{}
			if err := obj.UnmarshalJSON(js); err != nil {
				t.Fatal(err)
			}
			hs, err := runHealthLua(t, string(script), obj)
			if err != nil {
				t.Fatal(err)
			}
			if string(hs.Status) != f.HealthStatus.Status || hs.Message != f.HealthStatus.Message {
				t.Errorf("got %s %q\nwant %s %q", hs.Status, hs.Message, f.HealthStatus.Status, f.HealthStatus.Message)
			}
		})
	}
}

// argocdBinary is the argocd scripts/tools.sh builds, or $DRIFTPLANE_ARGOCD.
func argocdBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("DRIFTPLANE_ARGOCD"); bin != "" {
		return bin
	}
	return testtools.Require(t, "ARGOCD")
}

// TestCMPWithRealServer: the real argocd-cmp-server loads our plugin.yaml and, driven through
// Argo CD's own client exactly as the repo-server drives it, discovers and renders sample apps.
func TestCMPWithRealServer(t *testing.T) {
	argocd := argocdBinary(t)
	binDir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(binDir, "argocd-driftplane"), "./argocd-plugin/cmd/argocd-driftplane")
	build.Dir = root // the product's own module, not this one's replaced dependencies
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build argocd-driftplane: %v\n%s", err, out)
	}
	t.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	sock := startCMPServer(t, argocd, filepath.Join(root, "argocd-plugin/manifests/base/plugin.yaml"), t.TempDir())
	if filepath.Base(sock) != "driftplane-v1.sock" {
		t.Errorf("socket %s: the plugin is not named driftplane-v1", sock)
	}
	env := []*apiclient.EnvEntry{
		{Name: "ARGOCD_APP_NAME", Value: "payments-web"},
		{Name: "ARGOCD_APP_NAMESPACE", Value: "argocd"},
		{Name: "ARGOCD_APP_REVISION", Value: "0123abc"},
	}
	testdata := filepath.Join(root, "argocd-plugin/generate/testdata")
	for _, app := range []string{"plain", "kustomize", "hpa"} {
		t.Run(app, func(t *testing.T) {
			dir := filepath.Join(testdata, app)
			ok, discovery, err := cmpMatch(t, sock, dir, env)
			if err != nil || !ok || !discovery {
				t.Fatalf("discovery: supported=%v enabled=%v err=%v", ok, discovery, err)
			}
			got, err := cmpGenerate(t, sock, dir, env)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedJSON(t, filepath.Join(testdata, app+".expected.yaml"))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("manifests:\n got %s\nwant %s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
	t.Run("hpa replicas stripped", func(t *testing.T) {
		got, err := cmpGenerate(t, sock, filepath.Join(testdata, "hpa"), env)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got[0], `"name":"api"`) || strings.Contains(got[0], "replicas") || !strings.Contains(got[1], `"replicas":1`) {
			t.Errorf("HPA target still declares replicas, or the other Deployment lost them:\n%s\n%s", got[0], got[1])
		}
	})
	t.Run("invalid policy fails closed", func(t *testing.T) {
		got, err := cmpGenerate(t, sock, filepath.Join(testdata, "invalid-policy"), env)
		if err == nil {
			t.Fatalf("generate succeeded with an invalid policy: %v", got)
		}
		if len(got) != 0 || !strings.Contains(err.Error(), `unit.yaml: document 1 (DriftManagedUnit): unknown field "spec.riskTeir"`) {
			t.Errorf("error %v (manifests %v): want no manifests and the file and field named", err, got)
		}
	})
	t.Run("apps without .drift are not ours", func(t *testing.T) {
		ok, _, err := cmpMatch(t, sock, filepath.Join(testdata, "no-policy"), env)
		if err != nil || ok {
			t.Errorf("discovery matched an app without .drift/: supported=%v err=%v", ok, err)
		}
	})
}

// expectedJSON turns a golden YAML stream into the JSON documents argocd-cmp-server returns.
func expectedJSON(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, doc := range strings.Split(string(raw), "---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		_ = json.Unmarshal(js, &v)
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	return out
}
