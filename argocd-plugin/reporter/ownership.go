package reporter

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Argo CD's resource tracking: the annotation Argo CD v3 writes by default
// ("<app instance>:<group>/<kind>:<namespace>/<name>") and the label of label tracking.
const (
	TrackingAnnotation      = "argocd.argoproj.io/tracking-id"
	DefaultInstanceLabelKey = "app.kubernetes.io/instance"
	// DefaultArgoNamespace is where Argo CD's application controller runs.
	DefaultArgoNamespace = "argocd"
)

// reportRef names a DriftReport.
type reportRef struct{ Namespace, Name string }

func (r reportRef) String() string { return r.Namespace + "/" + r.Name }

// driftReportsOf lists the DriftReports among the resources Argo CD manages for the application.
func driftReportsOf(app *unstructured.Unstructured) []reportRef {
	resources, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	var out []reportRef
	for _, r := range resources {
		m, _ := r.(map[string]any)
		if m["group"] == drift.GroupName && m["kind"] == drift.KindDriftReport {
			ns, _ := m["namespace"].(string)
			n, _ := m["name"].(string)
			if n != "" {
				out = append(out, reportRef{ns, n})
			}
		}
	}
	return out
}

// instanceName is the name Argo CD tracks an application's resources under and passes to the
// plugin as ARGOCD_APP_NAME: the bare name in Argo CD's own namespace, "namespace_name" in any
// other (Application.InstanceName).
func instanceName(app *unstructured.Unstructured, argoNamespace string) string {
	if app.GetNamespace() == "" || app.GetNamespace() == argoNamespace {
		return app.GetName()
	}
	return app.GetNamespace() + "_" + app.GetName()
}

// checkOwnReport refuses a DriftReport that is not the application's own: its spec.application
// must name the application (as the plugin wrote it from ARGOCD_APP_NAME), and Argo CD's tracking
// (the annotation, or the instance label when there is no annotation) must say the application
// manages this very object. A report copied from another application, or declared by one
// application in another's name, is never used.
func checkOwnReport(app, dr *unstructured.Unstructured, argoNamespace, labelKey string) error {
	want := instanceName(app, argoNamespace)
	appKey := app.GetNamespace() + "/" + app.GetName()
	what := "DriftReport " + dr.GetNamespace() + "/" + dr.GetName()
	claimed, found, _ := unstructured.NestedString(dr.Object, "spec", "application", "name")
	switch {
	case !found || claimed == "":
		return failf(ReasonNotOwnReport, "%s names no application (spec.application), so it is not application %s's; its policy is not used", what, appKey)
	case claimed != want:
		return failf(ReasonNotOwnReport, "%s belongs to application %q, not %s (instance %q); its policy is not used", what, claimed, appKey, want)
	}
	if id, ok := dr.GetAnnotations()[TrackingAnnotation]; ok {
		trackedApp, rest, _ := strings.Cut(id, ":")
		self := drift.GroupName + "/" + drift.KindDriftReport + ":" + dr.GetNamespace() + "/" + dr.GetName()
		switch {
		case trackedApp != want:
			return failf(ReasonNotOwnReport, "%s is tracked by Argo CD for application %q (%s=%q), not %s (instance %q); its policy is not used",
				what, trackedApp, TrackingAnnotation, id, appKey, want)
		case rest != self:
			return failf(ReasonNotOwnReport, "%s carries tracking %q for another object (want %q): copied, not applied by Argo CD; its policy is not used",
				what, id, want+":"+self)
		}
		return nil
	}
	if labelKey == "" {
		labelKey = DefaultInstanceLabelKey
	}
	if v, ok := dr.GetLabels()[labelKey]; ok {
		if v != want {
			return failf(ReasonNotOwnReport, "%s is tracked by Argo CD for application %q (label %s), not %s (instance %q); its policy is not used",
				what, v, labelKey, appKey, want)
		}
		return nil
	}
	return failf(ReasonNotOwnReport, "%s carries no Argo CD tracking (annotation %s or label %s), so nothing ties it to application %s; its policy is not used",
		what, TrackingAnnotation, labelKey, appKey)
}

