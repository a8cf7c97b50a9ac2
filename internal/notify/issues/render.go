package issues

import (
	"fmt"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/forgeapi/markdown"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
)

// The marker lines that open every managed issue's body, in this exact format and order.
const (
	markerPrefix  = "<!-- driftplane:fingerprint="
	findingPrefix = "<!-- driftplane:finding="
	markerSuffix  = " -->"
)

// Limits that keep a body well under every forge's size limit (GitHub: 65536 characters) however
// large a finding is.
const (
	maxValueBytes = 300
	maxFields     = 40
	maxTitleBytes = 200
)

// Marker is what the first two lines of a managed issue's body record.
type Marker struct {
	// Fingerprint is the drift the issue tracks.
	Fingerprint string
	// FindingID is the finding the body describes (empty in a body whose second line is not the
	// finding marker: the issue is still the drift's, and the next change is told).
	FindingID string
}

// ParseMarker reads the marker of a managed issue's body. Only the first line counts, and only in
// the exact format the receiver writes with a fingerprint in driftplane's format: text anywhere
// else in the body, a marker inside a code span, or one with extra spaces or attributes is not a
// marker. Forges may store the body with CRLF line ends; those are accepted.
func ParseMarker(body string) (Marker, bool) {
	first, rest, _ := strings.Cut(body, "\n")
	fp, ok := markerValue(first, markerPrefix)
	if !ok || !validFingerprint(fp) {
		return Marker{}, false
	}
	m := Marker{Fingerprint: fp}
	second, _, _ := strings.Cut(rest, "\n")
	if id, ok := markerValue(second, findingPrefix); ok && validFindingID(id) {
		m.FindingID = id
	}
	return m, true
}

func markerValue(line, prefix string) (string, bool) {
	line = strings.TrimSuffix(line, "\r")
	if !strings.HasPrefix(line, prefix) || !strings.HasSuffix(line, markerSuffix) || len(line) < len(prefix)+len(markerSuffix) {
		return "", false
	}
	return line[len(prefix) : len(line)-len(markerSuffix)], true
}

