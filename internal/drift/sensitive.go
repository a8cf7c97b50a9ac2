package drift

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
)

// Sensitive stands in for a value that must never be printed, logged or stored: it holds only a
// digest of the value, so two observations can still be compared.
type Sensitive string

// HashValue digests a JSON-shaped value.
func HashValue(v any) Sensitive {
	b, err := CanonicalJSON(numbersNormalized(v))
	if err != nil {
		b = []byte("unencodable")
	}
	sum := sha256.Sum256(b)
	return Sensitive("sha256:" + hex.EncodeToString(sum[:]))
}

// Redact replaces every part of v that mask marks sensitive with its digest. A mask is what
// OpenTofu writes in before_sensitive/after_sensitive: true for a sensitive value, or maps and
// lists of the same shape as the value. It returns the redacted copy and the redacted paths.
func Redact(v, mask any) (any, []Pointer) {
	var paths []Pointer
	out := redact(v, mask, Pointer{}, &paths)
	sort.Slice(paths, func(i, j int) bool { return paths[i].String() < paths[j].String() })
	return out, paths
}

func redact(v, mask any, path Pointer, paths *[]Pointer) any {
	switch m := mask.(type) {
	case bool:
		if m && v != nil {
			*paths = append(*paths, path)
			return HashValue(v)
		}
		return v
	case map[string]any:
		vm, ok := v.(map[string]any)
		if !ok {
			return v
		}
		out := make(map[string]any, len(vm))
		for k, val := range vm {
			if sub, ok := m[k]; ok {
				out[k] = redact(val, sub, path.Child(k), paths)
			} else {
				out[k] = val
			}
		}
		return out
	case []any:
		vl, ok := v.([]any)
		if !ok {
			return v
		}
		out := make([]any, len(vl))
		for i, val := range vl {
			if i < len(m) {
				out[i] = redact(val, m[i], path.Child(strconv.Itoa(i)), paths)
			} else {
				out[i] = val
			}
		}
		return out
	}
	return v
}
