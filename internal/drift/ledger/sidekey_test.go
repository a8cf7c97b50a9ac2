package ledger

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
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

// SideKeys refuses a unit name that leaves its folder and a stray key (skipping it could hide a
// record); NewestSideKey picks by sequence, then time, whatever the listing's order.
func TestSideKeys(t *testing.T) {
	ctx := context.Background()
	s := blob.Dir(t.TempDir())
	for _, k := range []string{
		SideKey("notifications", "web", 2, "2026-11-30T09:00:00Z", []byte("b")),
		SideKey("notifications", "web", 10, "2026-11-30T08:00:00Z", []byte("c")),
		SideKey("notifications", "web", 2, "2026-11-30T10:00:00Z", []byte("a")),
	} {
		if _, err := s.Put(k, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := SideKeys(ctx, s, "notifications", "web", "notification")
	if err != nil || len(keys) != 3 {
		t.Fatalf("%q %v", keys, err)
	}
	for _, order := range [][]string{keys, {keys[2], keys[0], keys[1]}} {
		if k, seq, _ := NewestSideKey(order); seq != 10 || !strings.Contains(k, "/000000000010-") {
			t.Errorf("newest of %q: %s %d", order, k, seq)
		}
	}
	if k, _, _ := NewestSideKey(nil); k != "" {
		t.Errorf("newest of none: %q", k)
	}
	for _, unit := range []string{"", "..", "a/b"} {
		if _, err := SideKeys(ctx, s, "notifications", unit, "notification"); err == nil {
			t.Errorf("unit %q accepted", unit)
		}
	}
	if _, err := s.Put("notifications/web/notes.txt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := SideKeys(ctx, s, "notifications", "web", "notification"); err == nil || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("a stray key: %v", err)
	}
}
