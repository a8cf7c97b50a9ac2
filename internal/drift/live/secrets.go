package live

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// condition returns a status condition's status and reason, and whether it is there.
func condition(obj map[string]any, typ string) (status, reason string, ok bool) {
	for _, c := range list(obj, "status", "conditions") {
		if str(c, "type") == typ {
			return str(c, "status"), str(c, "reason"), true
		}
	}
	return "", "", false
}

// detectSecretSync: ExternalSecrets not Ready, not refreshed within refreshInterval + the bound
// or never reported on; SealedSecrets not unsealed. Only status and spec timing are read: an
// ExternalSecret's condition message is not copied (a provider's error may quote what it read).
func detectSecretSync(r *Result, s Snapshot, c Context) {
	secrets := map[ObjectKey]bool{}
	for _, sec := range s.Secrets {
		k := KeyOf(sec)
		secrets[ObjectKey{"", "Secret", k.Namespace, k.Name}] = true
	}
	for _, es := range sortedObjects(s.ExternalSecrets) {
		k := KeyOf(es)
		_, version := splitAPIVersion(str(es, "apiVersion"))
		created, _ := timeAt(es, "metadata", "creationTimestamp")
		age := c.Now.Sub(created)
		var why []string
		var changes []drift.Change
		status, reason, ok := condition(es, "Ready")
		switch {
		case !ok && age > c.RefreshBound:
			why = append(why, fmt.Sprintf("it has no Ready condition %s after it was created: the external-secrets controller never reported on it", drift.LiveAge(c.Now, created)))
			changes = append(changes, drift.Change{Path: drift.MustPointer("/status/conditions/Ready"), Before: "True", After: "missing"})
		case ok && status != "True":
			why = append(why, fmt.Sprintf("its Ready condition is %s (reason %s)", orNone(status), orNone(reason)))
			changes = append(changes, drift.Change{Path: drift.MustPointer("/status/conditions/Ready"), Before: "True", After: status + "/" + reason})
		}
		interval, err := refreshInterval(str(es, "spec", "refreshInterval"))
		refreshed, hasRefresh := timeAt(es, "status", "refreshTime")
		switch {
		case err != nil:
			why = append(why, fmt.Sprintf("its refreshInterval %q is not a duration, so whether it refreshes is unknown", str(es, "spec", "refreshInterval")))
			changes = append(changes, drift.Change{Path: drift.MustPointer("/spec/refreshInterval")})
		case hasRefresh && refreshed.After(c.Now.Add(clockSkew)):
			why = append(why, fmt.Sprintf("its refreshTime %s is in the future, so when it last refreshed is unknown", fmtTime(refreshed)))
			changes = append(changes, drift.Change{Path: drift.MustPointer("/status/refreshTime"), After: fmtTime(refreshed)})
		case interval > 0 && hasRefresh && c.Now.Sub(refreshed) > interval+c.RefreshBound:
			why = append(why, fmt.Sprintf("it last refreshed at %s, %s ago, beyond its refreshInterval %s plus %s", fmtTime(refreshed), drift.LiveAge(c.Now, refreshed), interval, c.RefreshBound))
			changes = append(changes, drift.Change{Path: drift.MustPointer("/status/refreshTime"), Before: fmtTime(c.Now.Add(-interval)), After: fmtTime(refreshed)})
		case interval > 0 && !hasRefresh && ok && age > interval+c.RefreshBound:
			why = append(why, "it reports no refreshTime, so when it last synced is unknown")
			changes = append(changes, drift.Change{Path: drift.MustPointer("/status/refreshTime"), After: "missing"})
		}
		if len(why) == 0 {
			continue
		}
		target := str(es, "spec", "target", "name")
		if target == "" {
			target = k.Name
		}
		r.Observations = append(r.Observations, observation(k.Group, version, k.Kind, k.Namespace, k.Name, &drift.LiveCheck{
			Change: drift.ChangeSecretSync, Changes: changes,
			Explanation: fmt.Sprintf("ExternalSecret %s/%s does not deliver Secret %s: %s (synced resourceVersion %s); its consumers run on a version nobody vouches for. Fix the sync first",
				k.Namespace, k.Name, target, strings.Join(why, "; "), orNone(str(es, "status", "syncedResourceVersion"))),
		}))
	}
	for _, ss := range sortedObjects(s.SealedSecrets) {
		k := KeyOf(ss)
		_, version := splitAPIVersion(str(ss, "apiVersion"))
		created, _ := timeAt(ss, "metadata", "creationTimestamp")
		var why []string
		var changes []drift.Change
		status, reason, ok := condition(ss, "Synced")
		switch {
		case ok && status != "True":
			why = append(why, fmt.Sprintf("its Synced condition is %s (reason %s): the controller could not unseal it", orNone(status), orNone(reason)))
			changes = append(changes, drift.Change{Path: drift.MustPointer("/status/conditions/Synced"), Before: "True", After: status + "/" + reason})
		case !ok && c.Now.Sub(created) > c.RefreshBound:
			why = append(why, fmt.Sprintf("it has no Synced condition %s after it was created: the controller never unsealed it", drift.LiveAge(c.Now, created)))
			changes = append(changes, drift.Change{Path: drift.MustPointer("/status/conditions/Synced"), Before: "True", After: "missing"})
		}
		if s.SecretsListed && !secrets[ObjectKey{"", "Secret", k.Namespace, k.Name}] && c.Now.Sub(created) > c.RefreshBound {
			why = append(why, fmt.Sprintf("Secret %s/%s does not exist", k.Namespace, k.Name))
			changes = append(changes, drift.Change{Path: drift.MustPointer("/status/secret"), After: "missing"})
		}
		if len(why) == 0 {
			continue
		}
		r.Observations = append(r.Observations, observation(k.Group, version, k.Kind, k.Namespace, k.Name, &drift.LiveCheck{
			Change: drift.ChangeSecretSync, Changes: changes,
			Explanation: fmt.Sprintf("SealedSecret %s/%s is not unsealed: %s. Fix the sync (the sealing key, the controller) first", k.Namespace, k.Name, strings.Join(why, "; ")),
		}))
	}
}

