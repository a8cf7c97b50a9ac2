package drift

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

var testDigester, _ = NewDigester([]byte("0123456789abcdef0123456789abcdef"))

func TestDigestIsKeyedNotPlainSHA256(t *testing.T) {
	const weak = "password1"
	plain := sha256.Sum256([]byte(`"` + weak + `"`))
	d := string(testDigester.Digest(weak))
	if strings.Contains(d, hex.EncodeToString(plain[:])) {
		t.Fatalf("digest %s is the plain SHA-256 of the value: a dictionary lookup reverses it", d)
	}
	if !strings.HasPrefix(d, DigestPrefix) {
		t.Fatalf("digest %s lacks prefix %s", d, DigestPrefix)
	}
	other, _ := NewDigester([]byte("another-installation-key-000000"))
	if other.Digest(weak) == testDigester.Digest(weak) {
		t.Fatal("two installation keys gave the same digest")
	}
	again, _ := NewDigester([]byte("0123456789abcdef0123456789abcdef"))
	if again.Digest(weak) != testDigester.Digest(weak) {
		t.Fatal("one key must digest one value the same way every time")
	}
	var none *Digester
	if none.Digest(weak) == "" || strings.Contains(string(none.Digest(weak)), hex.EncodeToString(plain[:])) {
		t.Fatal("a nil Digester must still digest with a (process) key")
	}
	if _, err := NewDigester([]byte("short")); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

// TestRedactEitherSideAndShiftedLists plants secrets where only one side's mask marks them, and
// in lists whose elements shift between the sides; none may survive in either redacted value.
func TestRedactEitherSideAndShiftedLists(t *testing.T) {
	const s1, s2, s3 = "PLANTED-one-sided", "PLANTED-shifted", "PLANTED-nested-list"
	before := map[string]any{
		"password": s1, // the before mask forgot it; only after marks it
		"env":      []any{map[string]any{"name": "A", "value": s2}, map[string]any{"name": "B", "value": "plain"}},
		"rules":    []any{map[string]any{"items": []any{"x", s3}}},
		"name":     "db",
	}
	after := map[string]any{
		"password": s1 + "-rotated",
		// the first element was removed: the sensitive value now sits at index 0 on this side
		"env":   []any{map[string]any{"name": "B", "value": s2 + "-2"}},
		"rules": []any{map[string]any{"items": []any{s3 + "-2"}}},
		"name":  "db",
	}
	beforeMask := map[string]any{"env": []any{map[string]any{"value": true}, map[string]any{}}, "rules": []any{map[string]any{"items": []any{false, true}}}}
	afterMask := map[string]any{"password": true, "env": []any{map[string]any{}}}
	for _, v := range []any{before, after} {
		red, paths := testDigester.Redact(v, beforeMask, afterMask)
		b, _ := CanonicalJSON(red)
		if bytes.Contains(b, []byte("PLANTED")) {
			t.Fatalf("a planted secret survived redaction: %s", b)
		}
		if !bytes.Contains(b, []byte(`"name":"db"`)) {
			t.Fatalf("a value no mask marks was hidden: %s", b)
		}
		var got []string
		for _, p := range paths {
			got = append(got, p.String())
		}
		if strings.Join(got, ",") != "/env,/password,/rules" {
			t.Errorf("redacted paths %v, want /env,/password,/rules", got)
		}
	}
	// A mask of a type no plan holds hides the value rather than trusting it.
	red, _ := testDigester.Redact(map[string]any{"k": "PLANTED"}, map[string]any{"k": "yes"})
	if b, _ := CanonicalJSON(red); bytes.Contains(b, []byte("PLANTED")) {
		t.Fatalf("a malformed mask let the value through: %s", b)
	}
	// A map mask over a scalar: shapes disagree, hide it.
	red, _ = testDigester.Redact(map[string]any{"k": "PLANTED"}, map[string]any{"k": map[string]any{"x": true}})
	if b, _ := CanonicalJSON(red); bytes.Contains(b, []byte("PLANTED")) {
		t.Fatalf("a map mask over a scalar let the value through: %s", b)
	}
}
