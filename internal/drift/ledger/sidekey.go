package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SideKey is the key of a record kept beside a unit's ledger (its notifications, its
// reconciliations), under the ledger's conventions:
// <prefix>/<unit>/<sequence>-<at>-<digest>.json, so keys sort in order and a record can never
// replace a different one. at is RFC 3339; data is the record's canonical encoding.
func SideKey(prefix, unit string, sequence int64, at string, data []byte) string {
	sum := sha256.Sum256(data)
	stamp := strings.NewReplacer(":", "", "-", "").Replace(at)
	return fmt.Sprintf("%s/%s/%012d-%s-%s.json", prefix, unit, sequence, stamp, hex.EncodeToString(sum[:12]))
}

// ParseSideKey reads a SideKey's sequence and time (false when it is not one).
func ParseSideKey(key string) (int64, time.Time, bool) {
	base := key[strings.LastIndexByte(key, '/')+1:]
	name, ok := strings.CutSuffix(base, ".json")
	if !ok {
		return 0, time.Time{}, false
	}
	parts := strings.Split(name, "-")
	if len(parts) != 3 || len(parts[0]) != 12 || len(parts[2]) != 24 {
		return 0, time.Time{}, false
	}
	seq, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return 0, time.Time{}, false
	}
	at, err := time.Parse("20060102T150405Z", parts[1])
	if err != nil {
		return 0, time.Time{}, false
	}
	return seq, at, true
}

// SideKeys lists a unit's side records under prefix (notifications, reconciliations), in key
// order. record names one in messages ("notification"). A unit name that would leave its folder,
// and a key in the folder that is not a record's, are errors, as in the ledger: skipping a key
// could hide the record that says what is owed.
func SideKeys(ctx context.Context, s Store, prefix, unit, record string) ([]string, error) {
	if unit == "" || unit == "." || unit == ".." || strings.ContainsAny(unit, "/\\\x00") {
		return nil, fmt.Errorf("unit name %q cannot name a %s folder", unit, prefix)
	}
	keys, err := s.List(ctx, prefix+"/"+unit+"/")
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", prefix, unit, err)
	}
	for _, k := range keys {
		if _, _, ok := ParseSideKey(k); !ok {
			return nil, fmt.Errorf("%s of %s: %s is not a %s record's key", prefix, unit, k, record)
		}
	}
	return keys, nil
}

// NewestSideKey is the newest of keys SideKeys listed, by sequence, then time, then key (compared
// explicitly, so a listing's order cannot matter), with its sequence and time; "" for none.
func NewestSideKey(keys []string) (key string, sequence int64, at time.Time) {
	sequence = -1
	for _, k := range keys {
		seq, t, ok := ParseSideKey(k)
		if ok && (seq > sequence || (seq == sequence && (t.After(at) || (t.Equal(at) && k > key)))) {
			key, sequence, at = k, seq, t
		}
	}
	return key, sequence, at
}
