package reconcile

import (
	"sort"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// maxShownError bounds a failure's message in a status.
const maxShownError = 1024

// keepEnded is how long the DriftReport keeps listing a reconciliation after it ended (verified,
// closed, resolved), so the closure stays visible where people look for it after the record moves
// on.
const keepEnded = 7 * 24 * time.Hour

// Shown is what a status (the Argo CD DriftReport's status.reconciliations) shows of a unit's
// reconciliations: the latest record's state, what its events ended (a verified pull request whose
// branch was deleted leaves the state in the same run), and what the previous status showed as
// ended within keepEnded.
func Shown(rec *Record, prev []v1alpha1.Reconciliation, now time.Time) []v1alpha1.Reconciliation {
	byKey := map[string]v1alpha1.Reconciliation{}
	if rec != nil {
		for _, t := range rec.State {
			byKey[t.Key] = v1alpha1.Reconciliation{Key: t.Key, Status: t.Status, PullRequest: t.PR, URL: t.URL,
				Fingerprints: append([]string(nil), t.Fingerprints...), Summary: t.Summary, MergedAt: t.MergedAt,
				VerifiedAt: t.VerifiedAt, ClosedAt: t.ClosedAt, Error: truncate(t.Error, maxShownError)}
		}
		for _, e := range rec.Events {
			if _, ok := byKey[e.Key]; ok {
				continue
			}
			r := v1alpha1.Reconciliation{Key: e.Key, PullRequest: e.PR, URL: e.URL, Summary: e.Detail}
			switch e.Kind {
			case EventVerified:
				r.Status, r.VerifiedAt = StatusVerified, e.At
			case EventClosed:
				r.Status, r.ClosedAt = StatusClosed, e.At
			case EventResolved:
				r.Status, r.ClosedAt = StatusResolved, e.At
			default:
				continue
			}
			byKey[e.Key] = r
		}
	}
	for _, p := range prev {
		if _, ok := byKey[p.Key]; ok {
			continue
		}
		ended := p.ClosedAt
		if p.Status == StatusVerified {
			ended = p.VerifiedAt
		}
		at, err := time.Parse(time.RFC3339, ended)
		if err != nil || now.Sub(at) > keepEnded {
			continue
		}
		switch p.Status {
		case StatusVerified, StatusClosed, StatusResolved:
			byKey[p.Key] = p
		}
	}
	if len(byKey) == 0 {
		return nil
	}
	out := make([]v1alpha1.Reconciliation, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Open tells whether a tracked reconciliation still needs runs while its drift is
// unchanged: an open or merged pull request, a failure to retry, a branch still to delete.
func (rec *Record) Open() bool {
	if rec == nil {
		return false
	}
	for _, t := range rec.State {
		switch t.Status {
		case StatusProposed, StatusPending, StatusFailed, StatusReported, StatusDeclined:
			return true
		}
		// An ended one kept only until its branch is deleted: the deletion is retried by a run.
		if t.Branch != "" && t.BranchDeletedAt == "" && t.BranchKept == "" {
			return true
		}
	}
	return false
}

// Signature is the signature of the findings reconciliation acts on: their fingerprints and
// actions, so a change to either runs reconciliation at once.
func Signature(rep *drift.Report) string {
	var keys []string
	for _, f := range rep.Findings {
		for _, a := range Actions {
			if f.RecommendedAction == a {
				fp := f.Fingerprint
				if fp == "" {
					fp = drift.Fingerprint(f)
				}
				keys = append(keys, fp+"="+string(a))
			}
		}
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}
