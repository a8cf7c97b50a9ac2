package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Issue 9, class 9: an audit log is bounded input.
func TestAuditLogBounds(t *testing.T) {
	ok := auditEventLine(1, "alice", "kubectl-set", "")
	long := `{"kind":"Event","pad":"` + strings.Repeat("x", 2000) + `"}`
	_, err := ReadAuditLog("audit.log", strings.NewReader(ok+"\n"+long+"\n"+ok+"\n"), WithMaxAuditLineBytes(1024))
	if err == nil || !strings.Contains(err.Error(), "audit.log:2: line longer than 1024 bytes") {
		t.Errorf("long line: %v", err)
	}
	if _, err := ReadAuditLog("audit.log", strings.NewReader(ok+"\n"+ok+"\n"), WithMaxAuditLineBytes(len(ok))); err != nil {
		t.Errorf("a line of exactly the bound: %v", err)
	}

	_, err = ReadAuditLog("audit.log", strings.NewReader(strings.Repeat(ok+"\n", 10)), WithMaxAuditBytes(int64(5*len(ok))))
	if err == nil || !strings.Contains(err.Error(), "audit log audit.log: larger than") {
		t.Errorf("log over the size bound: %v", err)
	}
	if _, err := ReadAuditLog("audit.log", strings.NewReader(strings.Repeat(ok+"\n", 10)), WithMaxAuditBytes(int64(10*(len(ok)+1)))); err != nil {
		t.Errorf("log of exactly the size bound: %v", err)
	}

	deep := `{"kind":"Event","x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}"
	_, err = ReadAuditLog("audit.log", strings.NewReader(ok+"\n"+deep+"\n"))
	if !errors.Is(err, drift.ErrJSONTooDeep) || !strings.Contains(err.Error(), "audit.log:2") {
		t.Errorf("deep line: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ReadAuditLog("audit.log", strings.NewReader(strings.Repeat(ok+"\n", 3000)), WithAuditContext(ctx))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "audit.log") {
		t.Errorf("cancelled: %v", err)
	}
}

// Only the most recent writes per object and manager are kept, and the most recent still decide.
func TestAuditLogKeepsRecentWrites(t *testing.T) {
	var lines []string
	for i := 0; i < 500; i++ {
		user := fmt.Sprintf("user-%03d", i)
		lines = append(lines, strings.Replace(auditEventLine(1, user, "kubectl-set", ""),
			`"stageTimestamp":"2026-11-22T10:01:00.000000Z"`, fmt.Sprintf(`"stageTimestamp":"2026-11-22T%02d:%02d:00.000000Z"`, i/60, i%60), 1))
	}
	// Out of order: the log backend writes events as requests complete.
	lines[200], lines[499] = lines[499], lines[200]
	a, err := ReadAuditLog("audit.log", strings.NewReader(strings.Join(lines, "\n")), WithMaxAuditWritesPerManager(8))
	if err != nil {
		t.Fatal(err)
	}
	ws := a.writes("apps", "deployments", "web", "web", "kubectl-set", "")
	if len(ws) != 8 || ws[0].actor.Username != "user-492" || ws[7].actor.Username != "user-499" {
		var got []string
		for _, w := range ws {
			got = append(got, w.actor.Username)
		}
		t.Errorf("kept %v", got)
	}
	if w := a.LastWrite("apps", "deployments", "web", "web", ""); w == nil || w.Username != "user-499" {
		t.Errorf("last write %+v", w)
	}
	if w := a.LastWrite("apps", "deployments", "web", "web", "kubectl-set"); w == nil || w.Username != "user-499" {
		t.Errorf("last kubectl-set write %+v", w)
	}
}

// A log of many events costs memory in proportion to what is kept, not to what was read.
func TestAuditLogMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 40,000 events")
	}
	line := auditEventLine(1, "system:serviceaccount:kube-system:hpa", "kube-controller-manager", "scale") + "\n"
	r := &repeatReader{line: line, n: 40000}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a, err := ReadAuditLog("audit.log", r)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := a.writes("apps", "deployments", "web", "web", "kube-controller-manager", "scale"); len(got) != DefaultMaxAuditWritesPerManager {
		t.Errorf("kept %d writes", len(got))
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Errorf("heap grew by %d bytes after reading %d bytes of audit log", grew, len(line)*40000)
	}
	runtime.KeepAlive(a)
}

type repeatReader struct {
	line string
	n    int
	buf  []byte
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.n > 0 {
		r.buf = append(r.buf, r.line...)
		r.n--
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
