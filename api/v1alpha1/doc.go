// Package v1alpha1 is driftplane's Kubernetes API, group drift.driftplane.io, version v1alpha1:
// the policy kinds (DriftManagedUnit, DriftOwnershipRule, DriftException, AutoHealPolicy) that a
// `.drift/` folder holds, and the DriftReport the Argo CD plugin writes (spec: the policy) and the
// reporter fills (status: the classified drift). It depends on k8s.io/apimachinery alone, so the
// core (internal/drift) decodes policy into these types.
//
// The CRDs (argocd-plugin/manifests) and zz_generated.deepcopy.go are generated from the markers
// here by controller-gen (`make generate`); never edit them by hand.
//
// +kubebuilder:object:generate=true
// +kubebuilder:validation:Optional
// +groupName=drift.driftplane.io
package v1alpha1

//go:generate bash ../../scripts/generate-api.sh
