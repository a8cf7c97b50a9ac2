package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is driftplane's API group.
const GroupName = "drift.driftplane.io"

// Version is this package's API version.
const Version = "v1alpha1"

// Kinds of this API.
const (
	KindDriftReport        = "DriftReport"
	KindDriftManagedUnit   = "DriftManagedUnit"
	KindDriftOwnershipRule = "DriftOwnershipRule"
	KindDriftException     = "DriftException"
	KindAutoHealPolicy     = "AutoHealPolicy"
)

var (
	// GroupVersion is drift.driftplane.io/v1alpha1.
	GroupVersion = schema.GroupVersion{Group: GroupName, Version: Version}
	// SchemeBuilder registers this API's kinds.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds this API's kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// Resource is a GroupResource of this group.
func Resource(resource string) schema.GroupResource {
	return GroupVersion.WithResource(resource).GroupResource()
}

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&DriftReport{}, &DriftReportList{},
		&DriftManagedUnit{}, &DriftManagedUnitList{},
		&DriftOwnershipRule{}, &DriftOwnershipRuleList{},
		&DriftException{}, &DriftExceptionList{},
		&AutoHealPolicy{}, &AutoHealPolicyList{},
		&DriftRoutingPolicy{}, &DriftRoutingPolicyList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
