package live

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// builtinExpected are objects Kubernetes itself puts in every namespace without an owner
// reference; they are nobody's drift.
func builtinExpected(k ObjectKey, obj map[string]any) bool {
	switch {
	case k.Group == "" && k.Kind == "ConfigMap" && k.Name == "kube-root-ca.crt":
		return true
	case k.Group == "" && k.Kind == "ServiceAccount" && k.Name == "default":
		return true
	case k.Group == "" && k.Kind == "Secret" && str(obj, "metadata", "annotations", "kubernetes.io/service-account.name") != "":
		// A service account token Secret; its value is never read here.
		return true
	}
	return false
}

// trackedElsewhere reports whether Argo CD tracking places the object in another, existing
// application. A tracking id counts only when it names this very object (Argo CD ignores one
// copied onto another object) and an application KnownApps knows; one naming this application
// is not believed when Argo CD does not list the object for it (claim says so).
func trackedElsewhere(k ObjectKey, obj map[string]any, c Context) (owner string, claim string) {
	if id := str(obj, "metadata", "annotations", TrackingAnnotation); id != "" {
		app, gk, nsName, ok := parseTrackingID(id)
		switch {
		case !ok:
			return "", fmt.Sprintf("its tracking id %q is malformed", truncate(id))
		case gk != k.Group+"/"+k.Kind || nsName != k.Namespace+"/"+k.Name:
			return "", fmt.Sprintf("its tracking id names %s %s, not this object", gk, nsName)
		case app == c.App:
			return "", "its tracking id names this application, which does not list it"
		case c.KnownApps == nil || !c.KnownApps(app):
			return "", fmt.Sprintf("its tracking id names application %q, which does not exist", truncate(app))
		}
		return app, ""
	}
	if v := str(obj, "metadata", "labels", c.InstanceLabelKey); v != "" {
		switch {
		case v == c.App:
			return "", fmt.Sprintf("its %s label names this application, which does not list it", c.InstanceLabelKey)
		case c.KnownApps == nil || !c.KnownApps(v):
			return "", fmt.Sprintf("its %s label names application %q, which does not exist", c.InstanceLabelKey, truncate(v))
		}
		return v, ""
	}
	return "", ""
}

// parseTrackingID reads Argo CD's tracking id: <app>:<group>/<Kind>:<namespace>/<name>.
func parseTrackingID(id string) (app, groupKind, nsName string, ok bool) {
	app, rest, ok1 := strings.Cut(id, ":")
	groupKind, nsName, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || app == "" || !strings.Contains(groupKind, "/") || !strings.Contains(nsName, "/") {
		return "", "", "", false
	}
	// Argo CD writes an application outside its own namespace as <namespace>_<name>.
	return app, groupKind, nsName, true
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// ownedBy reports whether an owner reference points at an existing object: among the snapshot's
// objects by uid, else through Context.OwnerExists (believed when nil). A forged reference to a
// missing owner is not ownership: the garbage collector would have deleted a real orphan's
// dependents, so one that stays is nobody's.
func ownedBy(obj map[string]any, uids map[string]bool, c Context) (bool, string) {
	refs := ownerRefs(obj)
	if len(refs) == 0 {
		return false, ""
	}
	ns := str(obj, "metadata", "namespace")
	var missing []string
	for _, o := range refs {
		if o.UID != "" && uids[o.UID] {
			return true, ""
		}
		if c.OwnerExists == nil || c.OwnerExists(ns, o) {
			return true, ""
		}
		missing = append(missing, o.Kind+" "+o.Name)
	}
	return false, "its ownerReferences name " + strings.Join(missing, ", ") + ", which do not exist"
}

// detectUnmanaged: objects of the kinds the unit manages, in its namespaces, that Git does not
// declare, no existing owner holds, Argo CD does not track for another application, Kubernetes
// did not put there itself, and the unit does not allow.
func detectUnmanaged(r *Result, objs []map[string]any, c Context) {
	uids := map[string]bool{}
	for _, o := range objs {
		if uid := str(o, "metadata", "uid"); uid != "" {
			uids[uid] = true
		}
	}
	for _, obj := range objs {
		k := KeyOf(obj)
		if c.Declared[k] || c.Extraneous[k] || builtinExpected(k, obj) || str(obj, "metadata", "deletionTimestamp") != "" {
			continue
		}
		owned, ownerNote := ownedBy(obj, uids, c)
		if owned {
			continue
		}
		other, claim := trackedElsewhere(k, obj, c)
		if other != "" {
			continue
		}
		labels := stringMap(get(obj, "metadata", "labels"))
		if _, ok := c.Unit.UnmanagedAllowed(k.Group, k.Kind, k.Namespace, k.Name, labels); ok {
			r.Allowed++
			continue
		}
		r.Unmanaged++
		_, version := splitAPIVersion(str(obj, "apiVersion"))
		var notes []string
		for _, n := range []string{ownerNote, claim} {
			if n != "" {
				notes = append(notes, n)
			}
		}
		what := "no Git source declares it, no controller owns it and no Argo CD application tracks it"
		if len(notes) > 0 {
			what += " (" + strings.Join(notes, "; ") + ")"
		}
		created, _ := timeAt(obj, "metadata", "creationTimestamp")
		r.Observations = append(r.Observations, observation(k.Group, version, k.Kind, k.Namespace, k.Name, &drift.LiveCheck{
			Change: drift.ChangeUnmanaged,
			Explanation: fmt.Sprintf("%s %s/%s runs in a namespace the application manages, created %s (%s ago), but %s. Import it into Git, or delete it after review; an expected one goes in the unit's unmanagedAllowed",
				k.Kind, k.Namespace, k.Name, fmtTime(created), drift.LiveAge(c.Now, created), what),
			Facts: struct{ UID, ResourceVersion string }{str(obj, "metadata", "uid"), str(obj, "metadata", "resourceVersion")},
		}))
	}
}

// policyResources are the live objects Git does not declare (Pods, and listed objects of the
// managed kinds) for the unit's policy rules, each with its creation time, as the API serves
// them (a rule reads object.spec.containers as a list, like a ValidatingAdmissionPolicy). A
// Secret's data never reaches them: Secrets are listed as metadata, and data is dropped besides.
func policyResources(r *Result, pods, objs []map[string]any, c Context) {
	if c.Unit == nil || len(c.Unit.Spec.PolicyRules) == 0 {
		return
	}
	add := func(obj map[string]any) {
		k := KeyOf(obj)
		if c.Declared[k] {
			return
		}
		_, version := splitAPIVersion(str(obj, "apiVersion"))
		v := runtime.DeepCopyJSON(obj)
		if k.Group == "" && k.Kind == "Secret" {
			delete(v, "data")
			delete(v, "stringData")
		}
		if md, ok := v["metadata"].(map[string]any); ok {
			delete(md, "managedFields")
		}
		r.Resources = append(r.Resources, drift.Observation{
			Ref: kube.Ref(k.Group, version, k.Kind, k.Namespace, k.Name), Type: k.Group + "/" + k.Kind,
			Group: k.Group, Kind: k.Kind, Namespace: k.Namespace, Name: k.Name,
			Labels:   stringMap(get(obj, "metadata", "labels")),
			Recorded: v, Actual: v,
			Created: drift.CreationTime(obj),
		})
	}
	for _, p := range pods {
		add(p)
	}
	for _, o := range sortedObjects(objs) {
		add(o)
	}
}
