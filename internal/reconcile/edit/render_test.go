package edit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// TestEditsRenderToTheLiveValue proves the golden kustomize and YAML edits mean what they claim:
// the want/ tree, rendered by real kustomize (krusty) or read as plain manifests, yields the live
// value at every field the edit did not leave to a Note, and the in/ tree did not.
func TestEditsRenderToTheLiveValue(t *testing.T) {
	cases := map[string][]string{ // case → fields left to a Note
		"kustomize-patch":        nil,
		"kustomize-new-patch":    nil,
		"kustomize-images":       nil,
		"kustomize-own-resource": nil,
		"json6902":               {"/spec/template/spec/containers/1/args/0"},
		"plain-multidoc":         nil,
		"common-labels":          {"/metadata/labels/env"},
	}
	for name, skipped := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "kube", name)
			raw, err := os.ReadFile(filepath.Join(dir, "request.json"))
			if err != nil {
				t.Fatal(err)
			}
			var req goldenRequest
			if err := json.Unmarshal(raw, &req); err != nil {
				t.Fatal(err)
			}
			skip := map[string]bool{}
			for _, s := range skipped {
				skip[s] = true
			}
			before := renderTarget(t, filepath.Join(dir, "in"), req)
			after := renderTarget(t, filepath.Join(dir, "want"), req)
			want := before
			for _, f := range req.Fields {
				ptr := drift.MustPointer(f.Path)
				old, _ := lookupJSON(before, ptr)
				if sameJSON(old, f.Value) {
					t.Errorf("%s: the input already renders the live value; the case proves nothing", f.Path)
				}
				if skip[f.Path] {
					continue
				}
				var ok bool
				if want, ok = setJSON(want, ptr, f.Value, f.Value == nil); !ok {
					t.Fatalf("%s: not in the rendered input", f.Path)
				}
			}
			// The whole rendered object: the fields changed, nothing else did, lists kept their order.
			if !sameJSON(after, want) {
				a, _ := json.MarshalIndent(after, "", " ")
				w, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("rendered after the edit:\n%s\nwant:\n%s", a, w)
			}
		})
	}
}

func renderTarget(t *testing.T, root string, req goldenRequest) any {
	t.Helper()
	dir := filepath.Join(root, filepath.FromSlash(req.Dir))
	var docs []any
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err == nil {
		k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
		rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			t.Fatalf("kustomize build %s: %v", dir, err)
		}
		y, err := rm.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		f, err := parseYAMLFile("rendered", y)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.docs {
			v, err := docJSON(y[d.start:d.end])
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, v)
		}
	} else {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parseYAMLFile(p, b)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.docs {
				v, err := docJSON(b[d.start:d.end])
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, v)
			}
		}
	}
	id := objectID{apiVersion: req.Target.APIVersion, kind: req.Target.Kind, namespace: req.Target.Namespace, name: req.Target.Name}
	for _, d := range docs {
		if id.matches(d) {
			return d
		}
	}
	t.Fatalf("%s: %s/%s not rendered", root, req.Target.Kind, req.Target.Name)
	return nil
}
