package notify

import (
	"strings"
	"unicode/utf8"
)

// Fingerprint is the notification's drift fingerprint: the finding's own, or the core's
// drift.Fingerprint when no ledger gave it one (so a receiver always has a stable key).
func Fingerprint(n Notification) string { return fingerprintOf(n) }

// Summary is a one-line description of a notification for a title or a page, without any value.
func Summary(n Notification) string {
	f := n.Finding
	what := "drifted"
	if f.Deleted {
		what = "deleted outside IaC"
	}
	s := f.ResourceRef + " " + what + " (" + string(f.DriftClass) + ", risk " + string(f.Risk) + ")"
	if f.Unit != "" {
		s += " in unit " + f.Unit
	}
	if f.Environment != "" {
		s += " [" + f.Environment + "]"
	}
	if n.State == StateResolved {
		s = "RESOLVED: " + s
		if n.Resolution != "" {
			s += ", " + n.Resolution
		}
	}
	return s
}

// ChangedFields says what changed, by path only: the changed fields (sensitive ones marked as
// withheld), or the whole resource when it was deleted.
func ChangedFields(n Notification) string {
	f := n.Finding
	if f.Deleted {
		return "the whole resource (deleted outside IaC)"
	}
	s := strings.Join(f.ChangedFields, ", ")
	if len(f.SensitiveFields) > 0 {
		s += " (sensitive, values withheld: " + strings.Join(f.SensitiveFields, ", ") + ")"
	}
	return s
}

// Actor says who made the change, with its kind when known ("alice (human)"); empty when unknown.
func Actor(n Notification) string {
	f := n.Finding
	who := f.Actor
	if d := f.ActorDetail; d != nil {
		if who == "" {
			who = d.Username
		}
		if who != "" && d.Kind != "" {
			who += " (" + d.Kind + ")"
		}
	}
	return who
}

// Truncate shortens s to at most max bytes on a rune boundary, marking the cut with "…".
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	cut := max - len(mark)
	if cut < 0 {
		return s[:0]
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
