package edit

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// The core names list elements by merge key (containers/name=app); the editor must find exactly
// that element, and refuse a path whose key matches none or several, rather than edit another.
func TestResolveKeyed(t *testing.T) {
	doc := map[string]any{"spec": map[string]any{"containers": []any{
		map[string]any{"name": "sidecar", "ports": []any{map[string]any{"containerPort": float64(8080)}}},
		map[string]any{"name": "app", "image": "a:1"},
		map[string]any{"name": "dup"}, map[string]any{"name": "dup"},
		"not-a-map",
	}}}
	for _, tc := range []struct {
		path, want string
		ok         bool
	}{
		{"/spec/containers/name=app/image", "/spec/containers/1/image", true},
		{"/spec/containers/name=sidecar/ports/containerPort=8080/protocol", "/spec/containers/0/ports/0/protocol", true},
		{"/spec/containers/1/image", "/spec/containers/1/image", true},
		{"/spec/containers/5", "/spec/containers/5", true}, // appending: the writer decides
		{"/spec/containers/name=missing/image", "", false},
		{"/spec/containers/name=dup/image", "", false},
		{"/spec/containers/=app/image", "", false},
		{"/spec/containers/image/x", "", false},
		{"/spec/missing/name=x/image", "", false},
		{"/spec/containers/name=app/env/name=DEBUG/value", "", false},
		{"/spec/containers/9/env/name=DEBUG", "", false},
		{"/spec/containers/name=sidecar/ports/containerPort=1e+06", "", false},
	} {
		p, err := drift.ParsePointer(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := resolveKeyed(doc, p)
		if ok != tc.ok || ok && got.String() != tc.want {
			t.Errorf("%s: %v %v, want %s %v", tc.path, got, ok, tc.want, tc.ok)
		}
		if ok && !slices.Equal(p, mustParse(t, tc.path)) {
			t.Errorf("%s: the input pointer was modified", tc.path)
		}
	}
}

func mustParse(t *testing.T, s string) drift.Pointer {
	p, err := drift.ParsePointer(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const keyedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: web}
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25
`

// A list the core reports whole comes in its keyed form; the manifest gets a list, never a map
// with "name=DEBUG" keys. A keyed element inside a list the file does not have is not guessed at.
func TestKeyedValuesBecomeLists(t *testing.T) {
	run := func(t *testing.T, f Field) (string, Result) {
		t.Helper()
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, "web.yaml"), []byte(keyedDeployment), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Kubernetes(Request{Root: root, Dir: ".", Target: Target{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "web", Name: "web"}, Fields: []Field{f}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Edits) == 0 {
			return "", res
		}
		return string(res.Edits[0].Content), res
	}
	t.Run("whole list", func(t *testing.T) {
		out, res := run(t, Field{Path: "/spec/template/spec/containers/name=web/env",
			Value: map[string]any{"name=DEBUG": map[string]any{"name": "DEBUG", "value": "true"}}})
		if strings.Contains(out, "name=DEBUG") || !strings.Contains(out, "- name: DEBUG") {
			t.Fatalf("notes %v; wrote:\n%s", res.Notes, out)
		}
	})
	t.Run("element of a missing list", func(t *testing.T) {
		out, res := run(t, Field{Path: "/spec/template/spec/containers/name=web/env/name=DEBUG/value", Value: "true"})
		if out != "" || len(res.Notes) == 0 {
			t.Fatalf("notes %v; wrote:\n%s", res.Notes, out)
		}
	})
}
