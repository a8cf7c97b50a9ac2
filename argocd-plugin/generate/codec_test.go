package generate

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/generate/helmref"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// TestFastDecodeChart checks the benchmark chart's render is entirely in kube.DocumentDecoder's
// shortcut (so the benchmark measures it), decoded as kube.DecodeManifests decodes it and encoded
// by kube.MarshalJSON as encoding/json encodes it. The shortcut itself is held to those by kube's
// tests and fuzz targets.
func TestFastDecodeChart(t *testing.T) {
	dir := t.TempDir()
	for name, body := range benchFiles() {
		if err := mkdirWrite(filepath.Join(dir, name), body); err != nil {
			t.Fatal(err)
		}
	}
	out, err := helmref.Template{Chart: dir, NameTemplate: "fleet", Namespace: "shop"}.Run()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := kube.SplitDocuments([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var d kube.DocumentDecoder
	n := 0
	for i, doc := range docs {
		if strings.TrimSpace(string(doc)) == "" {
			continue
		}
		n++
		got, ok := d.DecodeFast(doc)
		if !ok {
			t.Fatalf("document %d left to kube.DecodeManifests:\n%s", i+1, doc)
		}
		want, err := kube.DecodeManifests("doc", doc)
		if err != nil || len(want) != 1 || !reflect.DeepEqual(got, want[0].Object.Object) {
			t.Fatalf("document %d: shortcut %#v, kube.DecodeManifests %v (%v)", i+1, got, want, err)
		}
		gj, err1 := kube.MarshalJSON(got)
		wj, err2 := json.Marshal(want[0].Object.Object)
		if err1 != nil || err2 != nil || !bytes.Equal(gj, wj) {
			t.Fatalf("document %d: JSON differs (%v, %v):\n%s\n%s", i+1, err1, err2, gj, wj)
		}
	}
	if n != 1000 {
		t.Fatalf("%d documents, want 1,000", n)
	}
}

// TestMarshalYAMLReports compares kube.MarshalYAML with sigs.k8s.io/yaml on the DriftReports of
// the benchmark chart (a thousand objects, 250 stripped fields) and two test applications, and
// checks they take its direct way.
func TestMarshalYAMLReports(t *testing.T) {
	dir := t.TempDir()
	for name, body := range benchFiles() {
		if err := mkdirWrite(filepath.Join(dir, name), body); err != nil {
			t.Fatal(err)
		}
	}
	for _, app := range []string{dir, "testdata/hpa", "testdata/plain"} {
		env := map[string]string{EnvAppName: "fleet", EnvAppNamespace: "shop", EnvRevision: "0123abc"}
		policy, err := drift.LoadPolicy(filepath.Join(app, PolicyDir))
		if err != nil {
			t.Fatal(err)
		}
		ms, _, err := loadApp(app, env)
		if err != nil {
			t.Fatal(err)
		}
		stripped := kube.GitDesired(ms, policy.Unit, drift.DefaultTable())
		report, err := driftReport(policy, Options{Env: env}, stripped)
		if err != nil {
			t.Fatal(err)
		}
		got, gerr := kube.MarshalYAML(report)
		want, werr := yaml.Marshal(report)
		if gerr != nil || werr != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: kube.MarshalYAML (%v):\n%s\nsigs.k8s.io/yaml (%v):\n%s", app, gerr, got, werr, want)
		}
		if !kube.MarshalYAMLIsDirect(report) {
			t.Errorf("%s: kube.MarshalYAML leaves the DriftReport to sigs.k8s.io/yaml", app)
		}
	}
}
