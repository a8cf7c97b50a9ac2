package markdown

import (
	"strings"
	"testing"
)

// Untrusted text stays text: a code span its backticks cannot end, no line break, no comment
// marker, no link but an http(s) one without credentials.
func TestUntrustedTextStaysText(t *testing.T) {
	code := func(s string) string { return Span(Defuse(OneLine(s))) }
	for in, want := range map[string]string{
		"":                    "—",
		"plain":               "`plain`",
		"a`b":                 "``a`b``",
		"`edge":               "`` `edge ``",
		"x<!-- m -->y":        "`x<!-\u200b- m -\u200b->y`",
		"line\nbreak\u2028it": "`line break it`",
	} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
	for _, raw := range []string{"javascript:alert(1)", "https://user:pw@host/x", "s3://b/k", "/local/path"} {
		if got := Link("l", raw, code); strings.HasPrefix(got, "[") {
			t.Errorf("Link(%q) = %q: a link", raw, got)
		}
	}
	if got := Link("ev", "https://h/a b)(x", code); got != "[ev](https://h/a%20b%29%28x)" {
		t.Errorf("Link = %q", got)
	}
	if got := List([]string{"a", "b", "c"}, 2, code); got != "`a`, `b` and 1 more" {
		t.Errorf("List = %q", got)
	}
}
