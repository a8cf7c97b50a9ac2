package pipeline_test

import (
	"context"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/live"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
)

// LiveObjects adds the live detectors' findings to the declared objects', names the snapshot in
// the evidence, and lowers inventory coverage (M7) by the unmanaged objects, in the ledger too.
func TestRunLiveObjects(t *testing.T) {
	store := blob.Dir(t.TempDir())
	stray := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "stray", "namespace": "web", "creationTimestamp": "2026-01-01T00:00:00Z"}}
	cfg := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cfg", "namespace": "web"}}
	src := &pipeline.LiveObjects{
		Source:   pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{configMapPair()}, Label: "app web/web"},
		Snapshot: live.Snapshot{Objects: []map[string]any{cfg, stray}, SecretsListed: true},
		Context:  live.Context{App: "web", Declared: map[live.ObjectKey]bool{{Kind: "ConfigMap", Namespace: "web", Name: "cfg"}: true}},
		Label:    "live objects of web/web",
	}
	res, err := pipeline.Run(context.Background(), pipeline.Request{Unit: kubeUnit(t), Source: src, Ledger: store, Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	classes := map[drift.Class]int{}
	for _, f := range res.Report.Findings {
		classes[f.DriftClass]++
	}
	if classes[drift.ClassUnmanaged] != 1 || len(res.Report.Findings) != 2 || len(res.Inputs) != 2 || res.Inputs[1].Name != "live objects of web/web" {
		t.Fatalf("findings %+v inputs %+v", res.Report.Findings, res.Inputs)
	}
	if src.Found == nil || src.Found.Unmanaged != 1 {
		t.Fatalf("found %+v", src.Found)
	}
	rec, _, err := ledger.Latest(context.Background(), store, "web")
	if err != nil {
		t.Fatal(err)
	}
	if inv := rec.Inventory; inv == nil || inv.Expected != 2 || inv.Observed != 1 || inv.Unmanaged != 1 {
		t.Errorf("ledger inventory %+v", rec.Inventory)
	}
}
