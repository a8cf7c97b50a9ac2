package drift

import "strings"

// The network_open_world detector: a semantic signal the decision table matches (see
// detect_identity.go for identity_widened); serialisation noise lives in normalize.go.

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
