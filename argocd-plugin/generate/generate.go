// Package generate is the config-management-plugin side of driftplane: it renders an Argo CD
// application's directory, removes from the desired manifests every field the policy says Git
// does not own, and adds a DriftReport carrying the validated policy.
package generate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// PolicyDir is where an application keeps its drift policy, next to its manifests.
const PolicyDir = ".drift"

// DefaultFreshnessSeconds bounds how old an evaluation may be before the health check calls the
// report stale.
const DefaultFreshnessSeconds = 900

// Environment variables Argo CD passes to plugins. Parameters set on the Application arrive as
// ARGOCD_ENV_<NAME>.
const (
	EnvAppName      = "ARGOCD_APP_NAME"
	EnvAppNamespace = "ARGOCD_APP_NAMESPACE"
	EnvRevision     = "ARGOCD_APP_REVISION"
	EnvEnvironment  = "ARGOCD_ENV_DRIFTPLANE_ENVIRONMENT"
	EnvGate         = "ARGOCD_ENV_DRIFTPLANE_GATE"
	EnvRiskTier     = "ARGOCD_ENV_DRIFTPLANE_RISK_TIER"
	EnvFreshness    = "ARGOCD_ENV_DRIFTPLANE_FRESHNESS_SECONDS"
)

// Options are what Argo CD tells the plugin about the application.
type Options struct {
	// Env is the plugin's environment (name → value); only the variables above are read.
	Env map[string]string
}

// StrippedField records a path removed from a desired object, so the report shows what Argo CD
// was told to leave alone and why.
type StrippedField struct {
	Ref    string `json:"ref"`
	Path   string `json:"path"`
	Owner  string `json:"owner"`
	Reason string `json:"reason"`
}

// Generate renders dir into a YAML stream: the desired objects minus fields Git does not own,
// then one DriftReport. It fails closed: on any error it returns no output at all, because
// empty output with pruning enabled would delete the application.
func Generate(dir string, opts Options) ([]byte, error) {
	policy, err := drift.LoadPolicy(filepath.Join(dir, PolicyDir))
	if err != nil {
		return nil, err
	}
	if err := applyEnv(policy.Unit, opts.Env); err != nil {
		return nil, err
	}
	// An application that renders no object is an error (kube.LoadManifests refuses it): empty
	// output with pruning enabled would delete the application.
	manifests, err := kube.LoadManifests(dir)
	if err != nil {
		return nil, err
	}
	for _, m := range manifests {
		if m.Object.GroupVersionKind().Group == drift.GroupName && m.Object.GetKind() == KindDriftReport {
			return nil, fmt.Errorf("manifest %s declares a %s itself; the plugin generates it", m.Source, KindDriftReport)
		}
	}
	stripped := append(stripSecretCopies(manifests), stripNonGitFields(manifests, policy.Unit, drift.DefaultTable())...)
	sortStripped(stripped)
	report, err := driftReport(policy, opts, stripped)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, m := range manifests {
		if err := writeDoc(&out, m.Object.Object); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", m.Source, err)
		}
	}
	if err := writeDoc(&out, report); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func writeDoc(w *bytes.Buffer, obj map[string]any) error {
	y, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	w.WriteString("---\n")
	w.Write(y)
	return nil
}

func applyEnv(u *drift.ManagedUnit, env map[string]string) error {
	set := func(name string, dst *string) {
		if v, ok := env[name]; ok && strings.TrimSpace(v) != "" {
			*dst = strings.TrimSpace(v)
		}
	}
	set(EnvEnvironment, &u.Spec.Environment)
	set(EnvGate, &u.Spec.Gate)
	set(EnvRiskTier, &u.Spec.RiskTier)
	if err := u.Validate(); err != nil {
		return fmt.Errorf("policy after application parameters (%s, %s, %s): %w", EnvEnvironment, EnvGate, EnvRiskTier, err)
	}
	return nil
}

// stripNonGitFields removes controller- and runtime-owned paths from the objects they apply to
// (drift.NotGitOwned), and the fields an object of the same application owns on the object it
// points at (the decision table's target_owners: /spec/replicas of whatever an HPA scales).
func stripNonGitFields(manifests []kube.Manifest, u *drift.ManagedUnit, t *drift.Table) []StrippedField {
	var out []StrippedField
	owned := targetOwned(manifests, t.TargetOwners)
	for _, m := range manifests {
		o := m.Object
		gvk := o.GroupVersionKind()
		ref := kube.Ref(gvk.Group, gvk.Version, gvk.Kind, o.GetNamespace(), o.GetName())
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
func targetOwned(manifests []kube.Manifest, rules []drift.TargetOwner) map[string][]targetOwner {
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

// objectKey names an object by group/Kind/namespace/name, whatever its version.
func objectKey(group, kind, namespace, name string) string {
	return group + "/" + kind + "/" + namespace + "/" + name
}

func sortStripped(out []StrippedField) {
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Ref != out[j].Ref {
			return out[i].Ref < out[j].Ref
		}
		return out[i].Path < out[j].Path
	})
}

// lastAppliedAnnotation is kubectl's bookkeeping annotation: the whole object as last applied, in clear text.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// stripSecretCopies removes kubectl's last-applied-configuration annotation from Secrets: it holds
// the whole Secret, data included, in clear text, and an annotation is shown wherever metadata is
// (Argo CD's UI and API, kubectl describe, events), where Secret data is masked. The Secret's
// own data is left for Argo CD to apply.
func stripSecretCopies(manifests []kube.Manifest) []StrippedField {
	var out []StrippedField
	for _, m := range manifests {
		o := m.Object
		gvk := o.GroupVersionKind()
		if gvk.Group != "" || gvk.Kind != "Secret" {
			continue
		}
		ann := o.GetAnnotations()
		if _, ok := ann[lastAppliedAnnotation]; !ok {
			continue
		}
		md, _ := o.Object["metadata"].(map[string]any)
		a, _ := md["annotations"].(map[string]any)
		delete(a, lastAppliedAnnotation)
		if len(a) == 0 {
			delete(md, "annotations")
		}
		out = append(out, StrippedField{
			Ref:    kube.Ref(gvk.Group, gvk.Version, gvk.Kind, o.GetNamespace(), o.GetName()),
			Path:   drift.Pointer{"metadata", "annotations", lastAppliedAnnotation}.String(),
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

// EnvFromOS collects the ARGOCD_* variables of the plugin's environment.
func EnvFromOS() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "ARGOCD_") {
			env[k] = v
		}
	}
	return env
}
