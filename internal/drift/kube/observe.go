package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Source observes desired manifests against a cluster.
type Source struct {
	Cluster *Cluster
	// Audit, when set, names who made each change and checks who wrote under each field-manager
	// name (see Compare).
	Audit *AuditLog
	// Options configure Compare: UnitOptions(unit) gives a unit's, plus WithDigester.
	Options []CompareOption
}

type compareOptions struct {
	table                *drift.Table
	appliers             []string
	applierIdentities    []string
	controllerIdentities map[string][]string
	digester             *drift.Digester
	audit                *AuditLog
	auditResource        string
}

// CompareOption configures Compare.
type CompareOption func(*compareOptions)

// WithTable classifies field managers with t instead of the built-in table.
func WithTable(t *drift.Table) CompareOption { return func(o *compareOptions) { o.table = t } }

// WithDigester digests Secret data with the installation's key (see package digestkey).
func WithDigester(d *drift.Digester) CompareOption { return func(o *compareOptions) { o.digester = d } }

// WithAppliers adds field managers that apply Git's desired state (the unit's appliers).
func WithAppliers(names ...string) CompareOption {
	return func(o *compareOptions) { o.appliers = append(o.appliers, names...) }
}

// WithApplierIdentities adds audit-log usernames (globs, "*" not crossing ":") the applier writes
// as (the unit's applierIdentities), to the decision table's identities of each applier manager.
func WithApplierIdentities(usernames ...string) CompareOption {
	return func(o *compareOptions) { o.applierIdentities = append(o.applierIdentities, usernames...) }
}

// WithControllerIdentities adds, per controller field-manager name (glob), the audit-log
// usernames (globs) it writes as (the unit's controllerIdentities).
func WithControllerIdentities(m map[string][]string) CompareOption {
	return func(o *compareOptions) {
		if len(m) == 0 {
			return
		}
		if o.controllerIdentities == nil {
			o.controllerIdentities = map[string][]string{}
		}
		for k, v := range m {
			o.controllerIdentities[k] = append(o.controllerIdentities[k], v...)
		}
	}
}

// WithAudit gives Compare the API server's audit log: it names who made each change, and it is
// what lets a field-manager name stand for a controller or the applier (see Compare). A nil log
// is no log.
func WithAudit(a *AuditLog) CompareOption { return func(o *compareOptions) { o.audit = a } }

// withAuditResource names the object's resource as discovery says (Compare guesses it otherwise).
func withAuditResource(resource string) CompareOption {
	return func(o *compareOptions) { o.auditResource = resource }
}

// UnitOptions are the compare options a unit's policy implies (its appliers, applier identities
// and controller identities), followed by extra (WithAudit, WithDigester, WithTable). Every front
// end builds its options here, so none forgets one.
func UnitOptions(unit *drift.ManagedUnit, extra ...CompareOption) []CompareOption {
	var opts []CompareOption
	if unit != nil {
		opts = append(opts,
			WithAppliers(unit.Spec.Appliers...),
			WithApplierIdentities(unit.Spec.ApplierIdentities...),
			WithControllerIdentities(unit.Spec.ControllerIdentities))
	}
	return append(opts, extra...)
}

// NoAuditLogNote qualifies findings whose ownership came from field-manager names when no audit
// log was given.
const NoAuditLogNote = "Ownership rests on field-manager names only: no audit log was given."

// Ref renders the finding reference of an object: group/version/Kind/namespace/name, with empty
// segments for the core group and cluster-scoped objects (/v1/Service/web/api,
// rbac.authorization.k8s.io/v1/ClusterRole//view).
func Ref(group, version, kind, namespace, name string) string {
	return group + "/" + version + "/" + kind + "/" + namespace + "/" + name
}

// Observe reads every declared object live and returns one observation each, in manifest order
// sorted by reference. Any read error fails the whole observation.
func (s *Source) Observe(ctx context.Context, manifests []Manifest) ([]drift.Observation, error) {
	out := make([]drift.Observation, 0, len(manifests))
	for _, m := range manifests {
		t, err := s.Cluster.Resolve(m.Object)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", m.Source, err)
		}
		desired := m.Object.DeepCopy()
		if t.Namespaced {
			desired.SetNamespace(t.Namespace)
		}
		live, err := s.Cluster.Get(ctx, t, desired.GetName())
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", m.Source, err)
		}
		var liveObj map[string]any
		if live != nil {
			liveObj = live.Object
		}
		opts := append(append([]CompareOption(nil), s.Options...), withAuditResource(t.GVR.Resource))
		if s.Audit != nil {
			opts = append(opts, WithAudit(s.Audit))
		}
		obs, err := Compare(desired.Object, liveObj, opts...)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", m.Source, err)
		}
		out = append(out, obs)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

