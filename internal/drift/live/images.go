package live

import (
	"fmt"
	"sort"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// workload is what a Pod runs for: its controller (a ReplicaSet's Deployment), or the Pod itself.
type workload struct {
	group, version, kind, namespace, name string
}

func (w workload) ref() string {
	return w.group + "/" + w.version + "/" + w.kind + "/" + w.namespace + "/" + w.name
}

// containersPath is where the workload names its containers' images.
func (w workload) containersPath() string {
	switch {
	case w.kind == "Pod" && w.group == "":
		return "/spec/containers"
	case w.kind == "CronJob":
		return "/spec/jobTemplate/spec/template/spec/containers"
	}
	return "/spec/template/spec/containers"
}

func (w workload) String() string {
	g := w.group
	if g != "" {
		g += "/"
	}
	return g + w.kind + " " + w.namespace + "/" + w.name
}

// workloadOf follows a Pod's controller reference one step, and a ReplicaSet whose name is its
// Deployment's plus the Pod's pod-template-hash to the Deployment (the ReplicaSet controller
// names them so); a Pod without a controller is its own workload.
func workloadOf(pod map[string]any) workload {
	ns := str(pod, "metadata", "namespace")
	for _, o := range ownerRefs(pod) {
		if !o.Controller {
			continue
		}
		group, version := splitAPIVersion(o.APIVersion)
		if group == "apps" && o.Kind == "ReplicaSet" {
			if hash := str(pod, "metadata", "labels", "pod-template-hash"); hash != "" && strings.HasSuffix(o.Name, "-"+hash) && len(o.Name) > len(hash)+1 {
				return workload{"apps", "v1", "Deployment", ns, strings.TrimSuffix(o.Name, "-"+hash)}
			}
		}
		return workload{group, version, o.Kind, ns, o.Name}
	}
	return workload{"", "v1", "Pod", ns, str(pod, "metadata", "name")}
}

// RecordKey keys a recorded digest: the workload, container and image reference at a sync
// revision (a new revision starts a new record).
func RecordKey(workloadRef, container, image, revision string) string {
	return workloadRef + "|" + container + "|" + image + "|" + revision
}

type imageUse struct {
	w         workload
	container string
	image     string
}

// detectImages: Pods of one workload running different digests for one image reference, a
// digest that moved from the recorded one, an unpinned image in production, and running Pods
// whose status cannot say what they run (unknown, never clean).
func detectImages(r *Result, pods []map[string]any, c Context) {
	prod := c.Unit != nil && drift.DefaultTable().EnvironmentClass(c.Unit.Spec.Environment) == drift.EnvProd
	digests := map[imageUse]map[string][]string{} // digest → pod names
	var uses []imageUse
	unpinned := map[imageUse]bool{}
	for _, pod := range pods {
		name := str(pod, "metadata", "name")
		phase := str(pod, "status", "phase")
		if phase == "Succeeded" || phase == "Failed" || str(pod, "metadata", "deletionTimestamp") != "" {
			continue
		}
		w := workloadOf(pod)
		statuses := map[string]map[string]any{}
		for _, st := range list(pod, "status", "containerStatuses") {
			statuses[str(st, "name")] = st
		}
		var unknown []string
		for _, ctr := range list(pod, "spec", "containers") {
			cname, image := str(ctr, "name"), str(ctr, "image")
			u := imageUse{w, cname, image}
			ref := ParseImageRef(image)
			if prod && !ref.Pinned() && !unpinned[u] {
				unpinned[u] = true
				uses = append(uses, u)
			}
			if phase == "Pending" {
				// Not running yet: nothing runs to judge.
				continue
			}
			st, ok := statuses[cname]
			if !ok {
				unknown = append(unknown, fmt.Sprintf("container %s has no status", cname))
				continue
			}
			id, ok := ParseImageID(str(st, "imageID"))
			if !ok {
				unknown = append(unknown, fmt.Sprintf("container %s's imageID is not a digest", cname))
				continue
			}
			if id.Repository != "" && NormalizedRepository(id.Repository) != NormalizedRepository(ref.Repository) {
				unknown = append(unknown, fmt.Sprintf("container %s's status names repository %s, not %s", cname, id.Repository, ref.Repository))
				continue
			}
			if phase != "Running" {
				unknown = append(unknown, fmt.Sprintf("phase %q is not one a running Pod reports", phase))
				continue
			}
			if ref.Pinned() {
				continue // a digest in the spec cannot move
			}
			if digests[u] == nil {
				digests[u] = map[string][]string{}
			}
			digests[u][id.Digest] = append(digests[u][id.Digest], name)
		}
		if len(unknown) > 0 {
			r.Observations = append(r.Observations, observation("", "v1", "Pod", w.namespace, name, &drift.LiveCheck{
				Change:      drift.ChangeUnobserved,
				Changes:     []drift.Change{{Path: drift.MustPointer("/status/containerStatuses")}},
				Explanation: fmt.Sprintf("Pod %s/%s of %s does not say what it runs (%s), so whether its images moved is unknown", w.namespace, name, w, strings.Join(dedupe(unknown), "; ")),
				Facts:       unknown,
			}))
		}
	}
	keys := make([]imageUse, 0, len(digests))
	for u := range digests {
		keys = append(keys, u)
	}
	sort.Slice(keys, func(i, j int) bool { return useLess(keys[i], keys[j]) })
	for _, u := range keys {
		byDigest := digests[u]
		ds := make([]string, 0, len(byDigest))
		for d := range byDigest {
			ds = append(ds, d)
		}
		sort.Strings(ds)
		ref := ParseImageRef(u.image)
		path := drift.Pointer{}
		for _, seg := range strings.Split(strings.TrimPrefix(u.w.containersPath(), "/"), "/") {
			path = append(path, seg)
		}
		path = append(path, "name="+u.container, "image")
		key := RecordKey(u.w.ref(), u.container, u.image, c.Revision)
		if len(ds) > 1 {
			// The record stands while the Pods disagree: once they all run the moved digest, it
			// still differs from what was recorded, so the drift does not vanish with the old Pods.
			if was, ok := c.Recorded[key]; ok {
				r.Digests[key] = was
			}
			var parts []string
			var changes []drift.Change
			for _, d := range ds {
				pods := byDigest[d]
				sort.Strings(pods)
				parts = append(parts, fmt.Sprintf("%s (Pods %s)", d, strings.Join(pods, ", ")))
				if d != ds[0] {
					changes = append(changes, drift.Change{Path: path, Before: ds[0], After: d})
				}
			}
			r.Observations = append(r.Observations, observation(u.w.group, u.w.version, u.w.kind, u.w.namespace, u.w.name, &drift.LiveCheck{
				Change: drift.ChangeImageDigest, Changes: changes,
				Explanation: fmt.Sprintf("Image %s (tag %s, container %s) of %s runs as %d digests: %s; the tag moved while the workload ran. Pin the digest (%s@<digest>)",
					u.image, ref.DisplayTag(), u.container, u.w, len(ds), strings.Join(parts, " and "), ref.Repository),
			}))
			continue
		}
		d := ds[0]
		r.Digests[key] = d
		if was, ok := c.Recorded[key]; ok && was != d {
			r.Observations = append(r.Observations, observation(u.w.group, u.w.version, u.w.kind, u.w.namespace, u.w.name, &drift.LiveCheck{
				Change: drift.ChangeImageDigest, Changes: []drift.Change{{Path: path, Before: was, After: d}},
				Explanation: fmt.Sprintf("Image %s (tag %s, container %s) of %s runs as %s, but %s was recorded for it at revision %s; the tag moved under the workload. Pin the digest (%s@<digest>)",
					u.image, ref.DisplayTag(), u.container, u.w, d, was, orNone(c.Revision), ref.Repository),
			}))
		}
	}
	sort.Slice(uses, func(i, j int) bool { return useLess(uses[i], uses[j]) })
	for _, u := range uses {
		path := drift.MustPointer(u.w.containersPath() + "/name=" + escape(u.container) + "/image")
		ref := ParseImageRef(u.image)
		r.Observations = append(r.Observations, drift.Observation{
			Ref: u.w.ref(), Type: u.w.group + "/" + u.w.kind, Group: u.w.group, Kind: u.w.kind, Namespace: u.w.namespace, Name: u.w.name,
			MutableRef: &drift.MutableReference{Kind: drift.RefImage, Reference: u.image, Path: path,
				Why: fmt.Sprintf("container %s runs it in production without a digest, so tag %s can change what runs without a change in Git", u.container, ref.DisplayTag())},
		})
	}
}

func useLess(a, b imageUse) bool {
	if a.w.ref() != b.w.ref() {
		return a.w.ref() < b.w.ref()
	}
	if a.container != b.container {
		return a.container < b.container
	}
	return a.image < b.image
}

// escape is a JSON pointer segment (RFC 6901).
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
