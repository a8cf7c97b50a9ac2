package generate

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
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
		"empty":          "manifests path testdata/empty holds no Kubernetes objects",
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

// Issue 9, class 4: planted Secret values never reach the DriftReport, and a Secret's
// last-applied-configuration annotation (the whole Secret in clear text) is not passed on; the
// values appear only where Argo CD needs them, the Secret's own data and stringData.
func TestGenerateKeepsSecretValuesOut(t *testing.T) {
	const inData, inStringData = "planted-data-value-3f9a", "planted-string-value-7c2e"
	encoded := base64.StdEncoding.EncodeToString([]byte(inData))
	lastApplied := fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"shop"},"data":{"password":%q},"stringData":{"token":%q}}`, encoded, inStringData)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".drift"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile("testdata/plain/.drift/unit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// An ownership rule over the Secret's data: its path may be named, never its value.
	unit = append(unit, []byte(`
---
apiVersion: drift.driftplane.io/v1alpha1
kind: DriftOwnershipRule
metadata: { name: rotated-token }
spec:
  resource: { kind: Secret }
  controllerOwned: [{ path: /stringData/token, owner: external-secrets }]
`)...)
	files := map[string]string{
		".drift/unit.yaml": string(unit),
		"secret.yaml": fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '%s'
    team: payments
type: Opaque
data:
  password: %s
stringData:
  token: %s
  other: %s
`, lastApplied, encoded, inStringData, inStringData),
		"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: shop}\ndata: {a: b}\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := Generate(dir, Options{Env: appEnv})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := kube.DecodeManifests("generated", out)
	if err != nil {
		t.Fatal(err)
	}
	planted := []string{inData, encoded, inStringData, base64.StdEncoding.EncodeToString([]byte(inStringData))}
	var report, secret map[string]any
	for _, d := range docs {
		switch d.Object.GetKind() {
		case KindDriftReport:
			report = d.Object.Object
		case "Secret":
			secret = d.Object.Object
		}
	}
	if report == nil || secret == nil {
		t.Fatalf("generated:\n%s", out)
	}
	rb, _ := yaml.Marshal(report)
	for _, v := range planted {
		if strings.Contains(string(rb), v) {
			t.Errorf("the DriftReport carries a planted Secret value %q:\n%s", v, rb)
		}
	}
	if !strings.Contains(string(rb), "last-applied-configuration") || !strings.Contains(string(rb), "/stringData/token") {
		t.Errorf("the DriftReport should name the stripped paths:\n%s", rb)
	}
	md := secret["metadata"].(map[string]any)
	if ann, _ := md["annotations"].(map[string]any); ann[kube.LastAppliedAnnotation] != nil || ann["team"] != "payments" {
		t.Errorf("Secret annotations %v: last-applied-configuration must go, others stay", ann)
	}
	// What remains of the Secret beyond its own data is free of the values too.
	delete(secret, "data")
	delete(secret, "stringData")
	sb, _ := yaml.Marshal(secret)
	for _, v := range planted {
		if strings.Contains(string(sb), v) {
			t.Errorf("the Secret carries %q outside data and stringData:\n%s", v, sb)
		}
	}
}
