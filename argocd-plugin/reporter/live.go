package reporter

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/drift/live"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
)

// MaxRecordedImages bounds the image digests a status keeps for the next evaluation.
const MaxRecordedImages = 500

// withLive wraps req's source so the evaluation also judges what runs beside the declared
// objects, in the namespaces and of the kinds the application manages: the Pods' image digests
// (against the digests the previous status recorded for the same sync revision), secret delivery
// (ExternalSecrets, SealedSecrets, Secrets' metadata only) and unmanaged objects, and the live
// objects the unit's policy rules judge. It runs only with a metadata-only client (Config.Metadata)
// beside the dynamic one, so Secrets are never fetched with their values. A list that fails for
// any reason but RBAC or a kind the cluster does not serve fails the evaluation.
func (c *Controller) withLive(ctx context.Context, req *pipeline.Request, app *unstructured.Unstructured, resources []ResourceDiff, prev *Status, now time.Time) (*pipeline.LiveObjects, error) {
	if c.cfg.Dynamic == nil || c.cfg.Metadata == nil {
		return nil, nil
	}
	declared := map[live.ObjectKey]bool{}
	extraneous := map[live.ObjectKey]bool{}
	namespaces := map[string]bool{}
	kinds := map[live.Kind]bool{}
	for _, r := range resources {
		if r.Hook {
			continue
		}
		k := live.ObjectKey{Group: r.Group, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
		if r.TargetState == "" || r.TargetState == "null" {
			extraneous[k] = true
			continue
		}
		declared[k] = true
		if r.Namespace == "" || r.Group == drift.GroupName {
			continue
		}
		namespaces[r.Namespace] = true
		var target struct {
			APIVersion string `json:"apiVersion"`
		}
		if json.Unmarshal([]byte(r.TargetState), &target) == nil && target.APIVersion != "" {
			_, version, _ := strings.Cut(target.APIVersion, "/")
			if !strings.Contains(target.APIVersion, "/") {
				version = target.APIVersion
			}
			kinds[live.Kind{Group: r.Group, Version: version, Kind: r.Kind}] = true
		}
	}
	scope := live.Scope{}
	for ns := range namespaces {
		scope.Namespaces = append(scope.Namespaces, ns)
	}
	for k := range kinds {
		scope.Kinds = append(scope.Kinds, k)
	}
	sort.Strings(scope.Namespaces)
	sort.Slice(scope.Kinds, func(i, j int) bool {
		return scope.Kinds[i].Group+"/"+scope.Kinds[i].Kind < scope.Kinds[j].Group+"/"+scope.Kinds[j].Kind
	})
	snap, err := live.Collector{Dynamic: c.cfg.Dynamic, Metadata: c.cfg.Metadata}.Collect(ctx, scope, kube.Resource)
	if err != nil {
		return nil, failf(ReasonFailed, "reading what runs in the application's namespaces, so drift is unknown: %v", err)
	}
	revision, _, _ := unstructured.NestedString(app.Object, "status", "sync", "revision")
	lc := live.Context{
		Now:              now,
		App:              instanceName(app, c.cfg.ArgoNamespace),
		Declared:         declared,
		Extraneous:       extraneous,
		KnownApps:        c.knownApps(),
		InstanceLabelKey: c.cfg.InstanceLabelKey,
		OwnerExists:      c.ownerExists(ctx),
		Revision:         revision,
	}
	if prev != nil {
		lc.Recorded = prev.Images
	}
	src := &pipeline.LiveObjects{Source: req.Source, Snapshot: snap, Context: lc,
		Label: "what runs in the namespaces of application " + app.GetNamespace() + "/" + app.GetName()}
	req.Source = src
	return src, nil
}

// knownApps are the instance names of the applications the reporter watches: a tracking id
// naming any other application is not believed.
func (c *Controller) knownApps() func(string) bool {
	names := map[string]bool{}
	for _, key := range c.informer.GetIndexer().ListKeys() {
		ns, name, err := cache.SplitMetaNamespaceKey(key)
		if err != nil {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetNamespace(ns)
		u.SetName(name)
		names[instanceName(u, c.cfg.ArgoNamespace)] = true
	}
	return func(n string) bool { return names[n] }
}

// ownerExists looks an owner reference up: the owner must exist with the uid the reference
// names. An owner the reporter may not read is believed (a finding it cannot back would be
// noise); one that is gone is not.
func (c *Controller) ownerExists(ctx context.Context) func(string, live.OwnerRef) bool {
	return func(namespace string, o live.OwnerRef) bool {
		gv, err := schema.ParseGroupVersion(o.APIVersion)
		if err != nil {
			return false
		}
		gvr := gv.WithResource(kube.Resource(gv.Group, o.Kind))
		got, err := c.cfg.Dynamic.Resource(gvr).Namespace(namespace).Get(ctx, o.Name, metav1.GetOptions{})
		switch {
		case err == nil:
			return string(got.GetUID()) == o.UID
		case apierrors.IsNotFound(err):
			// A cluster-scoped owner is looked up without a namespace.
			got, err = c.cfg.Dynamic.Resource(gvr).Get(ctx, o.Name, metav1.GetOptions{})
			return err == nil && string(got.GetUID()) == o.UID
		}
		return true
	}
}

// liveStatus adds what the live detectors found to the status: the digests to compare against
// next time (bounded), what could not be judged, and unmanaged objects in the inventory.
func liveStatus(st *Status, src *pipeline.LiveObjects) {
	if src == nil || src.Found == nil {
		return
	}
	f := src.Found
	if len(f.Digests) > 0 {
		keys := make([]string, 0, len(f.Digests))
		for k := range f.Digests {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) > MaxRecordedImages {
			keys = keys[:MaxRecordedImages]
		}
		st.Images = make(map[string]string, len(keys))
		for _, k := range keys {
			st.Images[k] = f.Digests[k]
		}
	}
	st.Warnings = append(st.Warnings, f.Warnings...)
	if st.Inventory != nil && f.Unmanaged > 0 {
		inv := *st.Inventory
		inv.Expected += f.Unmanaged
		inv.Unmanaged = f.Unmanaged
		st.Inventory = &inv
	}
}
