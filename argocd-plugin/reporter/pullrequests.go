package reporter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
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

// reconcileRuns remembers, per application, when reconciliation last ran, on what drift, and how
// many runs in a row failed.
type reconcileRuns struct {
	mu   sync.Mutex
	last map[string]reconcileRun
}

type reconcileRun struct {
	at       time.Time
	sig      string
	failures int
}

// retryBase is the first wait after a failed run; each further failure doubles it, up to the
// interval. A failure that will not clear by itself (a tag as the base, a foreign branch) must not
// cost a clone and forge calls on every evaluation.
const retryBase = 30 * time.Second

// due tells whether app's reconciliation should run now, and notes it as run when it should. A
// change to the drift runs at once; otherwise a run waits for the interval, or for the backoff
// after failures.
func (r *reconcileRuns) due(app, sig string, now time.Time, interval time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]reconcileRun{}
	}
	l, ok := r.last[app]
	if ok && l.sig == sig {
		wait := interval
		if l.failures > 0 {
			wait = retryBase << min(l.failures-1, 16)
			wait = min(wait, interval)
		}
		if now.Sub(l.at) < wait {
			return false
		}
	}
	r.last[app] = reconcileRun{at: now, sig: sig, failures: l.failures}
	return true
}

// forget drops what is remembered of app (deleted, or another replica's now).
func (r *reconcileRuns) forget(app string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.last, app)
}

// done notes how app's run ended: a failure lengthens the wait before the next, a success resets it.
func (r *reconcileRuns) done(app string, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.last[app]
	if !ok {
		return
	}
	if failed {
		l.failures++
	} else {
		l.failures = 0
	}
	r.last[app] = l
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
	if _, err := reconcile.ParseRemoteURL(repoURL); err != nil {
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
	shown := reconcile.Shown(rec, before, now)
	sig := reconcile.Signature(res.Report)
	if sig == "" && !rec.Open() {
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
			c.reconciled.done(key, true)
		}
	}()
	fail := func(err error) {
		msg := reconcile.Scrub(c.redact(err), rc.Token).Error()
		c.cfg.Log.Warn("reconciliation failed", "app", key, "error", msg)
		c.recorder.Event(app, corev1.EventTypeWarning, ReasonReconcileFailed, truncateUTF8(msg, maxConditionMessage))
		c.reconciled.done(key, true)
	}
	if c.cfg.Shards != nil && !c.cfg.Shards.Owns(key) {
		// The shard moved after the status write: the new holder reconciles the application.
		c.cfg.Log.Info("shard lease lost before reconciliation; not reconciling", "app", key)
		return
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
		c.cfg.Log.Warn("reconciliation", "app", key, "warning", reconcile.Scrub(errors.New(w), rc.Token).Error())
	}
	failed := false
	for _, o := range rep.Outcomes {
		switch o.Status {
		case reconcile.StatusFailed:
			failed = true
			c.recorder.Event(app, corev1.EventTypeWarning, ReasonReconcileFailed,
				truncateUTF8(reconcile.Scrub(errors.New(o.Key+": "+o.Error), rc.Token).Error(), maxConditionMessage))
		default:
			c.cfg.Log.Info("reconciliation", "app", key, "key", o.Key, "status", o.Status, "pull_request", o.PR, "url", o.URL,
				"notes", strings.Join(o.Notes, "; "))
		}
	}
	c.reconciled.done(key, failed)
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
