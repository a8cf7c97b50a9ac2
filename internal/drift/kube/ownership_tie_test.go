package kube

import (
	"encoding/json"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// TestOwnerOfFieldBeatsOwnerOfMap: Argo CD's client-side apply records "f:labels":{} (the map),
// kubectl label records "f:labels":{"f:app":{}}, and managedFields times tie within a second. The
// manager of the field itself owns it, whatever order the entries come in; otherwise a person's
// label reads as the applier's pending sync. Seen on a real apiserver in the end-to-end test.
func TestOwnerOfFieldBeatsOwnerOfMap(t *testing.T) {
	applier := `{"manager":"argocd-controller","operation":"Update","apiVersion":"apps/v1","time":"2026-12-01T13:29:03Z","fieldsType":"FieldsV1",
	  "fieldsV1":{"f:metadata":{"f:labels":{}},"f:spec":{"f:replicas":{}}}}`
	person := `{"manager":"kubectl-label","operation":"Update","apiVersion":"apps/v1","time":"2026-12-01T13:29:03Z","fieldsType":"FieldsV1",
	  "fieldsV1":{"f:metadata":{"f:labels":{"f:app":{}}}}}`
	for _, order := range [][]string{{applier, person}, {person, applier}} {
		var mf []any
		if err := json.Unmarshal([]byte("["+order[0]+","+order[1]+"]"), &mf); err != nil {
			t.Fatal(err)
		}
		ms, err := ReadManagers(map[string]any{"metadata": map[string]any{"managedFields": mf}})
		if err != nil {
			t.Fatal(err)
		}
		if owner, _ := ms.Owner(drift.MustPointer("/metadata/labels/app")); owner != "kubectl-label" {
			t.Errorf("labels.app owned by %q, want kubectl-label", owner)
		}
		if owner, _ := ms.Owner(drift.MustPointer("/spec/replicas")); owner != "argocd-controller" {
			t.Errorf("spec.replicas owned by %q, want argocd-controller", owner)
		}
	}
}
