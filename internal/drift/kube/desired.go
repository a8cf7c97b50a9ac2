package kube

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// StrippedField records a path removed from a desired object, so the DriftReport shows what the
// GitOps applier was told to leave alone and why.
type StrippedField = v1alpha1.StrippedField

// GitDesired turns rendered manifests into what Git really asks for, in place: it removes the
// fields the unit's ownership rules and the decision table give to controllers and the runtime
// (StripNonGitFields), and kubectl's clear-text copies of Secrets, and returns what it removed,
// sorted. An applier given the result never fights a controller for a field Git does not own.
func GitDesired(manifests []Manifest, u *drift.ManagedUnit, t *drift.Table) []StrippedField {
	stripped := append(stripSecretCopies(manifests), StripNonGitFields(manifests, u, t)...)
	sortStripped(stripped)
	return stripped
}

// StripNonGitFields removes controller- and runtime-owned paths from the objects they apply to
// (drift.NotGitOwned), and the fields an object of the same application owns on the object it
// points at (the decision table's target_owners: /spec/replicas of whatever an HPA scales).
func StripNonGitFields(manifests []Manifest, u *drift.ManagedUnit, t *drift.Table) []StrippedField {
	var out []StrippedField
	owned := targetOwned(manifests, t.TargetOwners)
	for _, m := range manifests {
		o := m.Object
		gvk := o.GroupVersionKind()
		ref := Ref(gvk.Group, gvk.Version, gvk.Kind, o.GetNamespace(), o.GetName())
		for _, by := range owned[objectKey(gvk.Group, gvk.Kind, o.GetNamespace(), o.GetName())] {
			for _, path := range by.rule.Paths {
				if removePath(o.Object, drift.MustPointer(path)) {
					out = append(out, StrippedField{Ref: ref, Path: path, Owner: by.rule.Owner,
						Reason: fmt.Sprintf("%s %q %s", by.kind, by.name, by.rule.Reason)})
				}
			}
		}
		for _, c := range drift.NotGitOwned(u.Spec.OwnershipRules, gvk.Group, gvk.Kind, o.GetNamespace(), o.GetName(), o.GetLabels()) {
			if removePath(o.Object, drift.MustPointer(c.Path)) {
				out = append(out, StrippedField{Ref: ref, Path: c.Path, Owner: c.Owner, Reason: c.Ownership + "-owned by rule " + ruleName(c.Rule)})
			}
		}
	}
	return out
}

// targetOwner is one object of the application that owns fields of the object it points at.
type targetOwner struct {
	rule       drift.TargetOwner
	kind, name string
}

// targetOwned maps group/Kind/namespace/name of each pointed-at object to the objects that own
// fields of it, one per target_owners entry (the last such object in the application names it).
func targetOwned(manifests []Manifest, rules []drift.TargetOwner) map[string][]targetOwner {
	last := map[string]map[int]targetOwner{}
	for _, m := range manifests {
		o := m.Object
		for i, r := range rules {
			if r.Kind != o.GroupVersionKind().Group+"/"+o.GetKind() {
				continue
			}
			ref, _, _ := unstructured.NestedStringMap(o.Object, drift.MustPointer(r.Target)...)
			gv, _ := schema.ParseGroupVersion(ref["apiVersion"])
			key := objectKey(gv.Group, ref["kind"], o.GetNamespace(), ref["name"])
			if last[key] == nil {
				last[key] = map[int]targetOwner{}
			}
			last[key][i] = targetOwner{rule: r, kind: o.GetKind(), name: o.GetName()}
		}
	}
	out := make(map[string][]targetOwner, len(last))
	for key, byRule := range last {
		for i := range rules {
			if t, ok := byRule[i]; ok {
				out[key] = append(out[key], t)
			}
		}
	}
	return out
}

func sortStripped(out []StrippedField) {
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Ref != out[j].Ref {
			return out[i].Ref < out[j].Ref
		}
		return out[i].Path < out[j].Path
	})
}

// LastAppliedAnnotation is kubectl's bookkeeping annotation: the whole object as last applied, in clear text.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// stripSecretCopies removes kubectl's last-applied-configuration annotation from Secrets: it holds
// the whole Secret, data included, in clear text, and an annotation is shown wherever metadata is
// (Argo CD's UI and API, kubectl describe, events), where Secret data is masked. The Secret's
// own data is left for Argo CD to apply.
func stripSecretCopies(manifests []Manifest) []StrippedField {
	var out []StrippedField
	for _, m := range manifests {
		o := m.Object
		gvk := o.GroupVersionKind()
		if gvk.Group != "" || gvk.Kind != "Secret" {
			continue
		}
		ann := o.GetAnnotations()
		if _, ok := ann[LastAppliedAnnotation]; !ok {
			continue
		}
		md, _ := o.Object["metadata"].(map[string]any)
		a, _ := md["annotations"].(map[string]any)
		delete(a, LastAppliedAnnotation)
		if len(a) == 0 {
			delete(md, "annotations")
		}
		out = append(out, StrippedField{
			Ref:    Ref(gvk.Group, gvk.Version, gvk.Kind, o.GetNamespace(), o.GetName()),
			Path:   drift.Pointer{"metadata", "annotations", LastAppliedAnnotation}.String(),
			Owner:  "kubectl",
			Reason: "a Secret's last-applied-configuration holds its data in clear text",
		})
	}
	return out
}

func ruleName(r drift.OwnershipRule) string {
	if r.Name != "" {
		return strconv.Quote(r.Name)
	}
	return "for " + r.Resource.Kind
}

// removePath deletes what p selects from a raw (not normalized) object. Tokens follow the
// findings' syntax: "key=value" selects list elements by field, "*" every key or element, a
// number a list index. It reports whether anything was removed.
func removePath(v any, p drift.Pointer) bool {
	if len(p) == 0 {
		return false
	}
	tok, last := p[0], len(p) == 1
	switch x := v.(type) {
	case map[string]any:
		if tok == "*" {
			removed := false
			for k := range x {
				if last {
					delete(x, k)
					removed = true
				} else if removePath(x[k], p[1:]) {
					removed = true
				}
			}
			return removed
		}
		child, ok := x[tok]
		if !ok {
			return false
		}
		if last {
			delete(x, tok)
			return true
		}
		removed := removePath(child, p[1:])
		if cm, ok := child.(map[string]any); ok && removed && len(cm) == 0 {
			delete(x, tok) // an emptied parent ({}) would itself be drift against the live object
		}
		return removed
	case []any:
		removed := false
		for i, e := range x {
			if !elementSelected(e, i, tok) {
				continue
			}
			if last {
				continue // removing list elements would renumber the list; owned elements are left to their owner
			}
			if removePath(e, p[1:]) {
				removed = true
			}
		}
		return removed
	}
	return false
}

func elementSelected(e any, i int, tok string) bool {
	if tok == "*" {
		return true
	}
	if k, val, ok := strings.Cut(tok, "="); ok {
		m, isMap := e.(map[string]any)
		return isMap && fmt.Sprint(m[k]) == val
	}
	n, err := strconv.Atoi(tok)
	return err == nil && n == i
}
