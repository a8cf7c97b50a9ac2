package kube

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAuditLogReadOncePerResync: the audit log is parsed once for every application a resync
// evaluates, again when the file changes or the resync period passes, and a failed read is never
// cached as "no audit log".
func TestAuditLogReadOncePerResync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := &AuditCache{Path: path, MaxAge: 3 * time.Minute, Now: func() time.Time { return now }}
	for i := 0; i < 50; i++ {
		if _, err := c.Get(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if c.Reads() != 1 {
		t.Fatalf("50 applications read the audit log %d times, want 1", c.Reads())
	}
	now = now.Add(4 * time.Minute)
	if _, err := c.Get(context.Background()); err != nil || c.Reads() != 2 {
		t.Fatalf("after the resync period: reads %d, err %v", c.Reads(), err)
	}
	event := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"patch","user":{"username":"alice"},` +
		`"objectRef":{"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps"},"requestURI":"/apis/apps/v1/namespaces/web/deployments/web?fieldManager=kubectl-set","stageTimestamp":"2026-11-30T10:00:00.000000Z","responseStatus":{"code":200}}` + "\n"
	if err := os.WriteFile(path, []byte(event), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := c.Get(context.Background())
	if err != nil || c.Reads() != 3 || log.LastWrite("apps", "deployments", "web", "web", "") == nil {
		t.Fatalf("after the file changed: reads %d, err %v", c.Reads(), err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background()); err == nil {
		t.Fatal("a vanished audit log read as no audit log")
	}
}
