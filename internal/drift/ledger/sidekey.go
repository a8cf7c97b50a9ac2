package ledger

import (
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
