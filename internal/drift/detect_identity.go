package drift

import (
	"sort"
	"strings"
)

// The identity_widened detector: a semantic signal the decision table matches (it reads what a
// change grants, not how it was serialised; serialisation noise lives in normalize.go).

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
