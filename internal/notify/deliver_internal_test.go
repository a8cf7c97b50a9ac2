package notify

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 120 ":                         2 * time.Minute,
		"-5":                            0,
		"99999999999999":                24 * time.Hour,
		"Tue, 01 Dec 2026 12:00:30 GMT": 30 * time.Second,
		"Tue, 01 Dec 2026 11:00:00 GMT": 0,
		"Tue, 01 Dec 2200 00:00:00 GMT": 24 * time.Hour,
		"soon":                          0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

// Retry-After comes from whatever server a webhook points at: any value reads as a wait between
// zero and a day (Backoff then bounds it further), never negative, never a panic.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "3", "-1", "99999999999999999999", "Tue, 01 Dec 2026 12:00:30 GMT", "Mon, 02 Jan 2006 15:04:05 MST", "\x00"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := parseRetryAfter(s, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %s", s, d)
		}
	})
}
