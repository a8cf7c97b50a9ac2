package reporter

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

type failingHealer struct{}

func (failingHealer) SyncResources(context.Context, string, string, []HealTarget) error {
	return errors.New("argocd-server said no")
}

// A sync that fails is recorded with the objects it was for, and the next evaluation hands
// those findings to the ledger as failed reconciliations (M6), not as healed.
func TestHealFailureIsRecordedForTheLedger(t *testing.T) {
	c := &Controller{cfg: Config{Healer: failingHealer{}}, recorder: record.NewFakeRecorder(10)}
	app := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "web", "namespace": "argocd"},
		"spec":     map[string]any{"syncPolicy": map[string]any{"automated": map[string]any{}}},
		"status":   map[string]any{"health": map[string]any{"status": "Healthy"}},
	}}
	policy := &Policy{AutoHealPolicies: []*drift.AutoHealPolicy{{Metadata: drift.Metadata{Name: "labels-only"}, Spec: drift.AutoHealPolicySpec{
		AppliesTo: drift.AutoHealScope{Kinds: []string{"Deployment"}}, AllowedPaths: []string{"/metadata/labels"}, MaxObjectsPerReconcile: intp(2)}}}}
	st := &Status{Findings: []StatusFinding{healFinding("f1", "Deployment", "a", drift.DomainWorkload, "/metadata/labels/tier")}}
	c.heal(context.Background(), app, policy, st, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	if st.AutoHeal == nil || st.AutoHeal.Error == "" || len(st.AutoHeal.Healed) != 0 || len(st.AutoHeal.Failed) != 1 {
		t.Fatalf("heal record %+v", st.AutoHeal)
	}
	if failed, healed := healFailedBefore(st), healedBefore(st); !failed["f1"] || len(healed) != 0 {
		t.Fatalf("failed %v healed %v", failed, healed)
	}
	// The record survives the typed API's round trip.
	api := StatusToAPI(*st)
	if back := StatusFromAPI(&api); back.AutoHeal == nil || len(back.AutoHeal.Failed) != 1 {
		t.Fatalf("round trip lost the failed targets: %+v", back.AutoHeal)
	}
}

// The status counts what the application declares and what was found running (M7), and keeps
// it through the typed API.
func TestStatusCarriesTheInventory(t *testing.T) {
	obs := []drift.Observation{{Ref: "a"}, {Ref: "b", Deleted: true}, {Ref: "c"}}
	st := StatusFromReport(&drift.Report{Unit: "web", Status: drift.StatusClean}, obs, 1, "r", time.Now(), nil)
	if st.Inventory == nil || *st.Inventory != (drift.Inventory{Expected: 3, Observed: 2}) {
		t.Fatalf("inventory %+v", st.Inventory)
	}
	api := StatusToAPI(st)
	if back := StatusFromAPI(&api); back.Inventory == nil || *back.Inventory != *st.Inventory {
		t.Fatalf("round trip: %+v", back.Inventory)
	}
}