// refreshInterval reads an ExternalSecret's spec.refreshInterval ("1h", "0" for never, empty
// for the controller's default of 1h).
func refreshInterval(s string) (time.Duration, error) {
	if s == "" {
		return time.Hour, nil
	}
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad interval %q", s)
	}
	return d, nil
}

// clockSkew is how far a status time may disagree with the API server's clock.
const clockSkew = time.Minute

// secretChangedAt is when a Secret last changed as its metadata shows it: the newest time among
// its managedFields entries (the API server stamps an entry's time at each write by that
// manager), else its creation. resourceVersion orders writes but carries no time, so the time
// comes from managedFields; a write that only touched labels counts too (documented).
func secretChangedAt(sec map[string]any) (time.Time, string) {
	var newest time.Time
	manager := ""
	for _, mf := range list(sec, "metadata", "managedFields") {
		t, ok := timeAt(mf, "time")
		if ok && t.After(newest) {
			newest, manager = t, str(mf, "manager")
		}
	}
	if newest.IsZero() {
		newest, _ = timeAt(sec, "metadata", "creationTimestamp")
	}
	return newest, manager
}

// secretsUsed are the Secrets a Pod reads, by name, and how (volume, envFrom, env).
func secretsUsed(pod map[string]any) map[string][]string {
	out := map[string][]string{}
	add := func(name, how string) {
		if name != "" {
			out[name] = append(out[name], how)
		}
	}
	for _, v := range list(pod, "spec", "volumes") {
		add(str(v, "secret", "secretName"), "volume "+str(v, "name"))
		for _, src := range list(v, "projected", "sources") {
			add(str(src, "secret", "name"), "projected volume "+str(v, "name"))
		}
	}
	for _, field := range []string{"containers", "initContainers"} {
		for _, ctr := range list(pod, "spec", field) {
			for _, ef := range list(ctr, "envFrom") {
				add(str(ef, "secretRef", "name"), "envFrom of "+str(ctr, "name"))
			}
			for _, e := range list(ctr, "env") {
				add(str(e, "valueFrom", "secretKeyRef", "name"), "env "+str(e, "name")+" of "+str(ctr, "name"))
			}
		}
	}
	return out
}

