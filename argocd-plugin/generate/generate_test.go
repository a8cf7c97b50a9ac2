package generate

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.expected.yaml")

var appEnv = map[string]string{EnvAppName: "payments-web", EnvAppNamespace: "argocd", EnvRevision: "0123abc"}

// Each testdata app has its exact plugin output beside it in <app>.expected.yaml.
func TestGenerateGolden(t *testing.T) {
	for _, app := range []string{"plain", "kustomize", "hpa"} {
		t.Run(app, func(t *testing.T) {
			dir := filepath.Join("testdata", app)
			out, err := Generate(dir, Options{Env: appEnv})
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", app+".expected.yaml")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("output differs from %s:\n%s", golden, out)
			}
			again, _ := Generate(dir, Options{Env: appEnv})
			if !bytes.Equal(out, again) {
				t.Error("generate is not deterministic")
			}
		})
	}
}

func TestGenerateStripsWhatGitDoesNotOwn(t *testing.T) {
	out, err := Generate("testdata/hpa", Options{Env: appEnv})
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(out), "\n---\n")
	api, worker := docs[0], docs[1]
	if strings.Contains(api, "replicas:") || !strings.Contains(worker, "replicas: 1") {
		t.Errorf("replicas must go from the HPA target only:\n%s\n%s", api, worker)
	}
	plain := out2(t, "testdata/plain")
	if strings.Contains(plain, "sidecar.istio.io") || strings.Contains(plain, "annotations") {
		t.Errorf("a controller-owned annotation must be stripped, and its emptied parent with it:\n%s", plain)
	}
	if !strings.Contains(plain, "replicas: 3") {
		t.Error("replicas of a Deployment no HPA targets must stay")
	}
}

func out2(t *testing.T, dir string) string {
	t.Helper()
	out, err := Generate(dir, Options{Env: appEnv})
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(out), "kind: DriftReport")
	return docs[0]
}

func TestGenerateFailsClosed(t *testing.T) {
	for app, want := range map[string]string{
		"invalid-policy": `testdata/invalid-policy/.drift/unit.yaml: document 1 (DriftManagedUnit): unknown field "spec.riskTeir"`,
		"bad-manifest":   "testdata/bad-manifest/app.yaml#2",
		"no-policy":      "policy testdata/no-policy/.drift does not exist",
	} {
		out, err := Generate(filepath.Join("testdata", app), Options{Env: appEnv})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", app, err, want)
		}
		if len(out) != 0 {
			t.Errorf("%s: partial output on error", app)
		}
	}
	_, err := Generate("testdata/hpa", Options{Env: map[string]string{EnvGate: "sometimes"}})
	if err == nil || !strings.Contains(err.Error(), `spec.gate: "sometimes"`) {
		t.Errorf("bad gate parameter: %v", err)
	}
}

func TestGenerateParameters(t *testing.T) {
	out, err := Generate("testdata/hpa", Options{Env: map[string]string{
		EnvAppName: "Shop_API", EnvGate: "medium", EnvEnvironment: "prod", EnvFreshness: "120"}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"name: shop-api", "gate: medium", "environment: prod", "freshnessSeconds: 120"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// BenchmarkGenerate1000 renders an application of 1,000 objects.
func BenchmarkGenerate1000(b *testing.B) {
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".drift"), 0o755); err != nil {
		b.Fatal(err)
	}
	unit, _ := os.ReadFile("testdata/plain/.drift/unit.yaml")
	if err := os.WriteFile(filepath.Join(dir, ".drift", "unit.yaml"), unit, 0o600); err != nil {
		b.Fatal(err)
	}
	var m strings.Builder
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&m, `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-%[1]d, namespace: shop, labels: {app: web-%[1]d}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web-%[1]d}}
  template:
    metadata: {labels: {app: web-%[1]d}}
    spec:
      containers:
      - name: app
        image: registry.example.com/web:%[1]d
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
        resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web-%[1]d, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web-%[1]d}
  minReplicas: 2
  maxReplicas: 9
`, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(m.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(dir, Options{Env: appEnv}); err != nil {
			b.Fatal(err)
		}
	}
}
