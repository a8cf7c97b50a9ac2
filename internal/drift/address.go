package drift

import "strings"

// addressSegments splits an OpenTofu address (module.net["a.b"].aws_sg.web[0]) on the dots that
// separate its parts, leaving dots inside index brackets alone. Kubernetes references
// (apps/v1/Deployment/ns/name) split on "/".
func addressSegments(addr string) []string {
	if strings.Contains(addr, "/") && !strings.ContainsAny(addr, "[") {
		return strings.Split(addr, "/")
	}
	var segs []string
	depth, start := 0, 0
	inQuote := false
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		switch {
		case inQuote:
			switch c {
			case '\\':
				i++
			case '"':
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '.' && depth == 0:
			segs = append(segs, addr[start:i])
			start = i + 1
		}
	}
	return append(segs, addr[start:])
}

// MatchAddress reports whether addr matches pattern segment by segment, where "*" in a pattern
// segment matches any run of characters within that one segment.
func MatchAddress(pattern, addr string) bool {
	ps, as := addressSegments(pattern), addressSegments(addr)
	if len(ps) != len(as) {
		return false
	}
	for i := range ps {
		if !globSegment(ps[i], as[i]) {
			return false
		}
	}
	return true
}

// globSegment matches s against a pattern whose only metacharacter is "*".
func globSegment(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		idx := strings.Index(s, parts[i])
		if idx < 0 {
			return false
		}
		s = s[idx+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// ResourceType extracts the resource type from an OpenTofu address: the segment after any
// module path and "data." prefix (aws_iam_role in module.x.aws_iam_role.r[0]).
func ResourceType(addr string) string {
	segs := addressSegments(addr)
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		if s == "module" || strings.HasPrefix(s, "module[") {
			i++ // skip the module name
			continue
		}
		if s == "data" {
			continue
		}
		return s
	}
	return ""
}