// podStarted is when a Pod's containers last started (the earliest running container's start,
// which is when the oldest environment was read), else its status.startTime.
func podStarted(pod map[string]any) (time.Time, bool) {
	var earliest time.Time
	for _, st := range list(pod, "status", "containerStatuses") {
		if t, ok := timeAt(st, "state", "running", "startedAt"); ok && (earliest.IsZero() || t.Before(earliest)) {
			earliest = t
		}
	}
	if !earliest.IsZero() {
		return earliest, true
	}
	return timeAt(pod, "status", "startTime")
}

// detectSecretConsumers: a Secret changed after Pods that read it started, so they still run
// with the old version. Only metadata (times, resourceVersion, manager) and Pod specs are read.
func detectSecretConsumers(r *Result, secrets, pods []map[string]any, c Context) {
	type consumer struct {
		pod, workload, how string
		started            time.Time
	}
	users := map[ObjectKey][]consumer{}
	var unknown []string
	for _, pod := range pods {
		if str(pod, "status", "phase") != "Running" || str(pod, "metadata", "deletionTimestamp") != "" {
			continue
		}
		ns, name := str(pod, "metadata", "namespace"), str(pod, "metadata", "name")
		used := secretsUsed(pod)
		if len(used) == 0 {
			continue
		}
		started, ok := podStarted(pod)
		created, _ := timeAt(pod, "metadata", "creationTimestamp")
		// A start the API server's own times contradict (before the Pod existed, or in the
		// future) is a status someone wrote to hide an old consumer: unknown, not fresh.
		if !ok || started.After(c.Now.Add(clockSkew)) || (!created.IsZero() && started.Before(created.Add(-clockSkew))) {
			unknown = append(unknown, ns+"/"+name)
			continue
		}
		for sname, hows := range used {
			users[ObjectKey{"", "Secret", ns, sname}] = append(users[ObjectKey{"", "Secret", ns, sname}],
				consumer{name, workloadOf(pod).String(), strings.Join(hows, ", "), started})
		}
	}
	for _, p := range unknown {
		ns, name, _ := strings.Cut(p, "/")
		r.Observations = append(r.Observations, observation("", "v1", "Pod", ns, name, &drift.LiveCheck{
			Change: drift.ChangeUnobserved, Changes: []drift.Change{{Path: drift.MustPointer("/status/startTime")}},
			Explanation: fmt.Sprintf("Pod %s reads Secrets and reports itself Running without a start time it could have (none, before its creation or in the future), so whether it runs an old version of them is unknown", p),
		}))
	}
	for _, sec := range secrets {
		k := KeyOf(sec)
		cs := users[ObjectKey{"", "Secret", k.Namespace, k.Name}]
		if len(cs) == 0 {
			continue
		}
		changed, manager := secretChangedAt(sec)
		if changed.IsZero() {
			continue
		}
		var stale []string
		var oldest time.Time
		for _, cn := range cs {
			if cn.started.Before(changed) {
				stale = append(stale, fmt.Sprintf("Pod %s of %s (started %s, %s before the change; %s)", cn.pod, cn.workload, fmtTime(cn.started), changed.Sub(cn.started).Round(time.Second), cn.how))
				if oldest.IsZero() || cn.started.Before(oldest) {
					oldest = cn.started
				}
			}
		}
		if len(stale) == 0 {
			continue
		}
		sort.Strings(stale)
		rv := str(sec, "metadata", "resourceVersion")
		r.Observations = append(r.Observations, observation("", "v1", "Secret", k.Namespace, k.Name, &drift.LiveCheck{
			Change:  drift.ChangeSecretConsumer,
			Changes: []drift.Change{{Path: drift.MustPointer("/metadata/resourceVersion"), Before: fmtTime(oldest), After: rv + "@" + fmtTime(changed)}},
			Explanation: fmt.Sprintf("Secret %s/%s changed at %s (%s ago, resourceVersion %s, by %s) after %d consumer(s) started, so they still run with its old version: %s. Restart them (a rollout) once its sync is right",
				k.Namespace, k.Name, fmtTime(changed), drift.LiveAge(c.Now, changed), orNone(rv), orNone(manager), len(stale), strings.Join(stale, "; ")),
		}))
	}
}
