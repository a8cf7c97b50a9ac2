package drift

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
)

// UnmanagedAllowance is an expected unmanaged object of a unit (UnitSpec.UnmanagedAllowed).
type UnmanagedAllowance = v1alpha1.UnmanagedAllowance

// UnmanagedAllowed returns the reason the unit gives for an object that no Git source declares
// and no controller owns, and whether it names one. Only Kubernetes selectors count.
func (u *ManagedUnit) UnmanagedAllowed(group, kind, namespace, name string, labels map[string]string) (string, bool) {
	if u == nil {
		return "", false
	}
	obs := &Observation{Type: group + "/" + kind, Group: group, Kind: kind, Namespace: namespace, Name: name, Labels: labels}
	for _, a := range u.Spec.UnmanagedAllowed {
		if ruleMatches(a.Resource, obs) {
			return a.Reason, true
		}
	}
	return "", false
}

// validateUnmanagedAllowed: each allowance names a kind (an allowance of every kind would switch
// the detector off without saying so) and a reason, and no OpenTofu selector.
func validateUnmanagedAllowed(v *validator, s *UnitSpec) {
	for i, a := range s.UnmanagedAllowed {
		f := fmt.Sprintf("spec.unmanagedAllowed[%d]", i)
		if a.Resource.Type != "" || a.Resource.Address != "" {
			v.add(f+".resource", "selects Kubernetes objects by group, kind, namespace, name and labels, not type or address")
		}
		if strings.TrimSpace(a.Resource.Kind) == "" || a.Resource.Kind == "*" {
			v.add(f+".resource.kind", "is required (one kind, or a glob narrower than *): allowing every kind would hide every unmanaged object")
		}
		if strings.TrimSpace(a.Reason) == "" {
			v.add(f+".reason", "is required: say why the object may run outside Git")
		}
	}
}

// Values of the decision table's `change` condition that only the Kubernetes plane's live
// objects show (Pods, Secrets' metadata, ExternalSecrets, SealedSecrets, objects nothing
// declares); the detectors in internal/drift/live build them (LiveCheck).
const (
	// ChangeImageDigest: Pods of one workload run different image digests for one image
	// reference, or the digest moved from the one recorded at the last evaluation of the same
	// sync revision: a mutable tag moved under the workload.
	ChangeImageDigest = "image_digest"
	// ChangeSecretSync: a secret's sync is failing or stale (an ExternalSecret not Ready or not
	// refreshed within its interval, a SealedSecret not unsealed).
	ChangeSecretSync = "secret_sync"
	// ChangeSecretConsumer: a Secret changed after the Pods that mount or reference it started,
	// so they still run with its old version.
	ChangeSecretConsumer = "secret_consumer"
	// ChangeUnmanaged: an object of a kind the unit manages, in a namespace it manages, that no
	// Git source declares and no controller owns.
	ChangeUnmanaged = "unmanaged"
	// ChangeUnobserved: what a detector needs to judge is missing (a running Pod without the
	// status of its containers), so the answer is unknown, never clean.
	ChangeUnobserved = "unobserved"
)

// LiveCheck marks an observation a live-object detector made (see Observation.Live): not drift
// between the planes but a fact about what runs. Its changes carry only what is safe to keep in
// evidence (digests, resource versions, times), never a secret value.
type LiveCheck struct {
	// Change is one of ChangeImageDigest, ChangeSecretSync, ChangeSecretConsumer,
	// ChangeUnmanaged, ChangeUnobserved.
	Change string
	// Changes are the fields the finding names, with non-secret before/after values (evidence).
	Changes []Change
	// Explanation says what was seen: the tag and both digests, versions, ages, consumer names.
	Explanation string
	// Facts are digested into the evidence when there are no changes (an unmanaged object).
	Facts any
}

// liveFinding classifies a LiveCheck through the decision table on its change kind alone. It
// never heals: restarting consumers, fixing a sync, importing or deleting an object are human
// decisions.
func (ev *evaluator) liveFinding(obs *Observation) Finding {
	lc := obs.Live
	f, g, domain := ev.special(obs, lc.Change, lc.Changes, "live:"+lc.Change, struct {
		Ref, Change string
		Facts       any
	}{obs.Ref, lc.Change, lc.Facts})
	f.AutoHealAllowed = false
	f.Explanation = lc.Explanation
	if !ev.opts.Table.Expected(f.DriftClass) {
		ev.applyExceptions(&f, obs, domain, g)
	}
	return f
}

