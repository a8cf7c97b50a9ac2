package reporter

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
)

// reconcileSource observes the managed resources through the wrapped source, then adds what does
// not converge: the objects Argo CD's last sync failed on, and the paths that thrash between
// writers across evaluations (judged on the previous status's history, which it leaves in
// tracking for the next status).
type reconcileSource struct {
	pipeline.Source
	op   drift.SyncOperation
	app  drift.SyncResourceResult
	prev *drift.ReconcileTracking
	// written is, per object (group/kind/namespace/name), when each field manager last wrote it.
	written  map[string]map[string]time.Time
	digester *drift.Digester
	now      time.Time
	policy   drift.ThrashPolicy
	// tracking is set by Observe: the history the new status keeps.
	tracking *drift.ReconcileTracking
}

// Observe implements pipeline.Source.
func (s *reconcileSource) Observe(ctx context.Context, env pipeline.Env) (*pipeline.Observed, error) {
	out, err := s.Source.Observe(ctx, env)
	if err != nil {
		return nil, err
	}
	objects := out.Observations
	d := s.digester
	if d == nil {
		d = env.Digester
	}
	th := drift.TrackThrash(drift.ThrashInput{Previous: s.prev, Objects: objects, HealLanded: s.healLanded,
		WrittenAt: s.writtenAt, Digester: d, Now: s.now, Policy: s.policy})
	s.tracking = th.Tracking
	var extra []drift.Observation
	extra = append(extra, drift.SyncFailures(s.op, s.app, objects)...)
	extra = append(extra, th.Thrashing...)
	if len(extra) == 0 {
		return out, nil
	}
	all := make([]drift.Observation, 0, len(objects)+len(extra))
	all = append(all, objects...)
	all = append(all, extra...)
	out.Observations = all
	// The evidence names what was read: the sync operation's result and the history's verdicts.
	out.Inputs = append(out.Inputs, evidence.Input{Name: "sync operation and reconcile history of application " + s.app.Namespace + "/" + s.app.Name,
		Digest: evidence.ObservationsDigest(extra)})
	return out, nil
}

// withReconcile wraps req's source so the evaluation also judges Argo CD's last sync operation
// and reconcile thrash; the returned source holds the tracking after the run.
func (c *Controller) withReconcile(req *pipeline.Request, app *unstructured.Unstructured, resources []ResourceDiff, prev *Status, policy *Policy, now time.Time) *reconcileSource {
	src := &reconcileSource{
		Source:   req.Source,
		op:       syncOperationOf(app),
		app:      drift.SyncResourceResult{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application", Namespace: app.GetNamespace(), Name: app.GetName()},
		digester: c.cfg.Digester,
		now:      now,
		policy:   drift.ThrashPolicyOf(policy.Unit),
		written:  managerTimes(resources),
	}
	if prev != nil {
		src.prev = prev.Reconcile
	}
	req.Source = src
	return src
}

// healLanded says when the sync a heal asked for finished on the object: Argo CD's last operation
// succeeded after the heal was asked for, with the object synced.
func (s *reconcileSource) healLanded(o *drift.Observation, requested time.Time) (time.Time, bool) {
	if s.op.Phase != "Succeeded" {
		return time.Time{}, false
	}
	done, err := time.Parse(time.RFC3339, s.op.FinishedAt)
	// Whole seconds: an operation that ended in the second requested names may be one that ended
	// before the heal was asked for (drift.TrackThrash does not count it either).
	if err != nil || !done.After(requested) {
		return time.Time{}, false
	}
	for _, r := range s.op.Resources {
		if r.Group == o.Group && r.Kind == o.Kind && r.Namespace == o.Namespace && r.Name == o.Name && r.Status == "Synced" {
			return done, true
		}
	}
	return time.Time{}, false
}

// writtenAt is when manager last wrote the object, by its managedFields.
func (s *reconcileSource) writtenAt(o *drift.Observation, manager string) (time.Time, bool) {
	t, ok := s.written[o.Group+"/"+o.Kind+"/"+o.Namespace+"/"+o.Name][manager]
	return t, ok
}

// managerTimes reads, per live object, when each field manager last wrote it.
func managerTimes(resources []ResourceDiff) map[string]map[string]time.Time {
	out := map[string]map[string]time.Time{}
	for _, r := range resources {
		if r.LiveState == "" || r.LiveState == "null" {
			continue
		}
		var live struct {
			Metadata struct {
				ManagedFields []struct {
					Manager string `json:"manager"`
					Time    string `json:"time"`
				} `json:"managedFields"`
			} `json:"metadata"`
		}
		if json.Unmarshal([]byte(r.LiveState), &live) != nil {
			continue
		}
		m := map[string]time.Time{}
		for _, mf := range live.Metadata.ManagedFields {
			t, err := time.Parse(time.RFC3339, mf.Time)
			if err != nil {
				continue
			}
			name := drift.SanitizeName(mf.Manager)
			if t.After(m[name]) {
				m[name] = t
			}
		}
		out[r.Group+"/"+r.Kind+"/"+r.Namespace+"/"+r.Name] = m
	}
	return out
}

// syncOperationOf reads the application's last operation (status.operationState) as plain data.
func syncOperationOf(app *unstructured.Unstructured) drift.SyncOperation {
	str := func(m map[string]any, k string) string {
		s, _ := m[k].(string)
		return s
	}
	st, _, _ := unstructured.NestedMap(app.Object, "status", "operationState")
	op := drift.SyncOperation{Phase: str(st, "phase"), Message: str(st, "message"), FinishedAt: str(st, "finishedAt")}
	res, _, _ := unstructured.NestedMap(st, "syncResult")
	op.Revision = str(res, "revision")
	items, _, _ := unstructured.NestedSlice(res, "resources")
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		op.Resources = append(op.Resources, drift.SyncResourceResult{
			Group: str(m, "group"), Version: str(m, "version"), Kind: str(m, "kind"), Namespace: str(m, "namespace"), Name: str(m, "name"),
			Status: str(m, "status"), Message: str(m, "message"),
		})
	}
	return op
}

// healSuspended is why nothing of the application may heal now: the reconcile history
// overflowed, so a fight could hide among the paths it could not track.
func healSuspended(st *Status) string {
	if st != nil && st.Reconcile != nil && st.Reconcile.Overflow {
		return "auto-heal suspended: more paths change than reconcile thrash can track (" + strconv.Itoa(drift.MaxTrackedPaths) + ")"
	}
	return ""
}

// Kinds of driftplane_reconcile_failures.
const (
	reconcileThrash     = "thrash"
	reconcileSyncFailed = "sync_failed"
	reconcileUntracked  = "untracked"
)

// reconcileFailures sets driftplane_reconcile_failures of app from its status.
func (m *Metrics) reconcileFailures(app string, st Status) {
	n := map[string]int{reconcileThrash: 0, reconcileSyncFailed: 0, reconcileUntracked: 0}
	for _, f := range st.Findings {
		if f.DriftClass != drift.ClassFailedReconciliation {
			continue
		}
		if len(f.ChangedFields) > 0 {
			n[reconcileThrash]++ // thrash names its path; a failed sync names none
		} else {
			n[reconcileSyncFailed]++
		}
	}
	if healSuspended(&st) != "" {
		n[reconcileUntracked] = 1
	}
	for k, v := range n {
		m.reconcile.WithLabelValues(app, k).Set(float64(v))
	}
}
