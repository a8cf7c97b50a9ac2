package ledger

import (
	"strings"
	"testing"
	"time"
)

// A side record's key reads back as the sequence and time it was made with, names its content,
// and nothing else parses as one.
func TestSideKey(t *testing.T) {
	k := SideKey("notifications", "web", 7, "2026-11-30T10:00:00Z", []byte(`{"a":1}`))
	seq, at, ok := ParseSideKey(k)
	if !ok || seq != 7 || !at.Equal(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)) || !strings.HasPrefix(k, "notifications/web/000000000007-20261130T100000Z-") {
		t.Fatalf("%s: %d %v %v", k, seq, at, ok)
	}
	if SideKey("notifications", "web", 7, "2026-11-30T10:00:00Z", []byte(`{"a":2}`)) == k {
		t.Error("two contents, one key")
	}
	for _, bad := range []string{"x/web/000000000007-20261130T100000Z-0123.json", "x/web/7-20261130T100000Z-0123456789abcdef01234567.json",
		"x/web/000000000007-20261131T100000Z-0123456789abcdef01234567.json", strings.TrimSuffix(k, ".json"), "x/web/000000000007-20261130T100000Z-q-0123456789abcdef01234567.json"} {
		if _, _, ok := ParseSideKey(bad); ok {
			t.Errorf("%s parsed", bad)
		}
	}
}