// CreationTime is an object's metadata.creationTimestamp, zero when it is missing or not RFC
// 3339 (the API server always sets it; a value it did not set is not believed).
func CreationTime(obj map[string]any) time.Time {
	md, _ := obj["metadata"].(map[string]any)
	s, _ := md["creationTimestamp"].(string)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// markdownLive documents the change kinds live-object detectors make.
func markdownLive(b *strings.Builder) {
	b.WriteString("\n## What runs: images, secret delivery, unmanaged objects\n\n" +
		"On the Kubernetes plane the reporter also reads what runs beside the declared objects (Pods, Secrets' metadata, ExternalSecrets, SealedSecrets, and the live objects of the kinds an application manages in its namespaces); the rows with a `change` of these kinds decide it:\n\n" +
		"- `image_digest`: the Pods of one workload run different image digests (`status.containerStatuses[].imageID`) for one image reference, or the digest differs from the one the DriftReport recorded for that workload, image and sync revision at an earlier evaluation (Argo CD records tags, not digests, so the report's own record is the baseline). The finding names the reference and both digests.\n" +
		"- `mutable_reference` (also): in production, a running image without a digest (`@sha256:`).\n" +
		"- `secret_sync`: an ExternalSecret (external-secrets.io v1beta1 or v1) whose `Ready` condition is not True, or whose `status.refreshTime` is older than `spec.refreshInterval` plus a bound, or that has no status at all; a SealedSecret whose `Synced` condition is not True or whose Secret does not exist.\n" +
		"- `secret_consumer`: a Secret changed (its newest `managedFields` time, which the API server stamps on every write) after Pods that mount it or read it through `env`/`envFrom` started: they still run with the old version. Only metadata is read; no value is held, printed or stored.\n" +
		"- `unmanaged`: in the namespaces an application manages, a live object of a kind it manages that Git does not declare, with no `ownerReferences` to an existing owner and no Argo CD tracking (a tracking id naming the object itself and a known application) — and not in the unit's `unmanagedAllowed`.\n" +
		"- `unobserved`: what a detector needs is missing (a running Pod without container statuses): unknown, never clean.\n")
}

// describeAge renders a duration for explanations, rounded to the second.
func describeAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Second).String()
}

// LiveAge is how long ago t was at now, for detectors' explanations ("3h0m0s").
func LiveAge(now, t time.Time) string { return describeAge(now.Sub(t)) }

// objectView is a resource's values as a policy rule's `object` sees them: for a Kubernetes
// object (type group/Kind), the lists the normalizer keyed by their merge key
// ({"name=app": {...}}) are lists again, in key order, so a rule reads object.spec.containers as
// a ValidatingAdmissionPolicy would. Kubernetes map keys (labels, annotations, data) cannot hold
// "=", so a map whose every key is "<mergeKey>=<value>" with one merge key is such a list.
func objectView(resourceType string, v any) any {
	if !strings.Contains(resourceType, "/") {
		return v
	}
	return unkey(v)
}

// Unkey turns the keyed form of lists the Kubernetes normalizer gives (a map whose every key is
// "<mergeKey>=<value>") back into lists, ordered by key, at any depth: what a manifest can hold.
func Unkey(v any) any { return unkey(v) }

func unkey(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if l, ok := keyedList(x); ok {
			return l
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = unkey(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = unkey(e)
		}
		return l
	}
	return v
}

func keyedList(m map[string]any) ([]any, bool) {
	if len(m) == 0 {
		return nil, false
	}
	keys := make([]string, 0, len(m))
	prefix := ""
	for k, e := range m {
		mk, _, ok := strings.Cut(k, "=")
		if !ok || mk == "" || strings.ContainsAny(mk, "/.") {
			return nil, false
		}
		if _, isMap := e.(map[string]any); !isMap {
			return nil, false
		}
		if prefix == "" {
			prefix = mk
		} else if mk != prefix {
			return nil, false
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = unkey(m[k])
	}
	return out, true
}