// checkSoleClaim refuses a DriftReport that more than one application lists: whichever of them
// is evaluated, the report cannot stand for it.
func checkSoleClaim(appKey string, ref reportRef, claimants []string) error {
	var others []string
	for _, c := range claimants {
		if c != appKey {
			others = append(others, c)
		}
	}
	if len(others) == 0 {
		return nil
	}
	sort.Strings(others)
	return failf(ReasonNotOwnReport, "DriftReport %s is listed by application %s and also by %s: a DriftReport belongs to one application, so drift is unknown until only one declares it",
		ref, appKey, strings.Join(others, ", "))
}

// checkAppCompared refuses an application Argo CD could not compare: its managed-resources answer
// then holds no (or stale) target state, and judging it would read "could not tell" as "clean".
func checkAppCompared(app *unstructured.Unstructured) error {
	appKey := app.GetNamespace() + "/" + app.GetName()
	conds, _, _ := unstructured.NestedSlice(app.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		typ, _ := m["type"].(string)
		msg, _ := m["message"].(string)
		switch typ {
		case ReasonComparisonError, ReasonInvalidSpec:
			return failf(typ, "Argo CD reports %s on application %s, so its target state is not Git's and drift is unknown: %s", typ, appKey, msg)
		}
	}
	if s, _, _ := unstructured.NestedString(app.Object, "status", "sync", "status"); s == "Unknown" {
		return failf(ReasonSyncUnknown, "Argo CD reports the sync status of application %s as Unknown, so drift is unknown", appKey)
	}
	return nil
}

// reportTargetSpec returns the spec of the application's DriftReport as Git renders it (its
// target state in argocd-server's answer), refusing an answer that does not hold it. The policy
// comes from there, never from the live object: whoever can edit a DriftReport in the cluster
// must not be able to loosen the policy until the next sync puts Git's back.
func reportTargetSpec(resources []ResourceDiff, ref reportRef, appKey string) (map[string]any, error) {
	for _, r := range resources {
		if r.Group != drift.GroupName || r.Kind != drift.KindDriftReport || r.Namespace != ref.Namespace || r.Name != ref.Name {
			continue
		}
		if r.TargetState == "" || r.TargetState == "null" {
			return nil, failf(ReasonIncompleteAnswer, "argocd-server's answer for application %s has no target state for its DriftReport %s, so drift is unknown", appKey, ref)
		}
		target, err := decodeState(r.TargetState)
		if err != nil {
			return nil, failf(ReasonIncompleteAnswer, "argocd-server's answer for application %s: target state of DriftReport %s: %v", appKey, ref, err)
		}
		spec, ok := target["spec"].(map[string]any)
		if !ok {
			return nil, failf(ReasonIncompleteAnswer, "argocd-server's answer for application %s: the target state of DriftReport %s has no spec", appKey, ref)
		}
		return spec, nil
	}
	return nil, failf(ReasonIncompleteAnswer, "argocd-server's answer for application %s does not hold its DriftReport %s (%d managed resources), so drift is unknown",
		appKey, ref, len(resources))
}

// automatedSync reports whether the application syncs itself (spec.syncPolicy.automated, not
// explicitly disabled).
func automatedSync(app *unstructured.Unstructured) bool {
	auto, found, _ := unstructured.NestedFieldNoCopy(app.Object, "spec", "syncPolicy", "automated")
	m, ok := auto.(map[string]any)
	if !found || !ok {
		return false
	}
	if enabled, ok := m["enabled"].(bool); ok && !enabled {
		return false
	}
	return true
}

// reportIndex indexes applications by the DriftReports they list.
func reportIndex(obj any) ([]string, error) {
	app, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, nil
	}
	var keys []string
	for _, r := range driftReportsOf(app) {
		keys = append(keys, r.String())
	}
	return keys, nil
}
