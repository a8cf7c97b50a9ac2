package drift

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
)

// Sensitive stands in for a value that must never be printed, logged or stored: it holds only a
// keyed digest of the value, so two observations can still be compared but nobody without the
// key can test guesses against it (a plain SHA-256 of a weak password is one dictionary lookup
// away from anyone who can read a DriftReport's status).
type Sensitive string

// DigestPrefix starts every Sensitive value.
const DigestPrefix = "hmac-sha256:"

// MinDigestKeyBytes is the shortest key a Digester accepts.
const MinDigestKeyBytes = 16

// Digester computes the keyed digests (HMAC-SHA-256) that stand in for sensitive values. One key
// per installation (see package digestkey) keeps digests stable across evaluations and processes.
// A nil *Digester is usable: it digests with a random key made once per process, so a caller that
// forgot the installation key gets digests that are unstable across runs, never plain hashes.
type Digester struct{ key []byte }

// NewDigester returns a Digester keyed by key.
func NewDigester(key []byte) (*Digester, error) {
	if len(key) < MinDigestKeyBytes {
		return nil, fmt.Errorf("digest key has %d bytes; at least %d are required", len(key), MinDigestKeyBytes)
	}
	return &Digester{key: append([]byte(nil), key...)}, nil
}

var processKey = sync.OnceValue(func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("driftplane: no randomness for the process digest key: " + err.Error())
	}
	return k
})

func (d *Digester) keyBytes() []byte {
	if d == nil || len(d.key) == 0 {
		return processKey()
	}
	return d.key
}

// Digest returns the keyed digest of a JSON-shaped value.
func (d *Digester) Digest(v any) Sensitive {
	b, err := CanonicalJSON(numbersNormalized(v))
	if err != nil {
		b = []byte("unencodable")
	}
	m := hmac.New(sha256.New, d.keyBytes())
	m.Write(b)
	return Sensitive(DigestPrefix + hex.EncodeToString(m.Sum(nil)))
}

// Redact replaces every part of v that any of masks marks sensitive with its keyed digest. A mask
// is what OpenTofu writes in before_sensitive/after_sensitive: true for a sensitive value, or maps
// and lists of the same shape as the value. A value is hidden when either side marks it: pass both
// masks for both values, because a one-sided mask (a value that became sensitive, or stopped being)
// would otherwise leave the other side's value in clear text. Lists are judged conservatively: a
// sensitive element anywhere in a list hides the whole list, since list elements shift between the
// two sides and a mask by index would then point at the wrong element. A mask of a type a plan
// cannot hold (a string, a number) hides the value. It returns the redacted copy and the redacted
// paths, sorted.
func (d *Digester) Redact(v any, masks ...any) (any, []Pointer) {
	var mask any
	for _, m := range masks {
		mask = mergeMasks(mask, m)
	}
	var paths []Pointer
	out := d.redact(v, mask, Pointer{}, &paths)
	sort.Slice(paths, func(i, j int) bool { return paths[i].String() < paths[j].String() })
	return out, paths
}

// mergeMasks unions two sensitivity masks; any list holding a sensitive element becomes true.
func mergeMasks(a, b any) any {
	a, b = liftMask(a), liftMask(b)
	if a == nil || a == false {
		return b
	}
	if b == nil || b == false {
		return a
	}
	if a == true || b == true {
		return true
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		out := make(map[string]any, len(am)+len(bm))
		for k, v := range am {
			out[k] = v
		}
		for k, v := range bm {
			out[k] = mergeMasks(out[k], v)
		}
		return out
	}
	// Shapes disagree (a map against a list): hide the whole value.
	return true
}

// liftMask normalises one mask: lists with any sensitive element become true, unknown types true.
func liftMask(m any) any {
	switch x := m.(type) {
	case nil, bool:
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, v := range x {
			if lv := liftMask(v); lv != nil && lv != false {
				out[k] = lv
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		for _, e := range x {
			if lv := liftMask(e); lv != nil && lv != false {
				return true
			}
		}
		return nil
	}
	return true
}

func (d *Digester) redact(v, mask any, path Pointer, paths *[]Pointer) any {
	switch m := mask.(type) {
	case bool:
		if m && v != nil {
			*paths = append(*paths, path)
			return d.Digest(v)
		}
		return v
	case map[string]any:
		vm, ok := v.(map[string]any)
		if !ok {
			if v == nil {
				return nil
			}
			// A map mask over a non-object: the shapes disagree, so hide it all.
			*paths = append(*paths, path)
			return d.Digest(v)
		}
		out := make(map[string]any, len(vm))
		for k, val := range vm {
			if sub, ok := m[k]; ok {
				out[k] = d.redact(val, sub, path.Child(k), paths)
			} else {
				out[k] = val
			}
		}
		return out
	}
	return v
}

// ContentDigest is a plain SHA-256 of already-redacted content (finding evidence): it identifies
// what was seen and holds no secret, so it needs no key and stays comparable across installations.
func ContentDigest(v any) string {
	b, err := CanonicalJSON(numbersNormalized(v))
	if err != nil {
		b = []byte("unencodable")
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
