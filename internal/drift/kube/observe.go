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
	// Audit, when set, names who made each change.
	Audit *AuditLog
	// Options configure Compare (decision table, the unit's appliers).
	Options []CompareOption
}

type compareOptions struct {
	table    *drift.Table
	appliers []string
	digester *drift.Digester
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
		obs, err := Compare(desired.Object, liveObj, s.Options...)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", m.Source, err)
		}
		if s.Audit != nil && live != nil {
			managers, _ := ReadManagers(live.Object)
			gvr, ns, name := t.GVR, t.Namespace, desired.GetName()
			audit := s.Audit
			prev := obs.ActorOf
			obs.ActorOf = func(p drift.Pointer) *drift.Actor {
				owner, _ := managers.Owner(p)
				if a := audit.LastWrite(gvr.Group, gvr.Resource, ns, name, owner); a != nil {
					return a
				}
				return prev(p)
			}
		}
		out = append(out, obs)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

// Compare builds the observation of one desired object against its live counterpart (nil when
// it does not exist). It needs no cluster, so differential tests and benchmarks use it directly.
func Compare(desired, live map[string]any, opts ...CompareOption) (drift.Observation, error) {
	o := compareOptions{table: drift.DefaultTable()}
	for _, opt := range opts {
		opt(&o)
	}
	table := o.table
	kindOf := func(manager string) string { return table.ManagerKind(manager, o.appliers...) }
	nd := NormalizeWith(o.digester, desired)
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
		Recorded:     nd.Object,
		Desired:      nd.Object,
		DesiredKnown: true,
	}
	if live == nil {
		obs.Deleted = true
		obs.SensitivePaths = nd.SensitivePaths
		return obs, nil
	}
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
	obs.FieldOwner = func(p drift.Pointer) (string, string) {
		owner, ok := managers.Owner(p)
		if !ok {
			return "", ""
		}
		return owner, kindOf(owner)
	}
	obs.ActorOf = func(p drift.Pointer) *drift.Actor {
		owner, ok := managers.Owner(p)
		if !ok {
			return nil
		}
		kind := kindOf(owner)
		if kind == "" || kind == drift.ManagerApplier {
			kind = drift.ActorUnknown
		}
		// Without an audit log the field manager is all we know of who changed it.
		return &drift.Actor{Manager: owner, Kind: kind}
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