// validFingerprint accepts drift.Fingerprint's shape: "fp-" and lower-case hex.
func validFingerprint(fp string) bool {
	hex, ok := strings.CutPrefix(fp, "fp-")
	if !ok || len(hex) < 8 || len(hex) > 64 {
		return false
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validFindingID accepts a finding id's characters only (letters, digits, '-', '_', '.'), so
// it can never close the comment it is written into.
func validFindingID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	return strings.IndexFunc(id, func(c rune) bool {
		return (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '.'
	}) < 0
}

// Title is the issue's title: plain text, one line, bounded, no value.
func Title(n notify.Notification) string {
	f := n.Finding
	s := fmt.Sprintf("Drift: %s %s on %s", f.Risk, f.DriftClass, f.ResourceRef)
	if f.Unit != "" {
		s += " (" + f.Unit + ")"
	}
	return notify.Truncate(markdown.Defuse(markdown.OneLine(s)), maxTitleBytes)
}

// Body is a managed issue's body for a firing notification: the markers, then what drifted,
// where, who owns it, its class, risk and recommended action, the changed fields (paths only),
// who changed it, the evidence, and since when. fp and the finding id go into the markers as
// they are: the receiver writes a body only after checking both are in driftplane's format.
func Body(fp string, n notify.Notification) string {
	f := n.Finding
	var b strings.Builder
	b.WriteString(markerPrefix + fp + markerSuffix + "\n")
	b.WriteString(findingPrefix + f.FindingID + markerSuffix + "\n")
	what := "drifted"
	if f.Deleted {
		what = "was deleted outside IaC"
	}
	fmt.Fprintf(&b, "### %s %s\n\n", code(f.ResourceRef), what)
	fmt.Fprintf(&b, "- **What**: %s\n", whatChanged(n))
	fmt.Fprintf(&b, "- **Where**: unit %s, environment %s, domain %s, resource %s\n", code(f.Unit), code(f.Environment), code(f.Domain), code(f.ResourceRef))
	fmt.Fprintf(&b, "- **Owner**: %s\n", code(f.Owner))
	fmt.Fprintf(&b, "- **Class**: %s (rule %s)\n", code(string(f.DriftClass)), code(f.Rule))
	risk := code(string(f.Risk))
	if f.Blocking {
		risk += ", blocking at the unit's gate"
	}
	fmt.Fprintf(&b, "- **Risk**: %s\n", risk)
	action := code(string(f.RecommendedAction))
	if f.AutoHealAllowed {
		action += " (auto-heal allowed)"
	}
	fmt.Fprintf(&b, "- **Recommended action**: %s\n", action)
	fmt.Fprintf(&b, "- **Changed by**: %s\n", actor(n))
	fmt.Fprintf(&b, "- **Evidence**: %s\n", evidence(n))
	fmt.Fprintf(&b, "- **First seen**: %s, open for %s\n", code(f.FirstSeen), code(f.Age))
	fmt.Fprintf(&b, "- **Finding**: %s, detected %s\n", code(f.FindingID), code(f.DetectedAt))
	if f.AcceptedBy != "" {
		fmt.Fprintf(&b, "- **Accepted by**: %s\n", code(f.AcceptedBy))
	}
	if f.Explanation != "" {
		fmt.Fprintf(&b, "- **Explanation**: %s\n", code(f.Explanation))
	}
	if n.Link != "" {
		fmt.Fprintf(&b, "- **Details**: %s\n", link("details", n.Link))
	}
	b.WriteString("\n_Managed by driftplane: commented when the drift changes, closed when it resolves, reopened if it comes back. " +
		"Closing it by hand does not end the drift; accept it with an exception instead. Keep the first two lines of this description._\n")
	return b.String()
}

func changedComment(n notify.Notification, was string) string {
	f := n.Finding
	var b strings.Builder
	fmt.Fprintf(&b, "**The drift changed**: finding %s (was %s), detected %s.\n\n", code(f.FindingID), code(was), code(f.DetectedAt))
	fmt.Fprintf(&b, "- **What**: %s\n", whatChanged(n))
	fmt.Fprintf(&b, "- **Risk**: %s, recommended action %s\n", code(string(f.Risk)), code(string(f.RecommendedAction)))
	fmt.Fprintf(&b, "- **Changed by**: %s\n", actor(n))
	fmt.Fprintf(&b, "- **Evidence**: %s\n", evidence(n))
	return b.String()
}

func reopenedComment(n notify.Notification, was string) string {
	f := n.Finding
	var b strings.Builder
	fmt.Fprintf(&b, "**The drift is back** (reopened): finding %s, detected %s", code(f.FindingID), code(f.DetectedAt))
	if was != "" && was != f.FindingID {
		fmt.Fprintf(&b, "; last described finding %s", code(was))
	}
	b.WriteString(".\n\n")
	fmt.Fprintf(&b, "- **What**: %s\n", whatChanged(n))
	fmt.Fprintf(&b, "- **Risk**: %s, recommended action %s\n", code(string(f.Risk)), code(string(f.RecommendedAction)))
	fmt.Fprintf(&b, "- **Changed by**: %s\n", actor(n))
	fmt.Fprintf(&b, "- **Evidence**: %s\n", evidence(n))
	return b.String()
}

func resolvedComment(n notify.Notification) string {
	res := n.Resolution
	if res == "" {
		res = "resolved"
	}
	s := fmt.Sprintf("**Resolved**: %s", code(res))
	if n.ResolvedAt != "" {
		s += " at " + code(n.ResolvedAt)
	}
	return s + fmt.Sprintf(" (last finding %s). Closing.\n", code(n.Finding.FindingID))
}

// whatChanged names the drift's class and its changed fields by path (never a value).
func whatChanged(n notify.Notification) string {
	f := n.Finding
	if f.Deleted {
		return code(string(f.DriftClass)) + ": the whole resource was deleted outside IaC"
	}
	s := code(string(f.DriftClass)) + " at " + codeList(f.ChangedFields)
	if len(f.SensitiveFields) > 0 {
		s += " (sensitive, values withheld: " + codeList(f.SensitiveFields) + ")"
	}
	return s
}

func actor(n notify.Notification) string {
	f := n.Finding
	who := f.Actor
	var detail []string
	if d := f.ActorDetail; d != nil {
		if who == "" {
			who = d.Username
		}
		if d.Kind != "" {
			detail = append(detail, "kind "+code(d.Kind))
		}
		if d.Manager != "" {
			detail = append(detail, "field manager "+code(d.Manager))
		}
		if d.UserAgent != "" {
			detail = append(detail, "via "+code(d.UserAgent))
		}
		if d.Time != "" {
			detail = append(detail, "at "+code(d.Time))
		}
	}
	if who == "" && len(detail) == 0 {
		return "unknown (no audit source named who)"
	}
	s := code(who)
	if len(detail) > 0 {
		s += " (" + strings.Join(detail, ", ") + ")"
	}
	return s
}

func evidence(n notify.Notification) string {
	s := "digest " + code(n.Finding.Evidence)
	if n.EvidenceURI != "" {
		s += ", record " + link("evidence record", n.EvidenceURI)
	}
	return s
}

// code renders untrusted text as one code span (markdown.Span), cut to maxValueBytes.
func code(s string) string {
	return markdown.Span(markdown.Defuse(notify.Truncate(strings.TrimSpace(markdown.OneLine(s)), maxValueBytes)))
}

// codeList renders a bounded list of values, each in its own code span.
func codeList(values []string) string { return markdown.List(values, maxFields, code) }

// link renders an http(s) URL as a Markdown link, anything else in a code span.
func link(text, raw string) string { return markdown.Link(text, raw, code) }
