package reporter

import (
	"context"
	"errors"
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
