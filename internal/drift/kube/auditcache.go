package kube

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"
)

// AuditCache holds the audit log read once per resync for every worker of a controller, instead
// of once per application: the file can be large, and reading it per application multiplies that by the
// number of applications in memory and time. It is read again when the resync period has passed
// or the file changed (size or modification time); a failed read is not cached, so drift stays
// unknown until the log can be read.
type AuditCache struct {
	// Path is the audit log file; empty means no audit log (Get returns nil).
	Path string
	// MaxAge is how long a read serves (the resync period).
	MaxAge time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// OncePerPeriod re-reads a file that only grew when MaxAge passes, not at once: a live audit
	// log grows with every write to the cluster (the reporter's own status writes among them), so
	// re-reading on growth would read it once per application after all. A file replaced
	// (rotated) or truncated is still read again at once.
	OncePerPeriod bool

	mu      sync.Mutex
	info    os.FileInfo
	log     *AuditLog
	readAt  time.Time
	size    int64
	modTime time.Time
	reads   int
}

// Reads is how many times the file was parsed.
func (a *AuditCache) Reads() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reads
}

// Get returns the audit log, reading it when the cached read is older than MaxAge or the file
// changed; a failed read is an error, never "no audit log".
func (a *AuditCache) Get(ctx context.Context) (*AuditLog, error) {
	if a == nil || a.Path == "" {
		return nil, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st, err := os.Stat(a.Path)
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %w", a.Path, err)
	}
	changed := st.Size() != a.size || !st.ModTime().Equal(a.modTime)
	if a.OncePerPeriod && a.info != nil {
		changed = st.Size() < a.size || !os.SameFile(a.info, st)
	}
	fresh := a.log != nil && a.clock().Sub(a.readAt) < a.MaxAge && !changed
	if fresh {
		return a.log, nil
	}
	log, err := ReadAuditLogFile(a.Path, WithAuditContext(ctx))
	if err != nil {
		a.log = nil
		return nil, err
	}
	a.log, a.readAt, a.size, a.modTime, a.info = log, a.clock(), st.Size(), st.ModTime(), st
	a.reads++
	return log, nil
}

func (a *AuditCache) clock() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}
