package drift

import (
	"encoding/json"
	"sort"
)

// JSONDocumentsEqual reports whether two strings hold the same JSON document once
// re-serialisation is ignored: key order and whitespace always, and for IAM-style policy
// documents (those with a top-level "Statement") also the order of set-like lists and AWS's habit
// of reading a one-element list back as a scalar.
func JSONDocumentsEqual(a, b string) bool {
	if a == b {
		return true
	}
	da, ok := parseJSONDocument(a)
	if !ok {
		return false
	}
	db, ok := parseJSONDocument(b)
	if !ok {
		return false
	}
	if isPolicyDocument(da) || isPolicyDocument(db) {
		da, db = normalizePolicy(da), normalizePolicy(db)
	}
	ca, _ := CanonicalJSON(numbersNormalized(da))
	cb, _ := CanonicalJSON(numbersNormalized(db))
	return string(ca) == string(cb)
}

func isPolicyDocument(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m["Statement"]
	return ok
}

// normalizePolicy makes IAM's equivalent spellings identical: a one-element list becomes its
// element, lists of scalars are sorted and de-duplicated (IAM treats them as sets), and lists of
// objects (statements) are ordered by their canonical form.
func normalizePolicy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = normalizePolicy(val)
		}
		return out
	case []any:
		items := make([]any, 0, len(x))
		for _, e := range x {
			items = append(items, normalizePolicy(e))
		}
		keyed := make([]struct {
			k string
			v any
		}, 0, len(items))
		seen := map[string]bool{}
		for _, e := range items {
			c, _ := CanonicalJSON(numbersNormalized(e))
			if seen[string(c)] {
				continue
			}
			seen[string(c)] = true
			keyed = append(keyed, struct {
				k string
				v any
			}{string(c), e})
		}
		sort.Slice(keyed, func(i, j int) bool { return keyed[i].k < keyed[j].k })
		if len(keyed) == 1 {
			return keyed[0].v
		}
		out := make([]any, len(keyed))
		for i, kv := range keyed {
			out[i] = kv.v
		}
		return out
	}
	return v
}

// numbersNormalized turns json.Number into float64 so 1 and 1.0 compare equal.
func numbersNormalized(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = numbersNormalized(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = numbersNormalized(e)
		}
		return out
	}
	return v
}
