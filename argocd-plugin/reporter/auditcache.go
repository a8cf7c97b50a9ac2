package reporter

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// auditCache holds the audit log read once per resync for every worker, instead of once per
// application: the file can be large, and reading it per application multiplies that by the
// number of applications in memory and time. It is read again when the resync period has passed
// or the file changed (size or modification time); a failed read is not cached, so drift stays
// unknown until the log can be read.
type auditCache struct {
	path   string
	maxAge time.Duration
	now    func() time.Time

	mu      sync.Mutex
	log     *kube.AuditLog
	readAt  time.Time
	size    int64
	modTime time.Time
	reads   int // for tests: how many times the file was parsed
}

func (a *auditCache) get(ctx context.Context) (*kube.AuditLog, error) {
	if a == nil || a.path == "" {
		return nil, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st, err := os.Stat(a.path)
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %w", a.path, err)
	}
	fresh := a.log != nil && a.now().Sub(a.readAt) < a.maxAge && st.Size() == a.size && st.ModTime().Equal(a.modTime)
	if fresh {
		return a.log, nil
	}
	log, err := kube.ReadAuditLogFile(a.path, kube.WithAuditContext(ctx))
	if err != nil {
		a.log = nil
		return nil, err
	}
	a.log, a.readAt, a.size, a.modTime = log, a.now(), st.Size(), st.ModTime()
	a.reads++
	return log, nil
}