// Compare builds the observation of one desired object against its live counterpart (nil when
// it does not exist). It needs no cluster, so differential tests and benchmarks use it directly.
//
// Who owns a changed field comes from the live object's managedFields, but a field manager is a
// name the client chooses, so the name is trusted only as far as the evidence goes:
//
//   - A field Git declares is a controller's only when the audit log (WithAudit) holds writes to
//     the object under that manager, and all of them came from a service account or system:
//     identity, or from the identities the decision table or the unit maps to that manager. Without
//     an audit log, or without such writes, the change is judged as a person's (Git-owned). The
//     unit's ownership rules, which the core consults first, are the way to hand a field Git
//     declares to a controller without an audit log (e.g. /spec/replicas to an autoscaler).
//   - A field Git does not declare (counted only when some manager set it to a non-default value)
//     keeps the name's word, because Git never claimed it, unless the audit log shows writes under
//     that name from anyone else.
//   - An applier's fields are the recorded plane (a pending sync) when no audit log is given, and
//     with one only when the log's writes under the applier's name all came from the applier's
//     identities (the decision table's, WithApplierIdentities); a person writing under the
//     applier's name is a person.
//
// Without an audit log, the observation's OwnershipNote says that ownership rests on names only.
// Objects nested deeper than drift.MaxJSONDepth are an error.
func Compare(desired, live map[string]any, opts ...CompareOption) (drift.Observation, error) {
	o := compareOptions{table: drift.DefaultTable()}
	for _, opt := range opts {
		opt(&o)
	}
	apiVersion, _ := desired["apiVersion"].(string)
	kind, _ := desired["kind"].(string)
	group, version := splitAPIVersion(apiVersion)
	md, _ := desired["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	namespace, _ := md["namespace"].(string)
	obs := drift.Observation{
		Ref:          Ref(group, version, kind, namespace, name),
		Type:         group + "/" + kind,
		Group:        group,
		Kind:         kind,
		Namespace:    namespace,
		Name:         name,
		DesiredKnown: true,
	}
	if err := checkDepth(desired, drift.MaxJSONDepth); err != nil {
		return obs, fmt.Errorf("%s: desired object: %w", obs.Ref, err)
	}
	if err := checkDepth(live, drift.MaxJSONDepth); err != nil {
		return obs, fmt.Errorf("%s: live object: %w", obs.Ref, err)
	}
	nd := NormalizeWith(o.digester, desired)
	obs.Recorded, obs.Desired = nd.Object, nd.Object
	if live == nil {
		obs.Deleted = true
		obs.SensitivePaths = nd.SensitivePaths
		return obs, nil
	}
	// Policy rules give a migration window only to objects created before their since.
	obs.Created = drift.CreationTime(live)
	managers, err := ReadManagers(live)
	if err != nil {
		return obs, fmt.Errorf("%s: %w", obs.Ref, err)
	}
	managers = withImplicitOwners(group, kind, desired, managers)
	if lmd, ok := live["metadata"].(map[string]any); ok {
		if labels, ok := lmd["labels"].(map[string]any); ok {
			obs.Labels = map[string]string{}
			for k, v := range labels {
				obs.Labels[k] = fmt.Sprint(v)
			}
		}
	}
	nl := NormalizeWith(o.digester, live)
	obs.Actual = Prune(nl.Object, nd.Object, managers)
	obs.SensitivePaths = drift.UnionPointers(nd.SensitivePaths, nl.SensitivePaths)
	resource := o.auditResource
	if resource == "" {
		resource = Resource(group, kind)
	}
	j := &judge{opts: &o, managers: managers, desired: nd.Object, group: group, resource: resource, namespace: namespace, name: name}
	obs.FieldOwner = func(p drift.Pointer) (string, string) {
		v := j.verdict(p)
		return v.owner, v.kind
	}
	obs.ActorOf = func(p drift.Pointer) *drift.Actor { return j.verdict(p).actor }
	if o.audit == nil {
		obs.OwnershipNote = NoAuditLogNote
	}
	return obs, nil
}

func splitAPIVersion(av string) (group, version string) {
	for i := len(av) - 1; i >= 0; i-- {
		if av[i] == '/' {
			return av[:i], av[i+1:]
		}
	}
	return "", av
}

// withImplicitOwners adds owners the API server does not record: the rules of an aggregated
// ClusterRole are written by kube-controller-manager's clusterrole-aggregation controller, which
// old servers (and objects copied without managedFields) do not show.
func withImplicitOwners(group, kind string, desired map[string]any, ms Managers) Managers {
	if group == "rbac.authorization.k8s.io" && kind == "ClusterRole" && desired["aggregationRule"] != nil {
		set := fieldpath.NewSet(fieldpath.MakePathOrDie("rules"))
		ms = append(ms, managerEntry{name: "clusterrole-aggregation-controller", operation: "Update", time: "9999-12-31T23:59:59Z", set: set})
	}
	return ms
}

// Resource guesses a kind's plural resource name the way kubectl does when it has no discovery
// (Deployment → deployments, NetworkPolicy → networkpolicies), for matching audit events.
func Resource(group, kind string) string {
	plural, _ := meta.UnsafeGuessKindToResource(schema.GroupVersionKind{Group: group, Kind: kind})
	return plural.Resource
}

// ToObject converts a Go value to the JSON-shaped map an unstructured object holds, with integers
// as int64 as the API machinery expects (encoding/json would give float64).
func ToObject(v any) (map[string]any, error) {
	// Through JSON first, so custom marshalling and omitempty apply exactly as in canonical JSON.
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	return numbersToInt64(raw).(map[string]any), nil
}

func numbersToInt64(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToInt64(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersToInt64(e)
		}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	}
	return v
}
