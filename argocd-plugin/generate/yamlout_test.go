package generate

import (
	"bytes"
	"math"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// sameYAML fails unless marshalYAML gives sigs.k8s.io/yaml.Marshal's bytes, or both fail. It
// reports whether marshalYAML took its own way.
func sameYAML(t testing.TB, obj map[string]any) bool {
	t.Helper()
	want, werr := yaml.Marshal(obj)
	got, gerr := marshalYAML(obj)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("marshalYAML error %v, sigs.k8s.io/yaml %v (%#v)", gerr, werr, obj)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("marshalYAML:\n%s\nsigs.k8s.io/yaml:\n%s\n(%#v)", got, want, obj)
	}
	_, direct := jsonRoundTrip(obj)
	return direct
}

func TestMarshalYAMLMatchesSigs(t *testing.T) {
	direct := []map[string]any{
		{},
		{"a": nil, "b": true, "c": int64(-3), "d": 7, "e": "text", "f": map[string]any{}, "g": []any{}},
		{"nilmap": map[string]any(nil), "nillist": []any(nil), "nested": map[string]any{"x": []any{map[string]any{"y": "z"}, nil, 1.5}}},
		{"floats": []any{0.0, math.Copysign(0, -1), 0.1, 1.0, 100.0, 123456789.0, 1e19, 1e20, 1e21, 1e-7, 1.5e300, -2.5, float64(math.MaxInt64), 18446744073709551615.0}},
		{"strings": []any{"", "123", "1.5", "true", "yes", "null", "~", "-", "- a", "a: b", "#c", "'q'", "\"dq\"", "<&>", "multi\nline", "tab\there", "nul\x00", "bell\a", "  lead", "trail  ", "{a}", "[b]", "*x", "&y", "!z", "%p", "@q", "`r`"}},
		{"keys": map[string]any{"10": 1, "9": 2, "a10": 3, "a9": 4, "B": 5, "b": 6, "-": 7, "": 8, "yes": 9, "x y": 10}},
	}
	for _, obj := range direct {
		if !sameYAML(t, obj) {
			t.Errorf("marshalYAML left %#v to sigs.k8s.io/yaml", obj)
		}
	}
	fallback := []map[string]any{
		{"a": "caf\u00e9"},
		{"a": "del\x7f"},
		{"a": "c1\u0085"},
		{"a": "bad\xffutf8"},
		{"caf\u00e9": 1},
		{"a": math.NaN()},
		{"a": math.Inf(1)},
		{"a": []string{"typed"}},
		{"a": int32(1)},
	}
	for _, obj := range fallback {
		if sameYAML(t, obj) {
			t.Errorf("marshalYAML encoded %#v itself", obj)
		}
	}
}

// TestMarshalYAMLReports compares the DriftReports of the benchmark chart (a thousand objects,
// 250 stripped fields) and the hpa test application.
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
		if !sameYAML(t, report) {
			t.Errorf("%s: marshalYAML left the DriftReport to sigs.k8s.io/yaml", app)
		}
	}
}

// FuzzMarshalYAML: marshalYAML and sigs.k8s.io/yaml.Marshal agree on trees of fuzzed strings
// and numbers.
func FuzzMarshalYAML(f *testing.F) {
	f.Add("key", "value", 1.5, int64(3))
	f.Add("10", "yes", 1e21, int64(-1))
	f.Add("caf\u00e9", "a\x7fb", 123456789.0, int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, k, s string, x float64, n int64) {
		sameYAML(t, map[string]any{
			k:   s,
			"f": x,
			"n": n,
			"l": []any{s, x, map[string]any{k: []any{n, nil}}},
		})
	})
}
