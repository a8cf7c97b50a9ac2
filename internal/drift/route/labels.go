package route

import (
	"strconv"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// The labels of a finding, which matchers and groupBy name.
const (
	LabelClass              = "class"
	LabelDomain             = "domain"
	LabelEnvironment        = "environment"
	LabelEnvironmentClass   = "environment_class"
	LabelRisk               = "risk"
	LabelSeverity           = "severity"
	LabelOwner              = "owner"
	LabelUnit               = "unit"
	LabelResource           = "resource"
	LabelKind               = "kind"
	LabelType               = "type"
	LabelGroup              = "group"
	LabelNamespace          = "namespace"
	LabelActor              = "actor"
	LabelAction             = "action"
	LabelAccepted           = "accepted"
	LabelBlocking           = "blocking"
	LabelFingerprint        = "fingerprint"
	LabelDataClassification = "data_classification"
	LabelComplianceScope    = "compliance_scope"
)

// FindingLabels lists every label a finding carries (data_classification and compliance_scope
// come from the unit's labels, empty when it has none).
var FindingLabels = []string{
	LabelClass, LabelDomain, LabelEnvironment, LabelEnvironmentClass, LabelRisk, LabelSeverity, LabelOwner,
	LabelUnit, LabelResource, LabelKind, LabelType, LabelGroup, LabelNamespace, LabelActor, LabelAction,
	LabelAccepted, LabelBlocking, LabelFingerprint, LabelDataClassification, LabelComplianceScope,
}

// Actor kinds, as the core names them in a finding's actor_detail.kind.
var actorKinds = []string{drift.ActorHuman, drift.ActorBreakGlass, drift.ActorController, drift.ActorService, drift.ActorUnknown}

// enumerated are the labels whose values are a closed set, so a matcher can be checked for
// values they never take.
var enumerated = map[string][]string{
	LabelClass:            strs(drift.Classes),
	LabelRisk:             strs(drift.Risks),
	LabelSeverity:         strs(drift.Risks),
	LabelDomain:           drift.Domains,
	LabelEnvironmentClass: drift.EnvironmentClasses,
	LabelActor:            actorKinds,
	LabelAction:           strs(drift.Actions),
	LabelAccepted:         {"true", "false"},
	LabelBlocking:         {"true", "false"},
}

func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}

// Labels are a finding's labels by name.
type Labels map[string]string

// LabelsOf returns a finding's labels. unitLabels are the unit's metadata.labels; their names
// are made label names (every character but letters, digits and '_' becomes '_', so
// driftplane.io/data-classification is driftplane_io_data_classification and
// data-classification is data_classification). A unit label never replaces a finding label: a
// unit cannot relabel its own drift as low risk.
func LabelsOf(f drift.Finding, unitLabels map[string]string) Labels {
	ls := Labels{}
	for k, v := range unitLabels {
		ls[LabelName(k)] = v
	}
	for _, l := range FindingLabels {
		if l != LabelDataClassification && l != LabelComplianceScope {
			delete(ls, l)
		}
	}
	ls[LabelClass] = string(f.DriftClass)
	ls[LabelDomain] = f.Domain
	ls[LabelEnvironment] = f.Environment
	ls[LabelEnvironmentClass] = drift.DefaultTable().EnvironmentClass(f.Environment)
	ls[LabelRisk] = string(f.Risk)
	ls[LabelSeverity] = string(f.Risk)
	ls[LabelOwner] = f.Owner
	ls[LabelUnit] = f.Unit
	ls[LabelResource] = f.ResourceRef
	ls[LabelAction] = string(f.RecommendedAction)
	ls[LabelAccepted] = strconv.FormatBool(f.AcceptedBy != "")
	ls[LabelBlocking] = strconv.FormatBool(f.Blocking)
	ls[LabelFingerprint] = f.Fingerprint
	if ls[LabelFingerprint] == "" {
		ls[LabelFingerprint] = drift.Fingerprint(f)
	}
	ls[LabelActor] = drift.ActorUnknown
	if f.ActorDetail != nil && f.ActorDetail.Kind != "" {
		ls[LabelActor] = f.ActorDetail.Kind
	}
	if drift.IsKubernetesRef(f.ResourceRef) {
		// group/version/Kind/namespace/name
		if segs := strings.Split(f.ResourceRef, "/"); len(segs) == 5 {
			ls[LabelGroup], ls[LabelKind], ls[LabelNamespace] = segs[0], segs[2], segs[3]
			ls[LabelType] = segs[2]
		}
	} else {
		t := drift.ResourceType(f.ResourceRef)
		ls[LabelType], ls[LabelKind] = t, t
	}
	return ls.without()
}

// Normalize completes labels given by hand (driftplane route test domain=identity risk=HIGH):
// severity and risk stand for each other, and environment_class follows environment.
func (ls Labels) Normalize() Labels {
	out := Labels{}
	for k, v := range ls {
		out[k] = v
	}
	switch {
	case out[LabelRisk] == "" && out[LabelSeverity] != "":
		out[LabelRisk] = out[LabelSeverity]
	case out[LabelSeverity] == "" && out[LabelRisk] != "":
		out[LabelSeverity] = out[LabelRisk]
	}
	if out[LabelEnvironmentClass] == "" && out[LabelEnvironment] != "" {
		out[LabelEnvironmentClass] = drift.DefaultTable().EnvironmentClass(out[LabelEnvironment])
	}
	return out.without()
}

// without drops empty labels: in Alertmanager an absent label and an empty one are the same.
func (ls Labels) without() Labels {
	for k, v := range ls {
		if v == "" {
			delete(ls, k)
		}
	}
	return ls
}

// LabelName makes a unit label key a label name.
func LabelName(key string) string {
	var b strings.Builder
	for i, r := range key {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || (r >= '0' && r <= '9' && i > 0):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
