package kube

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAuditLogOncePerPeriodWhileItGrows: a live audit log grows with every write (the reporter's
// own status writes among them); with OncePerPeriod the applications of one resync still share a
// single read while it grows, and a rotated or truncated file is read again at once.
func TestAuditLogOncePerPeriodWhileItGrows(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	event := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"patch","user":{"username":"alice"},` +
		`"objectRef":{"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps"},"requestURI":"/apis/apps/v1/namespaces/web/deployments/web?fieldManager=kubectl-set","stageTimestamp":"2026-11-30T10:00:00.000000Z","responseStatus":{"code":200}}` + "\n"
	if err := os.WriteFile(path, []byte(event), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := &AuditCache{Path: path, MaxAge: 3 * time.Minute, Now: func() time.Time { return now }, OncePerPeriod: true}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	for i := 0; i < 50; i++ {
		if _, err := c.Get(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Each evaluation's status write lands in the log.
		if _, err := f.WriteString(event); err != nil {
			t.Fatal(err)
		}
	}
	if c.Reads() != 1 {
		t.Fatalf("50 applications read a growing audit log %d times, want 1", c.Reads())
	}
	// Without OncePerPeriod every growth is a read: the behaviour this option exists to avoid.
	plain := &AuditCache{Path: path, MaxAge: 3 * time.Minute, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		_, _ = plain.Get(context.Background())
		_, _ = f.WriteString(event)
	}
	if plain.Reads() != 3 {
		t.Fatalf("without OncePerPeriod a growing log was read %d times in 3 gets", plain.Reads())
	}
	now = now.Add(4 * time.Minute)
	if _, err := c.Get(context.Background()); err != nil || c.Reads() != 2 {
		t.Fatalf("after the period: reads %d, err %v", c.Reads(), err)
	}
	// Rotation: a new, smaller file under the same name is read at once.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := c.Get(context.Background())
	if err != nil || c.Reads() != 3 || log.LastWrite("apps", "deployments", "web", "web", "") != nil {
		t.Fatalf("after rotation: reads %d, err %v", c.Reads(), err)
	}
	// Replaced by a file at least as large (a different inode): read at once too.
	big := []byte(event + event)
	tmp := filepath.Join(dir, "new.log")
	if err := os.WriteFile(tmp, big, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	log, err = c.Get(context.Background())
	if err != nil || c.Reads() != 4 || log.LastWrite("apps", "deployments", "web", "web", "") == nil {
		t.Fatalf("after replacement: reads %d, err %v", c.Reads(), err)
	}
}
