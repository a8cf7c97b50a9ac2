package drift

import "github.com/driftplane/terraform-provider-drift/api/v1alpha1"

// Inventory is how much of what a unit declares an evaluation actually observed (inventory
// coverage, M7): Expected resources (the state's, or the objects the manifests declare) and
// Observed, those found running (the API's type).
type Inventory = v1alpha1.Inventory

// InventoryOf counts observations that cover every declared object (the Kubernetes sources
// observe each one, drifted or not): a deleted one is expected but not observed.
func InventoryOf(obs []Observation) Inventory {
	var inv Inventory
	for _, o := range obs {
		if o.Failure != nil || o.Live != nil || o.MutableRef != nil {
			// What the applier says of an object (a failed sync, thrash) or a live detector saw
			// (a moved digest, an unmanaged object: Inventory.Unmanaged) is not another declared object.
			continue
		}
		inv.Expected++
		if !o.Deleted {
			inv.Observed++
		}
	}
	return inv
}
