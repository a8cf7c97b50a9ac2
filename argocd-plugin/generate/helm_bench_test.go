package generate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/generate/helmref"
)

// benchChart writes a chart rendering 1,000 objects: 250 each of Deployment (with an HPA, so
// ownership stripping has work), HorizontalPodAutoscaler, Service and ConfigMap.
func benchChart(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	writeFilesB(b, dir, benchFiles())
	return dir
}

// benchFiles are the benchmark chart's files.
func benchFiles() map[string]string {
	return map[string]string{
		".drift/unit.yaml": unitYAML,
		"Chart.yaml":       "apiVersion: v2\nname: fleet\nversion: 1.0.0\nappVersion: \"3.1\"\n",
		"values.yaml":      "count: 250\nimage: registry.example.com/web\nreplicas: 3\n",
		"templates/_helpers.tpl": `{{- define "fleet.labels" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .name }}
helm.sh/chart: {{ .root.Chart.Name }}-{{ .root.Chart.Version }}
{{- end -}}
`,
		"templates/fleet.yaml": `{{- range $i := until (int .Values.count) }}
{{- $name := printf "%s-web-%d" $.Release.Name $i }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "fleet.labels" (dict "root" $ "name" $name) | nindent 4 }}
spec:
  replicas: {{ $.Values.replicas }}
  selector:
    matchLabels: {app: {{ $name }}}
  template:
    metadata:
      labels: {app: {{ $name }}}
    spec:
      containers:
        - name: app
          image: "{{ $.Values.image }}:{{ $.Chart.AppVersion }}"
          env: [{name: INDEX, value: "{{ $i }}"}, {name: NAMESPACE, value: {{ $.Release.Namespace | quote }}}]
          resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: {{ $name }}}
  minReplicas: 2
  maxReplicas: 9
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
spec:
  selector: {app: {{ $name }}}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}-config
data:
  index: "{{ $i }}"
  greeting: hello
{{- end }}
`,
	}
}

func writeFilesB(b *testing.B, dir string, files map[string]string) {
	b.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := mkdirWrite(p, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHelmTemplate1000 is the baseline: the Helm SDK rendering the chart as helm template
// does (load, merge values, client-only install, print).
func BenchmarkHelmTemplate1000(b *testing.B) {
	dir := benchChart(b)
	b.ReportAllocs()
	for b.Loop() {
		out, err := helmref.Template{Chart: dir, NameTemplate: "fleet", Namespace: "shop", IncludeCRDs: true}.Run()
		if err != nil {
			b.Fatal(err)
		}
		if len(out) == 0 {
			b.Fatal("empty render")
		}
	}
}

// BenchmarkHelmGenerate1000 is the plugin on the same chart: the same rendering, then decoding,
// ownership stripping (250 HPA targets) and the DriftReport.
func BenchmarkHelmGenerate1000(b *testing.B) {
	dir := benchChart(b)
	env := map[string]string{EnvAppName: "fleet", EnvAppNamespace: "shop"}
	if out, err := Generate(dir, Options{Env: env}); err != nil {
		b.Fatal(err)
	} else if objs, err := helmref.Decode(out); err != nil || len(objs) != 1001 {
		b.Fatalf("%d objects (%v), want 1,000 and the DriftReport", len(objs), err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(dir, Options{Env: env}); err != nil {
			b.Fatal(err)
		}
	}
}

func mkdirWrite(p, body string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(body), 0o600)
}
