package drift

import (
	"fmt"
	"sort"
	"strings"
)

// Pointer is an RFC 6901 JSON pointer, kept as its decoded reference tokens so that matching
// never has to re-parse escapes. The empty Pointer is the whole document.
type Pointer []string

// ParsePointer decodes an RFC 6901 pointer ("" or "/a/b~1c").
func ParsePointer(s string) (Pointer, error) {
	if s == "" {
		return Pointer{}, nil
	}
	if s[0] != '/' {
		return nil, fmt.Errorf("JSON pointer %q must start with \"/\"", s)
	}
	raw := strings.Split(s[1:], "/")
	p := make(Pointer, len(raw))
	for i, tok := range raw {
		if strings.Contains(tok, "~") {
			var b strings.Builder
			for j := 0; j < len(tok); j++ {
				if tok[j] != '~' {
					b.WriteByte(tok[j])
					continue
				}
				if j+1 >= len(tok) || (tok[j+1] != '0' && tok[j+1] != '1') {
					return nil, fmt.Errorf("JSON pointer %q has an invalid escape in %q (only ~0 and ~1 are allowed)", s, tok)
				}
				if tok[j+1] == '0' {
					b.WriteByte('~')
				} else {
					b.WriteByte('/')
				}
				j++
			}
			tok = b.String()
		}
		p[i] = tok
	}
	return p, nil
}

// MustPointer is ParsePointer for literals known to be valid.
func MustPointer(s string) Pointer {
	p, err := ParsePointer(s)
	if err != nil {
		panic(err)
	}
	return p
}

var tokenEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func (p Pointer) String() string {
	if len(p) == 0 {
		return ""
	}
	var b strings.Builder
	for _, tok := range p {
		b.WriteByte('/')
		b.WriteString(tokenEscaper.Replace(tok))
	}
	return b.String()
}

// Child returns p extended by one token without aliasing p's backing array, because diff
// recursion appends to the same parent many times.
func (p Pointer) Child(tok string) Pointer {
	c := make(Pointer, len(p)+1)
	copy(c, p)
	c[len(p)] = tok
	return c
}

// HasPrefix reports whether q is p itself or lies below it. Pattern tokens "*" in prefix match
// exactly one token of p; "**" matches any number of tokens (including none).
func (p Pointer) HasPrefix(prefix Pointer) bool {
	return matchTokens(prefix, p, true)
}

// Matches reports whether p matches pattern exactly (same depth, with "*" and "**" as in HasPrefix).
func (p Pointer) Matches(pattern Pointer) bool {
	return matchTokens(pattern, p, false)
}

func matchTokens(pattern, p Pointer, prefixOnly bool) bool {
	if len(pattern) == 0 {
		return prefixOnly || len(p) == 0
	}
	if pattern[0] == "**" {
		for i := 0; i <= len(p); i++ {
			if matchTokens(pattern[1:], p[i:], prefixOnly) {
				return true
			}
		}
		return false
	}
	if len(p) == 0 {
		return false
	}
	if pattern[0] != "*" && pattern[0] != p[0] {
		return false
	}
	return matchTokens(pattern[1:], p[1:], prefixOnly)
}

// specificity orders ownership paths so the most specific rule wins: deeper first, and a literal
// token beats a wildcard at the same depth.
func (p Pointer) specificity() int {
	s := 0
	for _, tok := range p {
		switch tok {
		case "**":
			s++
		case "*":
			s += 2
		default:
			s += 3
		}
	}
	return s
}

// prefixesOverlap reports whether some concrete path lies under both prefix patterns a and b,
// i.e. whether accepting drift under a can accept drift under b.
func prefixesOverlap(a, b Pointer) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	if a[0] == "**" {
		return prefixesOverlap(a[1:], b) || prefixesOverlap(a, b[1:])
	}
	if b[0] == "**" {
		return prefixesOverlap(a, b[1:]) || prefixesOverlap(a[1:], b)
	}
	if a[0] != b[0] && a[0] != "*" && b[0] != "*" {
		return false
	}
	return prefixesOverlap(a[1:], b[1:])
}

// UnionPointers merges pointer lists without duplicates, sorted, so sources report sensitive
// paths deterministically.
func UnionPointers(lists ...[]Pointer) []Pointer {
	seen := map[string]bool{}
	var out []Pointer
	for _, l := range lists {
		for _, p := range l {
			if s := p.String(); !seen[s] {
				seen[s] = true
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
