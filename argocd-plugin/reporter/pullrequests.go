package reporter

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forges"
)

// Reasons of the Events an Application gets from reconciliation.
const (
	ReasonPullRequest     = "DriftPullRequest"
	ReasonReconcileFailed = "DriftReconcileFailed"
)

// Defaults of ReconcileConfig.
const (
	DefaultReconcileInterval = 10 * time.Minute
	DefaultReconcileTimeout  = 2 * time.Minute
)

// ReconcileConfig lets the reporter accept drift into Git for the units that enable it
// (spec.pullRequests), through one forge: the same pull requests, records and verification as
// `driftplane reconcile`, for the application's own repository.
type ReconcileConfig struct {
	// Forge is gitea (also Forgejo), github or gitlab.
	Forge string
	// URL is the forge's base URL (github: its API URL, default github.com's). An application
	// whose repository is served from another scheme, host or port is not reconciled: the token
	// is this forge's and goes nowhere an application's spec points.
	URL string
	// RepoOrigin is the scheme and host repositories are cloned from when URL is an API host
	// (github.com: https://github.com); default URL.
	RepoOrigin string
	// Token is the forge credential (never logged, never in a status or an Event).
	Token string
	// Username is sent with the token when pushing (forges.Config.Username).
	Username string
	// Group is reconcile.GroupFingerprint (default), GroupResource or GroupUnit.
	Group string
	// BranchPrefix starts branch names (reconcile.DefaultBranchPrefix when empty).
	BranchPrefix string
	// Authors are the logins whose pull requests are trusted as driftplane's (default: the
	// token's own login).
	Authors []string
	// Interval is the least time between two runs for one application whose actionable drift did
	// not change: a run looks at its pull requests (merged? closed?), which costs forge requests
	// and a clone. A change to the drift runs at once. Default DefaultReconcileInterval.
	Interval time.Duration
	// Timeout bounds one run (default DefaultReconcileTimeout).
	Timeout time.Duration
}

// reconcileRuns remembers, per application, when reconciliation last ran and on what drift.
type reconcileRuns struct {
	mu   sync.Mutex
	last map[string]reconcileRun
}

type reconcileRun struct {
	at  time.Time
	sig string
}

// due tells whether app's reconciliation should run now, and notes it as run when it should.
func (r *reconcileRuns) due(app, sig string, now time.Time, interval time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]reconcileRun{}
	}
	if l, ok := r.last[app]; ok && l.sig == sig && now.Sub(l.at) < interval {
		return false
	}
	r.last[app] = reconcileRun{at: now, sig: sig}
	return true
}

// forget makes the next evaluation of app run reconciliation whatever its drift (after a failed
// run, which the next evaluation retries).
func (r *reconcileRuns) forget(app string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.last, app)
}

// gitSource is where an application's desired state lives in Git: one http(s) repository,
// a branch, a folder.
type gitSource struct {
	repoURL, base, dir string
}

// applicationSource reads the application's single source. Several sources, or a source that is
// not a Git repository over http(s), cannot take a pull request.
func applicationSource(app *unstructured.Unstructured) (gitSource, error) {
	if srcs, ok, _ := unstructured.NestedSlice(app.Object, "spec", "sources"); ok && len(srcs) > 0 {
		return gitSource{}, errors.New("the application has several sources: which one declares a field is not known, so no pull request is opened")
	}
	repoURL, _, _ := unstructured.NestedString(app.Object, "spec", "source", "repoURL")
	if _, err := forges.ParseRepoURL(repoURL); err != nil {
		return gitSource{}, fmt.Errorf("source repository: %w", err)
	}
	if chart, _, _ := unstructured.NestedString(app.Object, "spec", "source", "chart"); chart != "" {
		return gitSource{}, errors.New("the application's source is a Helm repository chart, not a Git folder: no pull request can change it")
	}
	dir, _, _ := unstructured.NestedString(app.Object, "spec", "source", "path")
	dir = strings.Trim(dir, "/")
	if dir == "" {
		dir = "."
	}
	rev, _, _ := unstructured.NestedString(app.Object, "spec", "source", "targetRevision")
	base := ""
	if rev != "" && rev != "HEAD" {
		// A branch name is the pull requests' base; a tag or a commit cannot take a merge, and
		// the forge says so in the run's failure.
		base = strings.TrimPrefix(rev, "refs/heads/")
	}
	return gitSource{repoURL: repoURL, base: base, dir: dir}, nil
}

