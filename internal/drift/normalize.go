package drift

import (
	"encoding/json"
	"sort"
	"strings"
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

// grant is one flattened IAM permission: a (possibly negated) action, resource and principal
// under a condition.
type grant struct{ action, resource, principal, condition string }

// covers reports whether g allows at least everything h allows: IAM wildcards in g match h's
// values, and g is conditioned no more strictly than h.
func (g grant) covers(h grant) bool {
	return iamGlob(g.action, h.action, true) && iamGlob(g.resource, h.resource, false) &&
		iamGlob(g.principal, h.principal, false) && (g.condition == "" || g.condition == h.condition)
}

func iamGlob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	if strings.HasPrefix(pattern, "!") != strings.HasPrefix(s, "!") {
		return false
	}
	return globSegment(pattern, s)
}

// policyGrants flattens an IAM-style policy into allow and deny grants so two policies can be
// compared for widening.
func policyGrants(doc any) (allow, deny []grant) {
	m, ok := doc.(map[string]any)
	if !ok {
		return
	}
	var stmts []any
	switch s := m["Statement"].(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	}
	for _, st := range stmts {
		sm, ok := st.(map[string]any)
		if !ok {
			continue
		}
		effect, _ := sm["Effect"].(string)
		actions := grantValues(sm, "Action", "NotAction")
		resources := grantValues(sm, "Resource", "NotResource")
		principals := principalValues(sm)
		cond := ""
		if c, ok := sm["Condition"]; ok {
			b, _ := CanonicalJSON(numbersNormalized(normalizePolicy(c)))
			cond = string(b)
		}
		for _, a := range actions {
			for _, r := range resources {
				for _, p := range principals {
					g := grant{a, r, p, cond}
					if strings.EqualFold(effect, "Deny") {
						deny = append(deny, g)
					} else {
						allow = append(allow, g)
					}
				}
			}
		}
	}
	return
}

// widens reports whether newAllow grants something no old allow covered, or a deny in force
// before no longer is.
func widens(oldAllow, oldDeny, newAllow, newDeny []grant) bool {
	for _, n := range newAllow {
		covered := false
		for _, o := range oldAllow {
			if o.covers(n) {
				covered = true
				break
			}
		}
		if !covered {
			return true
		}
	}
	for _, o := range oldDeny {
		kept := false
		for _, n := range newDeny {
			if n.covers(o) {
				kept = true
				break
			}
		}
		if !kept {
			return true
		}
	}
	return false
}

func grantValues(m map[string]any, key, notKey string) []string {
	if v, ok := m[key]; ok {
		return stringsOf(v, "")
	}
	if v, ok := m[notKey]; ok {
		return stringsOf(v, "!")
	}
	return []string{""}
}

func principalValues(m map[string]any) []string {
	for _, key := range []string{"Principal", "NotPrincipal"} {
		prefix := ""
		if key == "NotPrincipal" {
			prefix = "!"
		}
		switch p := m[key].(type) {
		case string:
			return []string{prefix + p}
		case map[string]any:
			var out []string
			keys := make([]string, 0, len(p))
			for k := range p {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for _, v := range stringsOf(p[k], "") {
					out = append(out, prefix+k+":"+v)
				}
			}
			if len(out) > 0 {
				return out
			}
		}
	}
	return []string{""}
}

func stringsOf(v any, prefix string) []string {
	switch x := v.(type) {
	case string:
		return []string{prefix + x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, prefix+s)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return []string{prefix}
}

// identityWidened reports whether an identity change grants more than before: a policy
// document gained an allow (or lost a deny), or a value was added where there was none.
func identityWidened(changes []Change) bool {
	for _, c := range changes {
		if _, redacted := c.After.(Sensitive); redacted {
			continue
		}
		bs, bok := c.Before.(string)
		as, aok := c.After.(string)
		if bok && aok {
			db, ok1 := parseJSONDocument(bs)
			da, ok2 := parseJSONDocument(as)
			if ok1 && ok2 && (isPolicyDocument(db) || isPolicyDocument(da)) {
				oldAllow, oldDeny := policyGrants(normalizePolicy(db))
				newAllow, newDeny := policyGrants(normalizePolicy(da))
				if widens(oldAllow, oldDeny, newAllow, newDeny) {
					return true
				}
				continue
			}
			if strings.Contains(as, "*") && !strings.Contains(bs, "*") {
				return true
			}
			continue
		}
		if isEmpty(c.Before) && !isEmpty(c.After) {
			return true
		}
		if s, ok := c.After.(string); ok && s == "*" {
			return true
		}
	}
	return false
}

var worldCIDRs = map[string]bool{"0.0.0.0/0": true, "::/0": true, "*": false}

// networkOpenedToWorld reports whether a change introduced a world-open CIDR that was not there.
func networkOpenedToWorld(changes []Change) bool {
	for _, c := range changes {
		if containsWorldCIDR(c.After) && !containsWorldCIDR(c.Before) {
			return true
		}
	}
	return false
}

func containsWorldCIDR(v any) bool {
	switch x := v.(type) {
	case string:
		return worldCIDRs[strings.TrimSpace(x)]
	case []any:
		for _, e := range x {
			if containsWorldCIDR(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if containsWorldCIDR(e) {
				return true
			}
		}
	}
	return false
}
