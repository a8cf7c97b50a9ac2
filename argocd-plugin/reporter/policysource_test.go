package reporter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestPolicyComesFromGitNotTheLiveReport: someone who may edit the DriftReport in the cluster
// loosens its policy (gate none, an exception for the patched image). The reporter judges by the
// report Git renders (its target state in Argo CD's answer), so the image change still blocks.
func TestPolicyComesFromGitNotTheLiveReport(t *testing.T) {
	recorded := loadAnswer(t)
	dr := liveReport(t, recorded)
	if err := unstructured.SetNestedField(dr.Object, "none", "spec", "unit", "spec", "gate"); err != nil {
		t.Fatal(err)
	}
	app := application(t, "argocd", "web", "")
	h := newHarness(t, &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return recorded, nil }}, app, dr)
	h.index(t, app)
	if err := h.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
		t.Fatal(err)
	}
	_, st := h.report(t, "web")
	if cond := evaluated(st); cond == nil || cond.Status != "True" || st.BlockingCount != 1 || st.Gate != "high" {
		t.Fatalf("a live edit of the DriftReport loosened the gate: gate %q, blocking %d, condition %+v", st.Gate, st.BlockingCount, evaluated(st))
	}
}

// TestAuditLogReadOncePerResync: the audit log is parsed once for every application a resync
// evaluates, again when the file changes or the resync period passes, and a failed read is never
// cached as "no audit log".
func TestAuditLogReadOncePerResync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := &auditCache{path: path, maxAge: 3 * time.Minute, now: func() time.Time { return now }}
	for i := 0; i < 50; i++ {
		if _, err := c.get(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if c.reads != 1 {
		t.Fatalf("50 applications read the audit log %d times, want 1", c.reads)
	}
	now = now.Add(4 * time.Minute)
	if _, err := c.get(context.Background()); err != nil || c.reads != 2 {
		t.Fatalf("after the resync period: reads %d, err %v", c.reads, err)
	}
	event := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"patch","user":{"username":"alice"},` +
		`"objectRef":{"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps"},"requestURI":"/apis/apps/v1/namespaces/web/deployments/web?fieldManager=kubectl-set","stageTimestamp":"2026-11-30T10:00:00.000000Z","responseStatus":{"code":200}}` + "\n"
	if err := os.WriteFile(path, []byte(event), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := c.get(context.Background())
	if err != nil || c.reads != 3 || log.LastWrite("apps", "deployments", "web", "web", "") == nil {
		t.Fatalf("after the file changed: reads %d, err %v", c.reads, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := c.get(context.Background()); err == nil {
		t.Fatal("a vanished audit log read as no audit log")
	}
}

// hungArgo never answers until the caller gives up.
type hungArgo struct{}

func (hungArgo) ManagedResources(ctx context.Context, _, _ string) ([]ResourceDiff, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestHungArgoCDIsUnknown: an argocd-server that never answers holds a worker only for the
// evaluation timeout, and the application's drift is unknown, never the last good status.
func TestHungArgoCDIsUnknown(t *testing.T) {
	recorded := loadAnswer(t)
	dr := liveReport(t, recorded)
	app := application(t, "argocd", "web", "")
	h := newHarness(t, hungArgo{}, app, dr)
	h.ctrl.cfg.EvaluationTimeout = 50 * time.Millisecond
	h.index(t, app)
	done := make(chan error, 1)
	go func() { done <- h.ctrl.Sync(context.Background(), "argocd/web") }()
	select {
	case err := <-done:
		// A timeout is transient: Sync returns it so the queue retries with backoff.
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Sync returned %v, want the deadline", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a hung argocd-server held the worker past the evaluation timeout")
	}
	_, st := h.report(t, "web")
	if cond := evaluated(st); cond == nil || cond.Status != "False" {
		t.Fatalf("condition %+v", cond)
	}
}
