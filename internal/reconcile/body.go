package reconcile

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/forgeapi/markdown"
)

// The marker line that opens every pull request body reconciliation writes, in this exact format.
const (
	markerPrefix = "<!-- driftplane:reconcile="
	markerSuffix = " -->"
)

// Bounds that keep a body under every forge's limit (GitHub: 65,536 characters).
const (
	maxValueBytes = 300
	maxListed     = 40
	maxDiffBytes  = 30000
	maxTitleBytes = 200
	maxNoteBytes  = 1000
)

// Marker is the body's first line for key.
func Marker(key string) string { return markerPrefix + key + markerSuffix }

// ParseMarker reads the key of a body's first line, only in the exact format Marker writes and
// only with a key in driftplane's format (CRLF line ends accepted: forges may store them).
func ParseMarker(body string) (string, bool) {
	first, _, _ := strings.Cut(body, "\n")
	first = strings.TrimSuffix(first, "\r")
	if !strings.HasPrefix(first, markerPrefix) || !strings.HasSuffix(first, markerSuffix) || len(first) < len(markerPrefix)+len(markerSuffix) {
		return "", false
	}
	key := first[len(markerPrefix) : len(first)-len(markerSuffix)]
	return key, ValidKey(key)
}

// ValidKey accepts a grouping key: "fp-" (a drift fingerprint) or "g-" (a group's digest) and
// 8 to 64 lower-case hex digits. Only such keys reach a branch name or a marker.
func ValidKey(k string) bool {
	var hex string
	switch {
	case strings.HasPrefix(k, "fp-"):
		hex = k[3:]
	case strings.HasPrefix(k, "g-"):
		hex = k[2:]
	default:
		return false
	}
	if len(hex) < 8 || len(hex) > 64 {
		return false
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// group is the findings one pull request proposes, with what the reconciler made of them.
type group struct {
	key      string
	unit     *drift.ManagedUnit
	findings []drift.Finding
	// exceptions are the unit's, by id, for the accepting exception's reason and expiry.
	exceptions map[string]*drift.Exception
	diff       string
	notes      []string
	commands   []string
	codeowners []string
	evidence   string
	ledger     string
}

// title is the pull request's title: plain text, one line, bounded.
func (g *group) title() string {
	refs := g.resources()
	what := refs[0]
	if len(refs) > 1 {
		what = fmt.Sprintf("%s and %d more", refs[0], len(refs)-1)
	}
	return truncate(markdown.Defuse(markdown.OneLine(fmt.Sprintf("driftplane: accept %s into Git (%s)", what, g.unit.Metadata.Name))), maxTitleBytes)
}

func (g *group) resources() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range g.findings {
		if !seen[f.ResourceRef] {
			seen[f.ResourceRef] = true
			out = append(out, f.ResourceRef)
		}
	}
	return out
}

// body renders seed 001 §23's pull request: the marker, then per finding its id, environment,
// owner, resource, changed fields, audit correlation, classification and the reason it is
// accepted, the exception's expiry; the proposed change; notes; state commands; evidence; risk;
// rollback plan; reviewers. Everything a finding says is in code spans (untrusted text), values
// never appear except in the diff, which is what the branch commits (sensitive values are never
// edited into it).
func (g *group) body() string {
	var b strings.Builder
	b.WriteString(Marker(g.key) + "\n\n")
	fmt.Fprintf(&b, "## Accept the running configuration into Git\n\n")
	fmt.Fprintf(&b, "driftplane found drift in unit %s whose recommended action is to make Git declare what runs. "+
		"This pull request proposes it; merging it and applying (or syncing) closes the drift, which the next evaluation verifies.\n\n", code(g.unit.Metadata.Name))
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Unit | %s |\n| Environment | %s |\n| Owner | %s |\n", code(g.unit.Metadata.Name), code(g.unit.Spec.Environment), code(g.unit.Spec.Owner))
	fmt.Fprintf(&b, "| Grouping key | %s |\n\n", code(g.key))
	for i := range g.findings {
		g.finding(&b, &g.findings[i])
	}
	b.WriteString("### Proposed change\n\n")
	if g.diff == "" {
		b.WriteString("No file change: see the notes and commands below.\n\n")
	} else {
		d := g.diff
		if len(d) > maxDiffBytes {
			d = truncate(d, maxDiffBytes) + "\n… (diff truncated; the branch holds the whole change)"
		}
		fence := fenceFor(d)
		fmt.Fprintf(&b, "%sdiff\n%s\n%s\n\n", fence, strings.TrimRight(markdown.Defuse(d), "\n"), fence)
	}
	if len(g.notes) > 0 {
		b.WriteString("### What could not be rewritten\n\n")
		for i, n := range g.notes {
			if i == maxListed {
				fmt.Fprintf(&b, "- … and %d more\n", len(g.notes)-i)
				break
			}
			fmt.Fprintf(&b, "- %s\n", text(n, maxNoteBytes))
		}
		b.WriteString("\n")
	}
	if len(g.commands) > 0 {
		b.WriteString("### State actions (run by a person; driftplane never changes state itself)\n\n")
		fence := fenceFor(strings.Join(g.commands, "\n"))
		fmt.Fprintf(&b, "%sshell\n%s\n%s\n\n", fence, markdown.Defuse(strings.Join(g.commands, "\n")), fence)
	}
	b.WriteString("### Evidence\n\n")
	if g.evidence != "" {
		fmt.Fprintf(&b, "- Evidence record of the evaluation: %s\n", link("evidence record", g.evidence))
	}
	if g.ledger != "" {
		fmt.Fprintf(&b, "- Lifecycle ledger record: %s\n", code(g.ledger))
	}
	for _, f := range g.findings {
		fmt.Fprintf(&b, "- %s: evidence digest %s\n", code(f.FindingID), code(f.Evidence))
	}
	b.WriteString("\n### Rollback plan\n\n")
	b.WriteString("Revert this pull request's merge commit. Git then declares the previous values again while the runtime keeps " +
		"what it runs now, so driftplane reports the drift again; restore the runtime (or re-apply) to finish the rollback. " +
		"Before merging, closing this pull request changes nothing: the runtime and the exception stay as they are.\n\n")
	b.WriteString("### Reviewers\n\n")
	fmt.Fprintf(&b, "- Unit owner: %s\n", code(g.unit.Spec.Owner))
	if len(g.codeowners) > 0 {
		fmt.Fprintf(&b, "- CODEOWNERS of the changed files: %s\n", codeList(g.codeowners))
	}
	b.WriteString("\n_Opened and kept up to date by `driftplane reconcile`; re-running it updates this pull request, and a drift that ends another way closes it with the reason._\n")
	return b.String()
}

func (g *group) finding(b *strings.Builder, f *drift.Finding) {
	fmt.Fprintf(b, "### Finding %s\n\n| | |\n|---|---|\n", code(f.FindingID))
	fmt.Fprintf(b, "| Resource | %s |\n", code(f.ResourceRef))
	fields := "the whole resource"
	if len(f.ChangedFields) > 0 {
		fields = codeList(f.ChangedFields)
	}
	fmt.Fprintf(b, "| Changed fields | %s |\n", fields)
	if len(f.SensitiveFields) > 0 {
		fmt.Fprintf(b, "| Sensitive fields (never written to Git) | %s |\n", codeList(f.SensitiveFields))
	}
	fmt.Fprintf(b, "| Audit | %s |\n", audit(f))
	fmt.Fprintf(b, "| Classification | %s, rule %s, recommended action %s |\n", code(string(f.DriftClass)), code(f.Rule), code(string(f.RecommendedAction)))
	fmt.Fprintf(b, "| Risk | %s (domain %s) |\n", code(string(f.Risk)), code(f.Domain))
	reason := "—"
	if f.Explanation != "" {
		reason = text(f.Explanation, maxNoteBytes)
	}
	fmt.Fprintf(b, "| Reason for accepting | %s |\n", reason)
	if f.AcceptedBy != "" {
		exc := fmt.Sprintf("accepted by exception %s", code(f.AcceptedBy))
		if e := g.exceptions[f.AcceptedBy]; e != nil {
			exc += fmt.Sprintf(": %s (ticket %s, approved by %s). **This rule expires on %s**; after that the drift is unaccepted again unless this pull request is merged and applied",
				code(e.Spec.Reason), code(e.Spec.Ticket), code(e.Spec.ApprovedBy), code(e.Spec.ExpiresAt))
		}
		fmt.Fprintf(b, "| Exception | %s |\n", exc)
	}
	if f.FirstSeen != "" {
		fmt.Fprintf(b, "| First seen | %s |\n", code(f.FirstSeen))
	}
	b.WriteString("\n")
}

// audit is the audit correlation: who changed it, when, through what.
func audit(f *drift.Finding) string {
	a := f.ActorDetail
	if a == nil && f.Actor == "" {
		return "no audit source named who changed it"
	}
	if a == nil {
		return "actor " + code(f.Actor)
	}
	s := "actor " + code(a.Username)
	if a.Kind != "" {
		s += " (" + code(a.Kind) + ")"
	}
	if a.Time != "" {
		s += " at " + code(a.Time)
	}
	source := a.UserAgent
	if a.Manager != "" {
		source = a.Manager
	}
	if source != "" {
		s += " via " + code(source)
	}
	return s
}

func sortedUnique(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// closedComment says why a pull request is closed: the drift ended another way.
func closedComment(reason, at string) string {
	return fmt.Sprintf("driftplane closes this pull request: the drift it proposes to accept is no longer found (%s, evaluation at %s). Nothing is left to accept into Git.",
		text(reason, maxNoteBytes), code(at))
}

// pendingComment says a merged pull request is not yet verified.
func pendingComment(at string) string {
	return fmt.Sprintf("Merged, but the evaluation at %s still finds the drift: the change is **pending** until it is applied (or synced) and an evaluation no longer finds it.", code(at))
}

// verifiedComment records the closure.
func verifiedComment(n int64, at, evidence string) string {
	s := fmt.Sprintf("Accepted into Git by #%d, verified at %s: the evaluation no longer finds the drift.", n, code(at))
	if evidence != "" {
		s += " Evidence: " + link("evidence record", evidence) + "."
	}
	return s
}

// text renders untrusted prose (an explanation, a note) as one code span: it may hold anything.
func text(s string, max int) string {
	return code(truncate(s, max))
}

// fenceFor is a code fence longer than any backtick run in s (at least three).
func fenceFor(s string) string {
	return strings.Repeat("`", max(3, markdown.LongestRun(s, '`')+1))
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// code renders untrusted text as one code span (markdown.Span), cut to maxValueBytes.
func code(s string) string {
	return markdown.Span(markdown.Defuse(truncate(strings.TrimSpace(markdown.OneLine(s)), maxValueBytes)))
}

func codeList(values []string) string { return markdown.List(values, maxListed, code) }

// link renders an http(s) URL as a Markdown link, anything else in a code span.
func link(label, raw string) string { return markdown.Link(label, raw, code) }
