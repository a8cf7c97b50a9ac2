package kube

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"sigs.k8s.io/yaml"
)

// sameJSON fails unless MarshalJSON gives json.Marshal's bytes, or both fail.
func sameJSON(t testing.TB, obj map[string]any) {
	t.Helper()
	want, werr := json.Marshal(obj)
	got, gerr := MarshalJSON(obj)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("MarshalJSON error %v, encoding/json %v (%#v)", gerr, werr, obj)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("MarshalJSON:\n%s\nencoding/json:\n%s\n(%#v)", got, want, obj)
	}
}

func TestMarshalJSONMatchesEncodingJSON(t *testing.T) {
	for _, obj := range []map[string]any{
		{},
		{"b": 1.0, "a": nil, "c": true, "d": false, "e": map[string]any{}, "f": []any{}, "g": map[string]any(nil), "h": []any(nil)},
		{"floats": []any{0.0, math.Copysign(0, -1), 0.1, 1.5, 100.0, 123456789.0, 1e19, 1e20, 1e21, 1e-6, 1e-7, 9.99e-7, 1.5e300, -2.5e-300, 5e-324, math.MaxFloat64, float64(math.MaxInt64)}},
		{"strings": []any{"", "plain", "q\"", "back\\slash", "<a href>", "a&b", "tab\t", "nl\n", "nul\x00", "del\x7f", "caf\u00e9", "\u2028\u2029", "bad\xff\xfe", "\U0001F600"}},
		{"Z": 1.0, "a": 2.0, "_": 3.0, "<k>": 4.0, "": 5.0, "caf\u00e9": 6.0, "10": 7.0, "9": 8.0},
		{"nested": []any{map[string]any{"x": []any{[]any{}, map[string]any{"y": "z"}}}}},
		{"nan": math.NaN()},
		{"inf": []any{math.Inf(-1)}},
		{"typed": []string{"a"}, "int": 3},
	} {
		sameJSON(t, obj)
	}
}

// FuzzMarshalJSON: MarshalJSON and json.Marshal agree on trees of fuzzed strings and numbers.
func FuzzMarshalJSON(f *testing.F) {
	f.Add("key", "value", 1.5)
	f.Add("<&>", "\u2028\xff", 1e21)
	f.Add("", "\x00\x7f", 1e-7)
	f.Fuzz(func(t *testing.T, k, s string, x float64) {
		sameJSON(t, map[string]any{k: s, "f": x, "l": []any{s, x, map[string]any{k: []any{nil, true}}}})
	})
}

// sameYAML fails unless MarshalYAML gives sigs.k8s.io/yaml.Marshal's bytes, or both fail. It
// reports whether MarshalYAML took its own way.
func sameYAML(t testing.TB, obj map[string]any) bool {
	t.Helper()
	want, werr := yaml.Marshal(obj)
	got, gerr := MarshalYAML(obj)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("MarshalYAML error %v, sigs.k8s.io/yaml %v (%#v)", gerr, werr, obj)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("MarshalYAML:\n%s\nsigs.k8s.io/yaml:\n%s\n(%#v)", got, want, obj)
	}
	direct := MarshalYAMLIsDirect(obj)
	if _, rt := jsonRoundTrip(obj); rt != direct {
		t.Fatalf("MarshalYAMLIsDirect %v, jsonRoundTrip %v (%#v)", direct, rt, obj)
	}
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
			t.Errorf("MarshalYAML left %#v to sigs.k8s.io/yaml", obj)
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
			t.Errorf("MarshalYAML encoded %#v itself", obj)
		}
	}
}

// FuzzMarshalYAML: MarshalYAML and sigs.k8s.io/yaml.Marshal agree on trees of fuzzed strings
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
