// Package markdown writes untrusted text into the Markdown of forge issues, pull requests and
// comments (GitHub, GitLab, Gitea) so that none of it is interpreted: no HTML, no comment, no
// link, no @mention, no #reference, and no marker a reader of the raw body could take for one of
// driftplane's. The drift issues and the reconciliation pull requests both write through it.
package markdown

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OneLine replaces line breaks, other control characters and invalid UTF-8 with spaces, so the
// text cannot start a block.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// Defuse breaks HTML comment openers and closers with a zero-width space, so a reader of the
// raw text finds no marker and no comment end in what a finding said.
func Defuse(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "<!--", "<!-\u200b-"), "-->", "-\u200b->")
}

// Span puts one line of text (already OneLine, Defused and bounded) in a code span, the one
// construct in which the forges interpret nothing: the fence is longer than any backtick run
// inside, so the text cannot end the span. Empty text is "—".
func Span(s string) string {
	if s == "" {
		return "—"
	}
	fence := strings.Repeat("`", LongestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		// CommonMark strips one space on each side, so the text's own backticks stay its own.
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// LongestRun is the length of the longest run of c in s.
func LongestRun(s string, c rune) int {
	longest, run := 0, 0
	for _, r := range s {
		if r == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// List renders at most max values, each through code, and says how many more there are.
func List(values []string, max int, code func(string) string) string {
	if len(values) == 0 {
		return "—"
	}
	shown := values
	if len(shown) > max {
		shown = shown[:max]
	}
	parts := make([]string, len(shown))
	for i, v := range shown {
		parts[i] = code(v)
	}
	s := strings.Join(parts, ", ")
	if more := len(values) - len(shown); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// Link renders an http(s) URL as a Markdown link with the characters that could end the link's
// destination percent-encoded; anything else (s3://, a path, a URL with credentials) is shown
// through code.
func Link(label, raw string, code func(string) string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return code(raw)
	}
	dest := strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", " ", "%20", "`", "%60",
		"\"", "%22", "'", "%27", "[", "%5B", "]", "%5D", "\\", "%5C").Replace(u.String())
	return "[" + label + "](" + dest + ")"
}
