package drift

import "github.com/driftplane/terraform-provider-drift/api/v1alpha1"

// Inventory is how much of what a unit declares an evaluation actually observed (inventory
// coverage, M7): Expected resources (the state's, or the objects the manifests declare) and
// Observed, those found running (the API's type).
type Inventory = v1alpha1.Inventory

// InventoryOf counts observations that cover every declared object (the Kubernetes sources
// observe each one, drifted or not): a deleted one is expected but not observed.
func InventoryOf(obs []Observation) Inventory {
	inv := Inventory{Expected: len(obs)}
	for _, o := range obs {
		if !o.Deleted {
			inv.Observed++
		}
	}
	return inv
}
