package edit

import (
	"slices"
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
