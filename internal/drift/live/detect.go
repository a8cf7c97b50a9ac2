package live

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// Snapshot is what runs in the namespaces a unit manages, as JSON-shaped objects.
type Snapshot struct {
	// Pods are the namespaces' Pods.
	Pods []map[string]any
	// Secrets are Secrets' metadata only (apiVersion, kind, metadata): Collect reads them with a
	// metadata-only client and never holds their data.
	Secrets []map[string]any
	// ExternalSecrets (external-secrets.io v1beta1 or v1) and SealedSecrets (bitnami.com).
	ExternalSecrets []map[string]any
	SealedSecrets   []map[string]any
	// Objects are the live objects of the kinds the unit manages (Secrets among them as
	// metadata only).
	Objects []map[string]any
	// SecretsListed says Secrets' metadata could be read; without it the consumers of a Secret
	// and a SealedSecret's Secret are not judged (Result.Warnings says so).
	SecretsListed bool
	// Warnings are what could not be read (a kind the reporter may not list).
	Warnings []string
}

// ObjectKey names an object: group, kind, namespace and name.
type ObjectKey struct{ Group, Kind, Namespace, Name string }

// KeyOf is an object's key.
func KeyOf(obj map[string]any) ObjectKey {
	av, _ := obj["apiVersion"].(string)
	group := ""
	if i := strings.LastIndex(av, "/"); i >= 0 {
		group = av[:i]
	}
	kind, _ := obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	return ObjectKey{group, kind, ns, name}
}

// Context is what the detectors judge the snapshot against.
type Context struct {
	Unit *drift.ManagedUnit
	Now  time.Time
	// App is the Argo CD application's instance name (its tracking ids start with "App:").
	App string
	// Declared are the objects Git declares (Argo CD's target states).
	Declared map[ObjectKey]bool
	// Extraneous are objects Argo CD tracks for the application without a target (it prunes
	// them or reports them OutOfSync): left to Argo CD.
	Extraneous map[ObjectKey]bool
	// KnownApps reports whether an application of this instance name exists; a tracking id
	// naming an unknown application is not believed. Nil believes none.
	KnownApps func(name string) bool
	// InstanceLabelKey is Argo CD's label tracking key (default app.kubernetes.io/instance).
	InstanceLabelKey string
	// OwnerExists reports whether an owner reference points at an existing object with that uid;
	// nil checks only among the snapshot's objects and believes the rest.
	OwnerExists func(namespace string, ref OwnerRef) bool
	// Recorded are the image digests recorded at earlier evaluations (RecordKey → digest).
	Recorded map[string]string
	// Revision is the sync revision the records are keyed by.
	Revision string
	// RefreshBound is how late an ExternalSecret's refresh may be beyond its interval, and how
	// long a new ExternalSecret or SealedSecret may go without status (default 10m).
	RefreshBound time.Duration
	// Digester keys digests of Secret-bearing objects judged by policy rules.
	Digester *drift.Digester
}

// OwnerRef is one metadata.ownerReferences entry.
type OwnerRef struct {
	APIVersion, Kind, Name, UID string
	Controller                  bool
}

// DefaultRefreshBound is Context.RefreshBound's default.
const DefaultRefreshBound = 10 * time.Minute

// TrackingAnnotation is Argo CD's annotation tracking key.
const TrackingAnnotation = "argocd.argoproj.io/tracking-id"

// Result is what the detectors found.
type Result struct {
	// Observations are drift.LiveCheck and drift.MutableReference observations.
	Observations []drift.Observation
	// Resources are the live objects Git does not declare (Pods, undeclared objects), with their
	// creation time, for the unit's policy rules.
	Resources []drift.Observation
	// Digests are the digests each workload's image runs now (RecordKey → digest), for the
	// next evaluation's Recorded; only unambiguous ones are kept.
	Digests map[string]string
	// Unmanaged counts unmanaged objects (findings), Allowed those the unit allows.
	Unmanaged, Allowed int
	// Warnings are what could not be judged.
	Warnings []string
}

// Detect runs every detector over the snapshot.
func Detect(s Snapshot, c Context) Result {
	if c.RefreshBound <= 0 {
		c.RefreshBound = DefaultRefreshBound
	}
	if c.InstanceLabelKey == "" {
		c.InstanceLabelKey = "app.kubernetes.io/instance"
	}
	r := Result{Digests: map[string]string{}, Warnings: append([]string(nil), s.Warnings...)}
	pods := sortedObjects(s.Pods)
	detectImages(&r, pods, c)
	detectSecretSync(&r, s, c)
	if s.SecretsListed {
		detectSecretConsumers(&r, sortedObjects(s.Secrets), pods, c)
	} else if len(pods) > 0 || len(s.SealedSecrets) > 0 {
		// Only where something could consume a Secret or lack one: no namespaces, no warning.
		r.Warnings = append(r.Warnings, "Secrets' metadata could not be listed, so Pods still running an old version of a Secret and SealedSecrets without their Secret were not judged")
	}
	detectUnmanaged(&r, sortedObjects(s.Objects), c)
	policyResources(&r, pods, s.Objects, c)
	sort.SliceStable(r.Observations, func(i, j int) bool { return r.Observations[i].Ref < r.Observations[j].Ref })
	return r
}

func sortedObjects(objs []map[string]any) []map[string]any {
	out := append([]map[string]any(nil), objs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := KeyOf(out[i]), KeyOf(out[j])
		return kube.Ref(a.Group, "", a.Kind, a.Namespace, a.Name) < kube.Ref(b.Group, "", b.Kind, b.Namespace, b.Name)
	})
	return out
}

// observation is an observation of one object for a LiveCheck.
func observation(group, version, kind, namespace, name string, lc *drift.LiveCheck) drift.Observation {
	return drift.Observation{
		Ref: kube.Ref(group, version, kind, namespace, name), Type: group + "/" + kind,
		Group: group, Kind: kind, Namespace: namespace, Name: name, Live: lc,
	}
}

// Helpers reading JSON-shaped objects.

func str(m map[string]any, path ...string) string {
	v, _ := get(m, path...).(string)
	return v
}

func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func list(m map[string]any, path ...string) []map[string]any {
	l, _ := get(m, path...).([]any)
	out := make([]map[string]any, 0, len(l))
	for _, e := range l {
		if em, ok := e.(map[string]any); ok {
			out = append(out, em)
		}
	}
	return out
}

func timeAt(m map[string]any, path ...string) (time.Time, bool) {
	s := str(m, path...)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func ownerRefs(obj map[string]any) []OwnerRef {
	var out []OwnerRef
	for _, o := range list(obj, "metadata", "ownerReferences") {
		c, _ := o["controller"].(bool)
		out = append(out, OwnerRef{APIVersion: str(o, "apiVersion"), Kind: str(o, "kind"), Name: str(o, "name"), UID: str(o, "uid"), Controller: c})
	}
	return out
}

func stringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		out[k] = fmt.Sprint(e)
	}
	return out
}

func splitAPIVersion(av string) (group, version string) {
	if i := strings.LastIndex(av, "/"); i >= 0 {
		return av[:i], av[i+1:]
	}
	return "", av
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
