package kube

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"
)

// MarshalJSON is json.Marshal for a decoded object: a caller writing out a thousand stripped
// objects of a chart's render as JSON pays more for encoding/json's reflection than for the
// stripping. Trees of maps, lists, strings, float64, bool and null (what the decoders make) are
// encoded here as encoding/json encodes them: keys sorted, HTML characters escaped, numbers as
// ES6 prints them. Strings that need escaping, and anything else, go through encoding/json
// itself, so the output and the errors are always encoding/json's. FuzzMarshalJSON holds the two
// to the same bytes.
func MarshalJSON(obj map[string]any) ([]byte, error) {
	if b, ok := appendJSON(make([]byte, 0, 1024), obj); ok {
		return b, nil
	}
	return json.Marshal(obj)
}

func appendJSON(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		return strconv.AppendBool(b, x), true
	case string:
		return appendJSONString(b, x), true
	case float64:
		return appendJSONFloat(b, x)
	case map[string]any:
		if x == nil {
			return append(b, "null"...), true
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var ok bool
			if b, ok = appendJSON(b, x[k]); !ok {
				return nil, false
			}
		}
		return append(b, '}'), true
	case []any:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendJSON(b, e); !ok {
				return nil, false
			}
		}
		return append(b, ']'), true
	}
	return nil, false
}

// appendJSONString writes printable ASCII other than encoding/json's escaped characters (quote,
// backslash, <, >, &) as it is, and hands any other string to encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONFloat is encoding/json's float64 encoding; NaN and infinities, which it refuses, are
// left to it for its error.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 as e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// MarshalYAML is sigs.k8s.io/yaml.Marshal, which encodes obj as JSON, parses that with yaml.v2
// and encodes the result: for a large object (a DriftReport listing a thousand stripped fields of
// a chart) the JSON round trip costs more than the YAML. When obj is the plain kind of tree
// runtime.DefaultUnstructuredConverter makes and every string in it is ASCII below DEL, the tree
// the round trip would hand yaml.v2 is built directly (jsonRoundTrip); anything else goes
// through sigs.k8s.io/yaml itself, so its output and its errors are what they always were.
// FuzzMarshalYAML holds the two to the same bytes.
func MarshalYAML(obj map[string]any) ([]byte, error) {
	if v, ok := jsonRoundTrip(obj); ok {
		return yamlv2.Marshal(v)
	}
	return yaml.Marshal(obj)
}

// MarshalYAMLIsDirect reports whether MarshalYAML encodes obj without sigs.k8s.io/yaml. It is
// exported so a caller can test that the objects it builds take the direct way: a field of
// another type (a []string, an int32) would silently cost the round trip again.
func MarshalYAMLIsDirect(obj map[string]any) bool {
	_, ok := jsonRoundTrip(obj)
	return ok
}

// jsonRoundTrip returns what yaml.v2 decodes from json.Marshal(v): JSON null for nil maps and
// lists, numbers as yaml.v2 resolves their JSON text. ok is false for anything it does not
// follow: other types, NaN and infinities (json.Marshal refuses them), strings json.Marshal would
// alter (invalid UTF-8) or that yaml.v2 refuses to read back (DEL, C1 controls...).
func jsonRoundTrip(v any) (any, bool) {
	switch x := v.(type) {
	case nil, bool, int64:
		return x, true
	case int:
		return int64(x), true
	case string:
		return x, plainASCII(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false
		}
		b, err := json.Marshal(x)
		if err != nil {
			return nil, false
		}
		s := string(b)
		if n, err := strconv.ParseInt(s, 0, 64); err == nil {
			return n, true
		}
		if n, err := strconv.ParseUint(s, 0, 64); err == nil {
			return n, true
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	case map[string]any:
		if x == nil {
			return nil, true
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			c, ok := jsonRoundTrip(e)
			if !ok || !plainASCII(k) {
				return nil, false
			}
			m[k] = c
		}
		return m, true
	case []any:
		if x == nil {
			return nil, true
		}
		l := make([]any, len(x))
		for i, e := range x {
			c, ok := jsonRoundTrip(e)
			if !ok {
				return nil, false
			}
			l[i] = c
		}
		return l, true
	}
	return nil, false
}

// plainASCII: bytes below DEL. json.Marshal escapes the control characters among them and
// yaml.v2 reads the escapes back to the same string.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x7f {
			return false
		}
	}
	return true
}
