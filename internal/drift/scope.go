package drift

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Exception lifetimes: an exception may not be approved for longer than the unit allows, and no
// unit may allow more than a year. A long-lived exception is a permanent hole in the gate.
const (
	DefaultMaxExceptionDays = 90
	MaxExceptionDaysLimit   = 365
)

// IsKubernetesRef reports whether a resource reference (or pattern) is a Kubernetes one,
// group/version/Kind/namespace/name, rather than an OpenTofu address. OpenTofu addresses hold a
// "/" only inside index keys, which come in brackets.
func IsKubernetesRef(ref string) bool {
	return strings.Contains(ref, "/") && !strings.Contains(ref, "[")
}

// scopeError says why an exception or auto-heal path is not scoped to named fields, or "".
// Scope is defined positively: no "**" at all, at most one "*", and the first segment named
// (an OpenTofu attribute such as /ingress), or for Kubernetes objects the first two
// (/spec/replicas, /data/password, /metadata/labels/team; never /spec/*).
func scopeError(p Pointer, kubernetes bool) string {
	if len(p) == 0 {
		return "covers the whole object; name the fields"
	}
	stars := 0
	for _, tok := range p {
		switch tok {
		case "**":
			return `uses "**", which matches any depth; name the fields (one "*" may stand for one segment)`
		case "*":
			stars++
		}
	}
	if stars > 1 {
		return fmt.Sprintf(`has %d "*" wildcards; at most one is allowed`, stars)
	}
	if p[0] == "*" {
		return `starts with a wildcard; the first segment must be named (e.g. /ingress)`
	}
	if kubernetes {
		if len(p) < 2 {
			return fmt.Sprintf("covers the whole %s; a Kubernetes path names at least two segments (/spec/replicas, /data/password, /metadata/labels/team)", p[0])
		}
		if p[1] == "*" {
			return "has a wildcard in its second segment; the first two segments of a Kubernetes path must be named (/spec/replicas, never /spec/*)"
		}
	}
	return ""
}

// MaxExceptionDays is the unit's bound on how far ahead an exception may expire.
func (u *ManagedUnit) MaxExceptionDays() int {
	if u == nil || u.Spec.MaxExceptionDays <= 0 {
		return DefaultMaxExceptionDays
	}
	return u.Spec.MaxExceptionDays
}

// LifetimeError says why an exception expires too far ahead of at, or "".
func (e *Exception) LifetimeError(at time.Time, maxDays int) string {
	limit := at.Add(time.Duration(maxDays) * 24 * time.Hour)
	if exp := e.Expiry(); exp.After(limit) {
		return fmt.Sprintf("%s is more than %d days after the evaluation time %s; approve exceptions for at most %d days (a unit may allow up to %d with maxExceptionDays) and renew them",
			e.Spec.ExpiresAt, maxDays, at.UTC().Format(time.RFC3339), maxDays, MaxExceptionDaysLimit)
	}
	return ""
}

// domainsMatching lists every domain a resource type pattern (OpenTofu type or Kubernetes
// "group/Kind", with "*" globs) could fall in, so a wildcard exception is judged by the most
// sensitive resource it could accept drift on.
func (t *Table) domainsMatching(pattern string, unitDomains map[string]string) []string {
	if !strings.Contains(pattern, "*") {
		return []string{t.DomainFor(pattern, unitDomains)}
	}
	set := map[string]bool{DomainOther: true}
	for k, d := range unitDomains {
		if globsOverlap(k, pattern) {
			set[d] = true
		}
	}
	for _, dr := range t.DomainRules {
		for _, pat := range dr.Resources {
			if globsOverlap(pat, pattern) {
				set[dr.Domain] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// globsOverlap reports whether some string matches both globs ("*" matches any run of characters).
func globsOverlap(a, b string) bool {
	type state struct{ i, j int }
	seen := map[state]bool{}
	var walk func(i, j int) bool
	walk = func(i, j int) bool {
		if seen[state{i, j}] {
			return false
		}
		seen[state{i, j}] = true
		switch {
		case i == len(a) && j == len(b):
			return true
		case i < len(a) && a[i] == '*':
			return walk(i+1, j) || (j < len(b) && walk(i, j+1))
		case j < len(b) && b[j] == '*':
			return walk(i, j+1) || (i < len(a) && walk(i+1, j))
		case i < len(a) && j < len(b) && a[i] == b[j]:
			return walk(i+1, j+1)
		}
		return false
	}
	return walk(0, 0)
}

// exceptionTypePattern is the type pattern an exception's resource names: an OpenTofu type, or
// the "group/Kind" of a Kubernetes reference.
func exceptionTypePattern(resource string) string {
	if IsKubernetesRef(resource) {
		segs := strings.Split(resource, "/")
		if len(segs) == 5 {
			return segs[0] + "/" + segs[2]
		}
		return "*"
	}
	return ResourceType(resource)
}
