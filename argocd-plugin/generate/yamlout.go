package generate

import (
	"encoding/json"
	"math"
	"strconv"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"
)

// marshalYAML is sigs.k8s.io/yaml.Marshal, which encodes obj as JSON, parses that with yaml.v2
// and encodes the result: for the DriftReport (a thousand stripped fields on a large chart) the
// JSON round trip costs more than the YAML. When obj is the plain kind of tree
// runtime.DefaultUnstructuredConverter makes and every string in it is ASCII below DEL, the tree
// the round trip would hand yaml.v2 is built directly (jsonRoundTrip); anything else goes
// through sigs.k8s.io/yaml itself, so its output and its errors are what they always were.
func marshalYAML(obj map[string]any) ([]byte, error) {
	if v, ok := jsonRoundTrip(obj); ok {
		return yamlv2.Marshal(v)
	}
	return yaml.Marshal(obj)
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
