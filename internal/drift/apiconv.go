package drift

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
)

// Conversions between the core's policy envelopes and the Kubernetes API's kinds. The specs are
// the same types; the envelopes differ in metadata (the core keeps name, namespace and labels)
// and in their JSON (the core's canonical JSON always carries apiVersion and kind, in that order).

func metadataFromAPI(m *metav1.ObjectMeta) Metadata {
	return Metadata{Name: m.Name, Namespace: m.Namespace, Labels: copyLabels(m.Labels)}
}

func (m Metadata) toAPI() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: copyLabels(m.Labels)}
}

func copyLabels(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// UnitFromAPI converts a DriftManagedUnit of the Kubernetes API.
func UnitFromAPI(u *v1alpha1.DriftManagedUnit) *ManagedUnit {
	return &ManagedUnit{APIVersion: u.APIVersion, Kind: u.Kind, Metadata: metadataFromAPI(&u.ObjectMeta), Spec: *u.Spec.DeepCopy()}
}

// ToAPI converts the unit to the Kubernetes API's DriftManagedUnit.
func (u *ManagedUnit) ToAPI() *v1alpha1.DriftManagedUnit {
	return &v1alpha1.DriftManagedUnit{
		TypeMeta:   metav1.TypeMeta{APIVersion: u.APIVersion, Kind: u.Kind},
		ObjectMeta: u.Metadata.toAPI(),
		Spec:       *u.Spec.DeepCopy(),
	}
}

// ExceptionFromAPI converts a DriftException of the Kubernetes API.
func ExceptionFromAPI(e *v1alpha1.DriftException) *Exception {
	return &Exception{APIVersion: e.APIVersion, Kind: e.Kind, Metadata: metadataFromAPI(&e.ObjectMeta), Spec: *e.Spec.DeepCopy()}
}

// ToAPI converts the exception to the Kubernetes API's DriftException.
func (e *Exception) ToAPI() *v1alpha1.DriftException {
	return &v1alpha1.DriftException{
		TypeMeta:   metav1.TypeMeta{APIVersion: e.APIVersion, Kind: e.Kind},
		ObjectMeta: e.Metadata.toAPI(),
		Spec:       *e.Spec.DeepCopy(),
	}
}

// AutoHealPolicyFromAPI converts an AutoHealPolicy of the Kubernetes API.
func AutoHealPolicyFromAPI(p *v1alpha1.AutoHealPolicy) *AutoHealPolicy {
	return &AutoHealPolicy{APIVersion: p.APIVersion, Kind: p.Kind, Metadata: metadataFromAPI(&p.ObjectMeta), Spec: *p.Spec.DeepCopy()}
}

// ToAPI converts the policy to the Kubernetes API's AutoHealPolicy.
func (p *AutoHealPolicy) ToAPI() *v1alpha1.AutoHealPolicy {
	return &v1alpha1.AutoHealPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: p.APIVersion, Kind: p.Kind},
		ObjectMeta: p.Metadata.toAPI(),
		Spec:       *p.Spec.DeepCopy(),
	}
}

// OwnershipRuleDocFromAPI converts a DriftOwnershipRule of the Kubernetes API.
func OwnershipRuleDocFromAPI(r *v1alpha1.DriftOwnershipRule) *OwnershipRuleDoc {
	return &OwnershipRuleDoc{APIVersion: r.APIVersion, Kind: r.Kind, Metadata: metadataFromAPI(&r.ObjectMeta), Spec: *r.Spec.DeepCopy()}
}

// ToAPI is the finding as a DriftReport status holds it.
func (f ObjectFinding) ToAPI() v1alpha1.Finding {
	out := v1alpha1.Finding{
		FindingID: f.FindingID, DetectedAt: f.DetectedAt, Unit: f.Unit, Owner: f.Owner, Environment: f.Environment,
		Domain: f.Domain, ResourceRef: f.ResourceRef, Group: f.Group, Kind: f.Kind, Namespace: f.Namespace, Name: f.Name,
		DriftClass: string(f.DriftClass), Risk: string(f.Risk), ChangedFields: f.ChangedFields, SensitiveFields: f.SensitiveFields,
		RecommendedAction: string(f.RecommendedAction), AutoHealAllowed: f.AutoHealAllowed, AcceptedBy: f.AcceptedBy,
		Actor: f.Actor, Evidence: f.Evidence, Rule: f.Rule, Deleted: f.Deleted, Blocking: f.Blocking, Explanation: f.Explanation,
		Fingerprint: f.Fingerprint, FirstSeen: f.FirstSeen, Age: f.Age, FirstObservedAt: f.FirstObservedAt, ProviderUpgrade: f.ProviderUpgrade,
	}
	out.PolicyRule = f.PolicyRule
	if a := f.ActorDetail; a != nil {
		out.ActorDetail = &v1alpha1.ActorDetail{Username: a.Username, Groups: a.Groups, UserAgent: a.UserAgent, Time: a.Time, Manager: a.Manager, Kind: a.Kind}
	}
	return out
}

// ObjectFindingFromAPI is the core finding of a DriftReport status finding.
func ObjectFindingFromAPI(f v1alpha1.Finding) ObjectFinding {
	out := ObjectFinding{
		Finding: Finding{
			FindingID: f.FindingID, DetectedAt: f.DetectedAt, Unit: f.Unit, Owner: f.Owner, Environment: f.Environment,
			Domain: f.Domain, ResourceRef: f.ResourceRef, DriftClass: Class(f.DriftClass), Risk: Risk(f.Risk),
			ChangedFields: f.ChangedFields, SensitiveFields: f.SensitiveFields, RecommendedAction: Action(f.RecommendedAction),
			AutoHealAllowed: f.AutoHealAllowed, AcceptedBy: f.AcceptedBy, Actor: f.Actor, Evidence: f.Evidence, Rule: f.Rule,
			Deleted: f.Deleted, Blocking: f.Blocking, Explanation: f.Explanation, ProviderUpgrade: f.ProviderUpgrade,
			Fingerprint: f.Fingerprint, FirstSeen: f.FirstSeen, Age: f.Age,
		},
		Group: f.Group, Kind: f.Kind, Namespace: f.Namespace, Name: f.Name, FirstObservedAt: f.FirstObservedAt,
	}
	out.PolicyRule = f.PolicyRule
	if a := f.ActorDetail; a != nil {
		out.ActorDetail = &Actor{Username: a.Username, Groups: a.Groups, UserAgent: a.UserAgent, Time: a.Time, Manager: a.Manager, Kind: a.Kind}
	}
	return out
}
