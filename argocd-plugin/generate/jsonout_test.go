package generate

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// sameJSON fails unless marshalJSON gives json.Marshal's bytes, or both fail.
func sameJSON(t testing.TB, obj map[string]any) {
	t.Helper()
	want, werr := json.Marshal(obj)
	got, gerr := marshalJSON(obj)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("marshalJSON error %v, encoding/json %v (%#v)", gerr, werr, obj)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("marshalJSON:\n%s\nencoding/json:\n%s\n(%#v)", got, want, obj)
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

// FuzzMarshalJSON: marshalJSON and json.Marshal agree on trees of fuzzed strings and numbers.
func FuzzMarshalJSON(f *testing.F) {
	f.Add("key", "value", 1.5)
	f.Add("<&>", "\u2028\xff", 1e21)
	f.Add("", "\x00\x7f", 1e-7)
	f.Fuzz(func(t *testing.T, k, s string, x float64) {
		sameJSON(t, map[string]any{k: s, "f": x, "l": []any{s, x, map[string]any{k: []any{nil, true}}}})
	})
}
