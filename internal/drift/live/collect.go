package live

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
)

// Kind is a kind a unit manages: its API version and whether objects of it live in namespaces.
type Kind struct {
	Group, Version, Kind string
}

// Scope is what to read: the namespaces a unit manages and the (namespaced) kinds it manages.
type Scope struct {
	Namespaces []string
	Kinds      []Kind
}

// Collector reads a Snapshot from a cluster. It never modifies anything and never holds a
// Secret's value: Secrets are read through Metadata (PartialObjectMetadata); without it, through
// Dynamic with everything but metadata dropped as each list arrives. Either way the
// last-applied-configuration annotation, which kubectl apply fills with the whole Secret, is
// dropped too.
type Collector struct {
	Dynamic  dynamic.Interface
	Metadata metadata.Interface
}

// Resources read besides the managed kinds.
var (
	podsGVR           = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	secretsGVR        = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	sealedSecretsGVR  = schema.GroupVersionResource{Group: "bitnami.com", Version: "v1alpha1", Resource: "sealedsecrets"}
	externalSecretsV1 = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}
	externalSecretsB1 = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1beta1", Resource: "externalsecrets"}
)

// lastApplied is kubectl's annotation holding the whole applied object (a Secret's data with it).
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Collect lists the scope. A kind the collector may not list, or that the cluster does not
// serve, is a warning (its detector judges nothing, and says so); any other error fails the
// collection, so drift is unknown rather than clean.
func (c Collector) Collect(ctx context.Context, s Scope, resource func(group, kind string) string) (Snapshot, error) {
	var snap Snapshot
	namespaces := append([]string(nil), s.Namespaces...)
	sort.Strings(namespaces)
	warn := func(what string, err error) {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("%s not judged: %s", what, reasonOf(err)))
	}
	skippable := func(err error) bool {
		return apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err)
	}
	list := func(gvr schema.GroupVersionResource, ns string) ([]map[string]any, error) {
		l, err := c.Dynamic.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, 0, len(l.Items))
		for i := range l.Items {
			out = append(out, l.Items[i].Object)
		}
		return out, nil
	}
	secretsOK := true
	for _, ns := range namespaces {
		pods, err := list(podsGVR, ns)
		switch {
		case err == nil:
			snap.Pods = append(snap.Pods, pods...)
		case skippable(err):
			warn("Pods in "+ns+" (image digests, secret consumers)", err)
		default:
			return Snapshot{}, fmt.Errorf("listing Pods in %s: %w", ns, err)
		}
		secrets, err := c.secretMetadata(ctx, ns)
		switch {
		case err == nil:
			snap.Secrets = append(snap.Secrets, secrets...)
		case skippable(err):
			secretsOK = false
			warn("Secrets' metadata in "+ns, err)
		default:
			return Snapshot{}, fmt.Errorf("listing Secrets' metadata in %s: %w", ns, err)
		}
		es, err := list(externalSecretsV1, ns)
		if apierrors.IsNotFound(err) {
			es, err = list(externalSecretsB1, ns)
		}
		switch {
		case err == nil:
			snap.ExternalSecrets = append(snap.ExternalSecrets, withoutMessages(es)...)
		case apierrors.IsNotFound(err):
			// external-secrets is not installed.
		case skippable(err):
			warn("ExternalSecrets in "+ns, err)
		default:
			return Snapshot{}, fmt.Errorf("listing ExternalSecrets in %s: %w", ns, err)
		}
		ss, err := list(sealedSecretsGVR, ns)
		switch {
		case err == nil:
			snap.SealedSecrets = append(snap.SealedSecrets, withoutMessages(ss)...)
		case apierrors.IsNotFound(err):
		case skippable(err):
			warn("SealedSecrets in "+ns, err)
		default:
			return Snapshot{}, fmt.Errorf("listing SealedSecrets in %s: %w", ns, err)
		}
		for _, k := range s.Kinds {
			if k.Group == "" && k.Kind == "Secret" {
				if secretsOK {
					snap.Objects = append(snap.Objects, secrets...)
				}
				continue
			}
			gvr := schema.GroupVersionResource{Group: k.Group, Version: k.Version, Resource: resource(k.Group, k.Kind)}
			objs, err := list(gvr, ns)
			switch {
			case err == nil:
				snap.Objects = append(snap.Objects, objs...)
			case skippable(err):
				warn(fmt.Sprintf("unmanaged %s objects in %s", k.Kind, ns), err)
			default:
				return Snapshot{}, fmt.Errorf("listing %s in %s: %w", gvr.Resource, ns, err)
			}
		}
	}
	snap.SecretsListed = secretsOK && len(namespaces) > 0
	return snap, nil
}

// secretMetadata lists a namespace's Secrets as apiVersion, kind and metadata only.
func (c Collector) secretMetadata(ctx context.Context, ns string) ([]map[string]any, error) {
	var metas []metav1.ObjectMeta
	if c.Metadata != nil {
		l, err := c.Metadata.Resource(secretsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			metas = append(metas, l.Items[i].ObjectMeta)
		}
	} else {
		l, err := c.Dynamic.Resource(secretsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			u := &l.Items[i]
			var m metav1.ObjectMeta
			md, _ := u.Object["metadata"].(map[string]any)
			err := runtime.DefaultUnstructuredConverter.FromUnstructured(md, &m)
			// The value goes at once, whatever happens next.
			u.Object = nil
			if err != nil {
				return nil, fmt.Errorf("secret metadata: %w", err)
			}
			metas = append(metas, m)
		}
		l.Items = nil
	}
	out := make([]map[string]any, 0, len(metas))
	for i := range metas {
		m := metas[i]
		// Who wrote and when is all the detectors read of managedFields; the field sets (which
		// name the data's keys) are not kept.
		mfs := make([]metav1.ManagedFieldsEntry, len(m.ManagedFields))
		for j, mf := range m.ManagedFields {
			mfs[j] = metav1.ManagedFieldsEntry{Manager: mf.Manager, Operation: mf.Operation, Time: mf.Time, Subresource: mf.Subresource, APIVersion: mf.APIVersion}
		}
		m.ManagedFields = mfs
		if _, ok := m.Annotations[lastApplied]; ok {
			ann := make(map[string]string, len(m.Annotations))
			for k, v := range m.Annotations {
				if k != lastApplied {
					ann[k] = v
				}
			}
			m.Annotations = ann
		}
		md, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&m)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": md})
	}
	return out, nil
}

func reasonOf(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return "the reporter may not list them (RBAC)"
	case apierrors.IsNotFound(err):
		return "the cluster does not serve them"
	}
	return err.Error()
}

// withoutMessages drops status.conditions[].message from secret-sync objects as they are read:
// a provider's error may quote what it fetched, and no detector reads it.
func withoutMessages(objs []map[string]any) []map[string]any {
	for _, o := range objs {
		st, _ := o["status"].(map[string]any)
		conds, _ := st["conditions"].([]any)
		for _, c := range conds {
			if cm, ok := c.(map[string]any); ok {
				delete(cm, "message")
			}
		}
	}
	return objs
}