// keepEnded is how long the DriftReport keeps listing a reconciliation after it ended (verified,
// closed, resolved), so the closure stays visible where people look for it after the record moves
// on.
const keepEnded = 7 * 24 * time.Hour

// reconciliations is the DriftReport's view of a unit's reconciliations: the latest record's
// state, what its events ended (a verified pull request whose branch was deleted leaves the state
// in the same run), and what the previous status showed as ended within keepEnded.
func reconciliations(rec *reconcile.Record, prev []v1alpha1.Reconciliation, now time.Time) []v1alpha1.Reconciliation {
	byKey := map[string]v1alpha1.Reconciliation{}
	if rec != nil {
		for _, t := range rec.State {
			byKey[t.Key] = v1alpha1.Reconciliation{Key: t.Key, Status: t.Status, PullRequest: t.PR, URL: t.URL,
				Fingerprints: append([]string(nil), t.Fingerprints...), Summary: t.Summary, MergedAt: t.MergedAt,
				VerifiedAt: t.VerifiedAt, ClosedAt: t.ClosedAt, Error: truncateUTF8(t.Error, maxConditionMessage)}
		}
		for _, e := range rec.Events {
			if _, ok := byKey[e.Key]; ok {
				continue
			}
			r := v1alpha1.Reconciliation{Key: e.Key, PullRequest: e.PR, URL: e.URL, Summary: e.Detail}
			switch e.Kind {
			case reconcile.EventVerified:
				r.Status, r.VerifiedAt = reconcile.StatusVerified, e.At
			case reconcile.EventClosed:
				r.Status, r.ClosedAt = reconcile.StatusClosed, e.At
			case reconcile.EventResolved:
				r.Status, r.ClosedAt = reconcile.StatusResolved, e.At
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
		if p.Status == reconcile.StatusVerified {
			ended = p.VerifiedAt
		}
		at, err := time.Parse(time.RFC3339, ended)
		if err != nil || now.Sub(at) > keepEnded {
			continue
		}
		switch p.Status {
		case reconcile.StatusVerified, reconcile.StatusClosed, reconcile.StatusResolved:
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

// reconcileOpen tells whether a tracked reconciliation still needs runs while its drift is
// unchanged: an open or merged pull request, a failure to retry.
func reconcileOpen(rec *reconcile.Record) bool {
	if rec == nil {
		return false
	}
	for _, t := range rec.State {
		switch t.Status {
		case reconcile.StatusProposed, reconcile.StatusPending, reconcile.StatusFailed, reconcile.StatusReported, reconcile.StatusDeclined:
			return true
		}
	}
	return false
}

// actionable is the signature of the findings reconciliation acts on: their fingerprints and
// actions, so a change to either runs reconciliation at once.
func actionable(rep *drift.Report) string {
	var keys []string
	for _, f := range rep.Findings {
		for _, a := range reconcile.Actions {
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

// planReconcile decides, after a successful evaluation, whether reconciliation runs for the
// application, and returns the run (for after the status write) and the reconciliations the
// status shows now. Nothing runs for a unit that does not enable pull requests, without a forge
// or a ledger, or when nothing is actionable and nothing is open.
func (c *Controller) planReconcile(ctx context.Context, app *unstructured.Unstructured, key string, policy *Policy, res *pipeline.Result, prev *Status, now time.Time) (func(), []v1alpha1.Reconciliation) {
	rc := c.cfg.Reconcile
	if rc == nil || c.cfg.Ledger == nil || policy == nil || policy.Unit == nil || !policy.Unit.Spec.PullRequests || res == nil || res.Report == nil {
		return nil, nil
	}
	unit := policy.Unit.Metadata.Name
	rec, _, err := reconcile.Latest(ctx, c.cfg.Ledger, unit)
	if err != nil {
		c.cfg.Log.Warn("reconciliation record unreadable", "app", key, "unit", unit, "error", err)
		c.recorder.Event(app, corev1.EventTypeWarning, ReasonReconcileFailed, "reconciliation record unreadable: "+err.Error())
		return nil, nil
	}
	var before []v1alpha1.Reconciliation
	if prev != nil {
		before = prev.Reconciliations
	}
	shown := reconciliations(rec, before, now)
	sig := actionable(res.Report)
	if sig == "" && !reconcileOpen(rec) {
		return nil, shown
	}
	interval := rc.Interval
	if interval <= 0 {
		interval = DefaultReconcileInterval
	}
	if !c.reconciled.due(key, sig, now, interval) {
		c.cfg.Log.Debug("reconciliation not due", "app", key, "unit", unit)
		return nil, shown
	}
	c.cfg.Log.Debug("reconciliation due", "app", key, "unit", unit, "actionable", sig)
	return func() { c.runReconcile(ctx, app, key, policy, res) }, shown
}

// runReconcile opens, updates, closes and verifies the application's pull requests for one
// evaluation. Its failures are Events and log lines, and the next evaluation retries; they never
// fail the evaluation, whose status is already written.
func (c *Controller) runReconcile(ctx context.Context, app *unstructured.Unstructured, key string, policy *Policy, res *pipeline.Result) {
	rc := c.cfg.Reconcile
	defer func() {
		if r := recover(); r != nil {
			c.cfg.Log.Error("reconciliation panicked", "app", key, "panic", fmt.Sprint(r))
			c.reconciled.forget(key)
		}
	}()
	fail := func(err error) {
		msg := forges.Scrub(c.redact(err), rc.Token).Error()
		c.cfg.Log.Warn("reconciliation failed", "app", key, "error", msg)
		c.recorder.Event(app, corev1.EventTypeWarning, ReasonReconcileFailed, truncateUTF8(msg, maxConditionMessage))
		c.reconciled.forget(key)
	}
	src, err := applicationSource(app)
	if err != nil {
		fail(err)
		return
	}
	origin := rc.RepoOrigin
	if origin == "" {
		origin = rc.URL
	}
	if !forges.SameOrigin(origin, src.repoURL) {
		fail(fmt.Errorf("the application's repository %s is not on the forge %s the reporter's token is for: no pull request is opened", src.repoURL, origin))
		return
	}
	timeout := rc.Timeout
	if timeout <= 0 {
		timeout = DefaultReconcileTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, remote, err := forges.Open(ctx, forges.Config{Kind: rc.Forge, URL: rc.URL, RepoURL: src.repoURL, Username: rc.Username, Token: rc.Token})
	if err != nil {
		fail(err)
		return
	}
	unit := reconcile.Unit{Policy: policy.Unit, Exceptions: policy.Exceptions, Dir: src.dir, Result: res}
	rep, err := reconcile.Run(ctx, []reconcile.Unit{unit}, reconcile.Options{Forge: f, Remote: remote, Base: src.base,
		Store: c.cfg.Ledger, Group: rc.Group, BranchPrefix: rc.BranchPrefix, Authors: rc.Authors, Now: c.cfg.Now})
	if err != nil {
		fail(err)
		return
	}
	for _, w := range rep.Warnings {
		c.cfg.Log.Warn("reconciliation", "app", key, "warning", forges.Scrub(errors.New(w), rc.Token).Error())
	}
	failed := false
	for _, o := range rep.Outcomes {
		switch o.Status {
		case reconcile.StatusFailed:
			failed = true
			c.recorder.Event(app, corev1.EventTypeWarning, ReasonReconcileFailed,
				truncateUTF8(forges.Scrub(errors.New(o.Key+": "+o.Error), rc.Token).Error(), maxConditionMessage))
		default:
			c.cfg.Log.Info("reconciliation", "app", key, "key", o.Key, "status", o.Status, "pull_request", o.PR, "url", o.URL,
				"notes", strings.Join(o.Notes, "; "))
		}
	}
	if failed {
		c.reconciled.forget(key)
	}
	for _, ev := range newEvents(rep) {
		c.recorder.Event(app, corev1.EventTypeNormal, ReasonPullRequest, ev)
	}
}

// newEvents are the Events worth a person's attention from one run: pull requests opened,
// merged, verified, closed.
func newEvents(rep *reconcile.Report) []string {
	var out []string
	for _, o := range rep.Outcomes {
		if o.PR == 0 || o.Summary == "" {
			continue
		}
		switch o.Status {
		case reconcile.StatusProposed, reconcile.StatusPending, reconcile.StatusVerified, reconcile.StatusClosed:
			out = append(out, fmt.Sprintf("%s: %s", o.Status, truncateUTF8(o.Summary, 512)))
		}
	}
	return out
}
