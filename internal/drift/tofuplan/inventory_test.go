package tofuplan

import (
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Inventory counts the managed resources of the refreshed state, in child modules too (data
// sources aside), and those the refresh found deleted.
func TestInventory(t *testing.T) {
	plan := []byte(`{"format_version":"1.2","terraform_version":"1.10.10","planned_values":{"root_module":{}},
	 "resource_drift":[{"address":"local_file.gone","mode":"managed","type":"local_file","name":"gone","provider_name":"registry.opentofu.org/hashicorp/local",
	   "change":{"actions":["delete"],"before":{"content":"x"},"after":null}}],
	 "prior_state":{"format_version":"1.0","values":{"root_module":{
	   "resources":[{"address":"local_file.a","mode":"managed","type":"local_file","name":"a","values":{}},
	                {"address":"data.local_file.up","mode":"data","type":"local_file","name":"up","values":{}}],
	   "child_modules":[{"address":"module.m","resources":[{"address":"module.m.local_file.b","mode":"managed","type":"local_file","name":"b","values":{}}]}]}}}}`)
	p, err := Read("plan.json", plan)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := p.Inventory()
	if err != nil || inv != (drift.Inventory{Expected: 3, Observed: 2}) {
		t.Fatalf("inventory %+v %v", inv, err)
	}
}
