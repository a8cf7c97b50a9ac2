package drift

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
)

// Change is one difference between two values at one path. Before or After is nil when the
// path is absent (or null) on that side.
type Change struct {
	Path   Pointer
	Before any
	After  any
	// Noise marks a difference only in serialisation (see Diff).
	Noise bool
}

// Diff compares two JSON-shaped values (maps, slices, strings, float64/json.Number, bools, nil,
// Sensitive) and returns their differences in path order. Maps are compared key by key and lists
// index by index; an added or removed subtree is one Change at its root.
//
// Differences that are only serialisation are returned with Noise set rather than dropped, so a
// resource whose only drift is provider read noise still yields a (non-blocking) finding:
// JSON-document strings equal after normalization (key order, whitespace, and for IAM-style
// policies a scalar vs a one-element list and set order), null vs an empty list/map/string, and a
// number vs the same number as a string.
func Diff(before, after any) []Change {
	var out []Change
	diffInto(&out, Pointer{}, before, after)
	return out
}

func diffInto(out *[]Change, path Pointer, a, b any) {
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			keys := make([]string, 0, len(av)+len(bv))
			for k := range av {
				keys = append(keys, k)
			}
			for k := range bv {
				if _, dup := av[k]; !dup {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				diffInto(out, path.Child(k), av[k], bv[k])
			}
			return
		}
	case []any:
		if bv, ok := b.([]any); ok {
			n := len(av)
			if len(bv) > n {
				n = len(bv)
			}
			for i := 0; i < n; i++ {
				var x, y any
				if i < len(av) {
					x = av[i]
				}
				if i < len(bv) {
					y = bv[i]
				}
				diffInto(out, path.Child(strconv.Itoa(i)), x, y)
			}
			return
		}
	}
	if scalarEqual(a, b) {
		return
	}
	*out = append(*out, Change{Path: path, Before: a, After: b, Noise: isNoise(a, b)})
}

func scalarEqual(a, b any) bool {
	switch av := a.(type) {
	case nil:
		return b == nil
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	case Sensitive:
		bv, ok := b.(Sensitive)
		return ok && av == bv
	case float64, json.Number, int, int64:
		if _, isString := b.(string); isString {
			// A number read back as a string is noise, not equality: isNoise decides.
			return false
		}
		af, aok := toFloat(a)
		bf, bok := toFloat(b)
		return aok && bok && af == bf
	case map[string]any:
		bv, ok := b.(map[string]any)
		return ok && len(av) == 0 && len(bv) == 0
	case []any:
		bv, ok := b.([]any)
		return ok && len(av) == 0 && len(bv) == 0
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func isNoise(a, b any) bool {
	if isEmpty(a) && isEmpty(b) {
		return true
	}
	as, aStr := a.(string)
	bs, bStr := b.(string)
	if aStr && bStr {
		return JSONDocumentsEqual(as, bs)
	}
	// A number read back as its string form (or the reverse).
	if aStr != bStr {
		_, aNum := a.(float64)
		_, bNum := b.(float64)
		if aNum || bNum {
			af, ok1 := toFloat(a)
			bf, ok2 := toFloat(b)
			return ok1 && ok2 && af == bf
		}
		if ab, ok := a.(bool); ok && bStr {
			return strconv.FormatBool(ab) == bs
		}
		if bb, ok := b.(bool); ok && aStr {
			return strconv.FormatBool(bb) == as
		}
	}
	return false
}

// ValueAt returns the value at p inside v and whether it exists.
func ValueAt(v any, p Pointer) (any, bool) {
	cur := v
	for _, tok := range p {
		switch x := cur.(type) {
		case map[string]any:
			next, ok := x[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// Equivalent reports whether two values are equal once noise is normalized away.
func Equivalent(a, b any) bool {
	for _, c := range Diff(a, b) {
		if !c.Noise {
			return false
		}
	}
	return true
}

// parseJSONDocument parses s when it is a JSON object or array; scalars are not documents.
func parseJSONDocument(s string) (any, bool) {
	t := bytes.TrimSpace([]byte(s))
	if len(t) < 2 || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if dec.More() {
		return nil, false
	}
	return v, true
}
