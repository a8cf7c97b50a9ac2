// Package reconcile restores the control relationship a finding says is broken, through Git and
// never behind anyone's back: for findings whose recommended action is GIT_UPDATE_PR or IMPORT it
// commits the desired-state change (package edit) on a branch with go-git, pushes it over HTTP(S)
// with a token and opens one pull request per finding fingerprint (or per grouping key) through
// the forge's API (package forge); for STATE_REFRESH and STATE_MOVE it writes the exact commands
// for a person to run, and never touches state itself.
//
// Every run is one evaluation's consequence, with its evidence: a reconciliation record per unit
// under reconciliations/<unit>/ in the evidence store, beside the ledger, says what was proposed,
// updated, closed and verified. Re-running updates the same pull request (found by its branch, its
// body's first-line marker and its author), never opens a second; a drift that ends another way
// closes its open pull request with the reason the ledger gives; a merged pull request whose drift
// the next evaluation still finds is pending, not resolved, and one whose drift is gone is
// "accepted into Git by PR #N, verified at …".
//
// A branch whose pull request is no longer needed (merged and verified, closed because the drift
// ended another way, or declined) is deleted on the remote once, and only while its tip is still
// the commit driftplane pushed there and that commit is driftplane's: a branch someone else
// pushed to, or the repository's default branch, is never deleted. A deletion that fails is a
// warning, retried by the next run.
//
// An evaluation that could not observe its unit (unknown) changes nothing: unknown never closes
// or verifies anything.
package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/forgeapi/markdown"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge"
)

// Grouping of findings into pull requests.
const (
	// GroupFingerprint opens one pull request per drift fingerprint (the default).
	GroupFingerprint = "fingerprint"
	// GroupResource opens one per resource of a unit.
	GroupResource = "resource"
	// GroupUnit opens one per unit.
	GroupUnit = "unit"
)

// Groupings are the accepted Options.Group values.
var Groupings = []string{GroupFingerprint, GroupResource, GroupUnit}

// DefaultBranchPrefix starts every branch reconciliation pushes.
const DefaultBranchPrefix = "driftplane/reconcile"

// Actions are the recommended actions reconciliation acts on.
var Actions = []drift.Action{drift.ActionGitUpdatePR, drift.ActionImport, drift.ActionStateRefresh, drift.ActionStateMove}

// Options configure a run.
type Options struct {
	Forge  forge.Forge
	Remote Remote
	// Base is the branch pull requests target ("": the repository's default branch).
	Base string
	// Store holds the ledger and the reconciliation records (the evidence store).
	Store ledger.Store
	// Group is GroupFingerprint (default), GroupResource or GroupUnit.
	Group string
	// BranchPrefix starts branch names (DefaultBranchPrefix when empty).
	BranchPrefix string
	// Authors are the logins whose pull requests are trusted as reconciliation's own (empty: the
	// forge credential's own login).
	Authors []string
	// Tofu runs `tofu plan -generate-config-out` for IMPORT.
	Tofu string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Unit is one unit's evaluation to reconcile.
type Unit struct {
	Policy     *drift.ManagedUnit
	Exceptions []*drift.Exception
	// Dir is the unit's folder relative to the repository's root, slash-separated ("." for the root).
	Dir string
	// Result is the evaluation; nil when the unit's drift is unknown.
	Result *pipeline.Result
}

// Outcome is what a run did for one grouping key.
type Outcome struct {
	Unit     string   `json:"unit"`
	Key      string   `json:"key"`
	Status   string   `json:"status"`
	Branch   string   `json:"branch,omitempty"`
	PR       int64    `json:"pull_request,omitempty"`
	URL      string   `json:"url,omitempty"`
	Summary  string   `json:"summary,omitempty"`
	Commands []string `json:"commands,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	// BranchDeleted says this run deleted Branch on the remote (its notes say so too).
	BranchDeleted bool   `json:"branch_deleted,omitempty"`
	Error         string `json:"error,omitempty"`
}

// Report is a run's outcomes, and the units it could not reconcile.
type Report struct {
	Outcomes []Outcome `json:"outcomes"`
	// Skipped are units whose drift was unknown: nothing was changed for them.
	Skipped []string `json:"skipped,omitempty"`
	// Warnings did not stop anything (a reviewer that could not be asked).
	Warnings []string `json:"warnings,omitempty"`
	// Records are the reconciliation records written.
	Records []string `json:"records,omitempty"`
}

// Failed counts the outcomes that failed.
func (r *Report) Failed() int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status == StatusFailed {
			n++
		}
	}
	return n
}

// runner is one Run's shared state.
type runner struct {
	o       Options
	now     time.Time
	work    string
	co      *checkout
	authors []string
	report  *Report
	// defaultBranch is the repository's default branch, asked once, when a branch is to be
	// deleted.
	defaultBranch string
}

// Run reconciles every unit. An error is returned only when nothing could be done at all (no
// store, no forge, the base branch unknown); a failure for one key is its outcome's and is
// retried by the next run.
func Run(ctx context.Context, units []Unit, o Options) (*Report, error) {
	if o.Forge == nil || o.Store == nil {
		return nil, errors.New("reconcile: a forge and an evidence store are required")
	}
	if o.Group == "" {
		o.Group = GroupFingerprint
	}
	if !validGrouping(o.Group) {
		return nil, fmt.Errorf("reconcile: grouping %q: want one of %s", o.Group, strings.Join(Groupings, ", "))
	}
	if o.BranchPrefix == "" {
		o.BranchPrefix = DefaultBranchPrefix
	}
	if err := checkBranchPrefix(o.BranchPrefix); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := checkRemoteURL(o.Remote.URL); err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	r := &runner{o: o, now: o.Now().UTC(), report: &Report{Outcomes: []Outcome{}}}
	if r.o.Base == "" {
		b, err := o.Forge.DefaultBranch(ctx)
		if err != nil {
			return nil, fmt.Errorf("reconcile: the repository's default branch: %w", r.o.Remote.scrub(err))
		}
		r.o.Base = b
	}
	if len(o.Authors) > 0 {
		r.authors = o.Authors
	} else {
		self, err := o.Forge.Self(ctx)
		if err != nil {
			return nil, fmt.Errorf("reconcile: the forge credential's own login (set the trusted authors when the forge cannot say): %w", r.o.Remote.scrub(err))
		}
		if self == "" {
			return nil, errors.New("reconcile: the forge named no login for the credential (set the trusted authors)")
		}
		r.authors = []string{self}
	}
	work, err := os.MkdirTemp("", "driftplane-reconcile-")
	if err != nil {
		return nil, err
	}
	r.work = work
	defer func() { _ = os.RemoveAll(work) }()
	for _, u := range units {
		if u.Result == nil || u.Result.Report == nil {
			r.report.Skipped = append(r.report.Skipped, u.Policy.Metadata.Name)
			continue
		}
		if err := r.unit(ctx, u); err != nil {
			r.report.Outcomes = append(r.report.Outcomes, Outcome{Unit: u.Policy.Metadata.Name, Status: StatusFailed, Error: err.Error()})
		}
	}
	return r.report, nil
}

func validGrouping(g string) bool {
	for _, x := range Groupings {
		if g == x {
			return true
		}
	}
	return false
}

// checkBranchPrefix accepts a prefix of plain path segments, so prefix/key is a valid, unambiguous
// branch name git and every forge accept as it is.
func checkBranchPrefix(p string) error {
	if len(p) > 100 {
		return fmt.Errorf("reconcile: branch prefix longer than 100 bytes")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg[0] == '.' || seg[0] == '-' || strings.HasSuffix(seg, ".lock") || strings.HasSuffix(seg, ".") {
			return fmt.Errorf("reconcile: branch prefix %q: segment %q is not a plain name", p, seg)
		}
		for _, c := range seg {
			if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '.' {
				return fmt.Errorf("reconcile: branch prefix %q: character %q is not allowed", p, c)
			}
		}
		if strings.Contains(seg, "..") {
			return fmt.Errorf("reconcile: branch prefix %q: \"..\" is not allowed", p)
		}
	}
	return nil
}

func (r *runner) branch(key string) string { return r.o.BranchPrefix + "/" + key }

// checkout clones the base branch once per run, on first need.
func (r *runner) checkout(ctx context.Context) (*checkout, error) {
	if r.co != nil {
		return r.co, nil
	}
	co, err := clone(ctx, r.o.Remote, r.o.Base, path.Join(r.work, "repo"))
	if err != nil {
		return nil, err
	}
	r.co = co
	return co, nil
}

// unitState is one unit's reconciliation in this run.
type unitState struct {
	u       Unit
	unit    string
	tracked map[string]*Tracked
	events  []Event
	// resolutions are how the ledger says each fingerprint ended in this evaluation.
	resolutions map[string]string
	ledgerKey   string
	evidence    string
	at          string
	// source is the repository and folder the pull requests go to (Record.Source).
	source string
	// branchNotes say what this run did with a key's branch, for its outcome; deleted are the
	// keys whose branch this run deleted.
	branchNotes map[string]string
	deleted     map[string]bool
}

func (r *runner) unit(ctx context.Context, u Unit) error {
	name := u.Policy.Metadata.Name
	prev, prevKey, err := Latest(ctx, r.o.Store, name)
	if err != nil {
		return err
	}
	source := r.o.Remote.URL + "//" + u.Dir
	if prev != nil && prev.Source != "" && prev.Source != source {
		return fmt.Errorf("unit %s: its reconciliation records belong to %s, not %s: two applications or stacks declare the same unit name, and neither may close or verify the other's pull requests", name, prev.Source, source)
	}
	s := &unitState{u: u, unit: name, source: source, tracked: map[string]*Tracked{}, resolutions: map[string]string{},
		evidence: u.Result.EvidenceLocation, at: u.Result.At.UTC().Format(time.RFC3339), branchNotes: map[string]string{}, deleted: map[string]bool{}}
	if prev != nil {
		for i := range prev.State {
			t := prev.State[i]
			s.tracked[t.Key] = &t
		}
	}
	if rec, key, err := ledger.Latest(ctx, r.o.Store, name); err == nil && rec != nil {
		s.ledgerKey = key
		for _, e := range rec.Events {
			if e.Kind == ledger.EventResolved {
				s.resolutions[e.Fingerprint] = e.Resolution
			}
		}
	}
	groups, skipped := r.groups(u)
	for _, msg := range skipped {
		r.report.Warnings = append(r.report.Warnings, name+": "+msg)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := groups[k]
		r.present(ctx, s, g)
	}
	var gone []string
	for k := range s.tracked {
		if groups[k] == nil {
			gone = append(gone, k)
		}
	}
	sort.Strings(gone)
	for _, k := range gone {
		r.gone(ctx, s, k)
	}
	return r.write(ctx, s, prev, prevKey)
}

// groups selects the findings reconciliation acts on and groups them. A finding whose fingerprint
// is not in driftplane's format is refused (it would name a branch and a marker).
func (r *runner) groups(u Unit) (map[string]*group, []string) {
	exc := map[string]*drift.Exception{}
	for _, e := range u.Exceptions {
		exc[e.ID()] = e
	}
	out := map[string]*group{}
	var skipped []string
	for _, f := range u.Result.Report.Findings {
		if !acts(f.RecommendedAction) {
			continue
		}
		fp := f.Fingerprint
		if fp == "" {
			fp = drift.Fingerprint(f)
		}
		if !strings.HasPrefix(fp, "fp-") || !ValidKey(fp) {
			skipped = append(skipped, fmt.Sprintf("finding %s: fingerprint %q is not in driftplane's format; not reconciled", code(f.FindingID), fp))
			continue
		}
		f.Fingerprint = fp
		key := fp
		switch r.o.Group {
		case GroupResource:
			key = groupKey(u.Policy.Metadata.Name, "resource", f.ResourceRef)
		case GroupUnit:
			key = groupKey(u.Policy.Metadata.Name, "unit")
		}
		g := out[key]
		if g == nil {
			g = &group{key: key, unit: u.Policy, exceptions: exc}
			out[key] = g
		}
		g.findings = append(g.findings, f)
	}
	return out, skipped
}

func acts(a drift.Action) bool {
	for _, x := range Actions {
		if a == x {
			return true
		}
	}
	return false
}

// groupKey is a group's key: a digest of what groups it, so any unit or resource name becomes a
// safe branch name.
func groupKey(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "g-" + hex.EncodeToString(sum[:10])
}

// present handles a group whose drift this evaluation still finds.
func (r *runner) present(ctx context.Context, s *unitState, g *group) {
	t := s.tracked[g.key]
	if t == nil || ended(t.Status) {
		// A drift found again after it ended (its branch's deletion still to retry) starts a new
		// life: the proposal rebuilds the branch.
		t = &Tracked{Key: g.key}
		s.tracked[g.key] = t
	}
	t.Fingerprints, t.FindingIDs, t.Resources, t.Actions = nil, nil, nil, nil
	for _, f := range g.findings {
		t.Fingerprints = append(t.Fingerprints, f.Fingerprint)
		t.FindingIDs = append(t.FindingIDs, f.FindingID)
		t.Resources = append(t.Resources, f.ResourceRef)
		t.Actions = append(t.Actions, string(f.RecommendedAction))
	}
	t.Fingerprints, t.FindingIDs, t.Resources, t.Actions = sortedUnique(t.Fingerprints), sortedUnique(t.FindingIDs), sortedUnique(t.Resources), sortedUnique(t.Actions)
	if t.Status == StatusDeclined {
		r.cleanup(ctx, s, t)
		r.outcome(s, t, "")
		return
	}
	if t.PR > 0 && (t.Status == StatusProposed || t.Status == StatusPending || t.Status == StatusFailed) {
		pr, err := r.find(ctx, t.Key, t.PR)
		if err != nil {
			r.fail(s, t, err)
			return
		}
		switch {
		case pr != nil && pr.State == forge.StateMerged:
			if t.Status != StatusPending {
				t.Status, t.MergedAt = StatusPending, stamp(pr.MergedAt, s.at)
				t.Summary = fmt.Sprintf("accepted into Git by PR #%d (merged at %s); pending: the evaluation at %s still finds the drift", t.PR, t.MergedAt, s.at)
				s.event(EventMerged, t, t.Summary)
				if err := r.o.Forge.Comment(ctx, t.PR, pendingComment(s.at)); err != nil {
					r.warn(s, fmt.Sprintf("commenting on #%d: %v", t.PR, r.o.Remote.scrub(err)))
				}
			}
			t.Error = ""
			r.outcome(s, t, "")
			return
		case pr != nil && pr.State == forge.StateClosed:
			t.Status, t.ClosedAt, t.Error = StatusDeclined, s.at, ""
			t.Summary = fmt.Sprintf("PR #%d was closed without being merged; not reopened while the drift lasts", t.PR)
			s.event(EventDeclined, t, t.Summary)
			r.cleanup(ctx, s, t)
			r.outcome(s, t, "")
			return
		case pr == nil:
			// The pull request is gone from the listing (deleted, or the branch renamed): a new
			// one is proposed below.
			t.PR, t.URL = 0, ""
		}
	}
	r.propose(ctx, s, g, t)
}

// propose builds the change for g on the base branch and opens or updates its pull request.
func (r *runner) propose(ctx context.Context, s *unitState, g *group, t *Tracked) {
	co, err := r.checkout(ctx)
	if err != nil {
		r.fail(s, t, err)
		return
	}
	if err := co.reset(); err != nil {
		r.fail(s, t, err)
		return
	}
	notes, commands, err := r.build(ctx, co, s.u, g)
	if err != nil {
		r.fail(s, t, err)
		return
	}
	g.notes, g.commands = notes, commands
	t.Notes, t.Commands = notes, commands
	// The body links the evidence of the evaluation that first proposed the change, so an
	// unchanged drift leaves the body, and the pull request, untouched.
	if len(t.Evidence) == 0 && s.evidence != "" {
		t.Evidence = []string{s.evidence}
	}
	if t.Ledger == "" {
		t.Ledger = s.ledgerKey
	}
	g.evidence, g.ledger = first(t.Evidence), t.Ledger
	branch := r.branch(g.key)
	h, err := co.commitWorktree(branch, commitMessage(g))
	if err != nil {
		r.fail(s, t, err)
		return
	}
	if h == plumbing.ZeroHash {
		// Nothing to commit: the commands and notes are the reconciliation.
		if t.Status != StatusReported {
			t.Status = StatusReported
			t.Summary = "nothing committed: see the commands and notes"
			s.event(EventReported, t, strings.Join(append(append([]string{}, commands...), notes...), "; "))
		}
		t.Error = ""
		r.outcome(s, t, "")
		return
	}
	diff, err := co.diff(h)
	if err != nil {
		r.fail(s, t, err)
		return
	}
	g.diff = diff
	g.codeowners = codeowners(co, changedPaths(diff))
	pushed, err := co.push(ctx, branch, h)
	if err != nil {
		r.fail(s, t, err)
		return
	}
	t.Branch, t.Commit = branch, h.String()
	title, body := g.title(), g.body()
	pr, err := r.find(ctx, g.key, t.PR)
	if err != nil {
		r.fail(s, t, err)
		return
	}
	if pr == nil {
		if n, who, err := r.foreign(ctx, branch); err != nil || n > 0 {
			if err == nil {
				err = fmt.Errorf("pull request #%d from %s was not opened by driftplane (author %q); close it or remove the branch, it is never adopted", n, branch, who)
			}
			r.fail(s, t, err)
			return
		}
		created, err := r.o.Forge.Create(ctx, forge.NewPullRequest{Title: title, Body: body, Head: branch, Base: r.o.Base})
		if err != nil {
			r.fail(s, t, fmt.Errorf("opening the pull request: %w", r.o.Remote.scrub(err)))
			return
		}
		t.PR, t.URL, t.Status, t.ProposedAt, t.Error = created.Number, created.URL, StatusProposed, s.at, ""
		t.Summary = fmt.Sprintf("proposed in PR #%d", created.Number)
		s.event(EventProposed, t, t.Summary)
		reviewers := append([]string{}, g.codeowners...)
		if err := r.o.Forge.RequestReviewers(ctx, created.Number, reviewers); err != nil && len(reviewers) > 0 {
			r.warn(s, fmt.Sprintf("asking %s to review #%d: %v", strings.Join(reviewers, ", "), created.Number, r.o.Remote.scrub(err)))
		}
		r.outcome(s, t, "")
		return
	}
	changed := pushed
	if pr.Title != title || strings.ReplaceAll(pr.Body, "\r\n", "\n") != body {
		if err := r.o.Forge.Edit(ctx, pr.Number, title, body); err != nil {
			r.fail(s, t, fmt.Errorf("updating #%d: %w", pr.Number, r.o.Remote.scrub(err)))
			return
		}
		changed = true
	}
	wasProposed := t.Status == StatusProposed && t.PR == pr.Number
	t.PR, t.URL, t.Status, t.Error = pr.Number, pr.URL, StatusProposed, ""
	if t.ProposedAt == "" {
		t.ProposedAt = s.at
	}
	t.Summary = fmt.Sprintf("proposed in PR #%d", pr.Number)
	if changed || !wasProposed {
		s.event(EventUpdated, t, fmt.Sprintf("PR #%d updated", pr.Number))
	}
	r.outcome(s, t, "")
}

// find is the group's pull request: the one numbered number when given (it must still be a
// trusted one of the branch), else the oldest open trusted one of the branch — one a crashed run
// opened without recording it. Merged or closed ones of an earlier life of the drift are history.
func (r *runner) find(ctx context.Context, key string, number int64) (*forge.PullRequest, error) {
	branch := r.branch(key)
	prs, err := r.o.Forge.PullRequests(ctx, branch)
	if err != nil {
		return nil, fmt.Errorf("listing the pull requests of %s: %w", branch, r.o.Remote.scrub(err))
	}
	var best *forge.PullRequest
	for i := range prs {
		p := &prs[i]
		if !forge.Keep(*p, r.o.Forge.Repo(), branch) || !r.trusted(p.Author) {
			continue
		}
		if k, ok := ParseMarker(p.Body); !ok || k != key {
			continue
		}
		if number > 0 {
			if p.Number == number {
				return p, nil
			}
			continue
		}
		if p.State == forge.StateOpen && (best == nil || p.Number < best.Number) {
			best = p
		}
	}
	return best, nil
}

// foreign is an open pull request from branch that is not driftplane's (0 when none): the forge
// would refuse a second one for the same head, and adopting it would let anyone write the body
// reviewers trust.
func (r *runner) foreign(ctx context.Context, branch string) (int64, string, error) {
	prs, err := r.o.Forge.PullRequests(ctx, branch)
	if err != nil {
		return 0, "", fmt.Errorf("listing the pull requests of %s: %w", branch, r.o.Remote.scrub(err))
	}
	for _, p := range prs {
		if forge.Keep(p, r.o.Forge.Repo(), branch) && p.State == forge.StateOpen && !r.trusted(p.Author) {
			return p.Number, p.Author, nil
		}
	}
	return 0, "", nil
}

func (r *runner) trusted(author string) bool {
	for _, a := range r.authors {
		if a != "" && strings.EqualFold(a, author) {
			return true
		}
	}
	return false
}

// gone handles a tracked key whose drift this evaluation no longer finds.
func (r *runner) gone(ctx context.Context, s *unitState, key string) {
	t := s.tracked[key]
	if ended(t.Status) {
		// Ended by an earlier run, kept only to retry deleting its branch.
		done := r.cleanup(ctx, s, t)
		r.outcome(s, t, "")
		if done {
			delete(s.tracked, key)
		}
		return
	}
	reason := r.reason(s, t)
	if t.PR > 0 && t.Status != StatusDeclined {
		pr, err := r.find(ctx, key, t.PR)
		if err != nil {
			r.fail(s, t, err)
			return
		}
		switch {
		case pr != nil && pr.State == forge.StateMerged || pr == nil && t.Status == StatusPending:
			merged := t.MergedAt
			if pr != nil {
				merged = stamp(pr.MergedAt, s.at)
			}
			t.Status, t.MergedAt, t.VerifiedAt, t.Error = StatusVerified, merged, s.at, ""
			if s.evidence != "" && !contains(t.Evidence, s.evidence) {
				t.Evidence = append(t.Evidence, s.evidence)
			}
			t.Summary = fmt.Sprintf("accepted into Git by PR #%d, verified at %s", t.PR, s.at)
			s.event(EventVerified, t, t.Summary)
			if err := r.o.Forge.Comment(ctx, t.PR, verifiedComment(t.PR, s.at, s.evidence)); err != nil {
				r.warn(s, fmt.Sprintf("commenting on #%d: %v", t.PR, r.o.Remote.scrub(err)))
			}
		case pr != nil && pr.State == forge.StateOpen:
			if err := r.o.Forge.Comment(ctx, t.PR, closedComment(reason, s.at)); err != nil {
				r.fail(s, t, fmt.Errorf("commenting the closure on #%d: %w", t.PR, r.o.Remote.scrub(err)))
				return
			}
			if err := r.o.Forge.Close(ctx, t.PR); err != nil {
				r.fail(s, t, fmt.Errorf("closing #%d: %w", t.PR, r.o.Remote.scrub(err)))
				return
			}
			t.Status, t.ClosedAt, t.Error = StatusClosed, s.at, ""
			t.Summary = fmt.Sprintf("PR #%d closed: %s", t.PR, reason)
			s.event(EventClosed, t, t.Summary)
		default:
			t.Status, t.ClosedAt, t.Error = StatusClosed, s.at, ""
			t.Summary = fmt.Sprintf("PR #%d was already closed; the drift ended: %s", t.PR, reason)
			s.event(EventClosed, t, t.Summary)
		}
	} else {
		t.Status, t.ClosedAt, t.Error = StatusResolved, s.at, ""
		t.Summary = "the drift ended: " + reason
		s.event(EventResolved, t, t.Summary)
	}
	done := r.cleanup(ctx, s, t)
	r.outcome(s, t, "")
	if done {
		delete(s.tracked, key) // ended: its history is in the records' events
	}
}

// ended says a tracked key's reconciliation is over; it is still tracked only while its branch's
// deletion is to be retried.
func ended(status string) bool {
	return status == StatusVerified || status == StatusClosed || status == StatusResolved
}

// cleanup deletes t's branch once its pull request no longer needs it (merged and verified,
// closed, declined), once, and only while the branch's tip is still the commit driftplane pushed.
// It returns false when the deletion failed and is to be retried by the next run: a warning, never
// the key's failure.
func (r *runner) cleanup(ctx context.Context, s *unitState, t *Tracked) bool {
	if t.Branch == "" || t.PR <= 0 || t.BranchDeletedAt != "" || t.BranchKept != "" {
		return true
	}
	keep := func(why string) bool {
		t.BranchKept = why
		// The branch may be a tampered record's: one line, whatever it holds.
		s.branchNotes[t.Key] = fmt.Sprintf("branch %s kept: %s", markdown.OneLine(t.Branch), why)
		s.event(EventBranchKept, t, s.branchNotes[t.Key])
		return true
	}
	retry := func(err error) bool {
		r.warn(s, fmt.Sprintf("deleting branch %s of #%d (retried by the next run): %v", t.Branch, t.PR, r.o.Remote.scrub(err)))
		return false
	}
	// The branch comes from the record: it must be the one this run names for the key (a changed
	// prefix leaves the old branches alone), and never the base or the default branch.
	if !ValidKey(t.Key) || t.Branch != r.branch(t.Key) {
		return keep("it is not the branch reconciliation names for its key with the prefix " + r.o.BranchPrefix)
	}
	if !plumbing.IsHash(t.Commit) {
		return keep("the commit driftplane pushed there is not recorded")
	}
	if r.defaultBranch == "" {
		b, err := r.o.Forge.DefaultBranch(ctx)
		if err == nil && b == "" {
			err = errors.New("the forge named none")
		}
		if err != nil {
			return retry(fmt.Errorf("the repository's default branch: %w", err))
		}
		r.defaultBranch = b
	}
	if strings.EqualFold(t.Branch, r.o.Base) || strings.EqualFold(t.Branch, r.defaultBranch) {
		return keep("it is the repository's default or base branch")
	}
	// Deleting the branch would close any pull request still open from it, someone else's too.
	prs, err := r.o.Forge.PullRequests(ctx, t.Branch)
	if err != nil {
		return retry(fmt.Errorf("listing its pull requests: %w", err))
	}
	for _, p := range prs {
		if forge.Keep(p, r.o.Forge.Repo(), t.Branch) && p.State == forge.StateOpen {
			return retry(fmt.Errorf("pull request #%d from it is still open", p.Number))
		}
	}
	co, err := r.checkout(ctx)
	if err != nil {
		return retry(err)
	}
	what, why, err := co.deleteBranch(ctx, t.Branch, plumbing.NewHash(t.Commit))
	if err != nil {
		return retry(err)
	}
	switch what {
	case branchRefused:
		return keep(why)
	case branchAbsent:
		t.BranchDeletedAt = s.at
		s.branchNotes[t.Key] = fmt.Sprintf("branch %s was already gone", t.Branch)
	default:
		t.BranchDeletedAt = s.at
		s.deleted[t.Key] = true
		s.branchNotes[t.Key] = fmt.Sprintf("branch %s deleted at its commit %s", t.Branch, t.Commit)
	}
	s.event(EventBranchDeleted, t, s.branchNotes[t.Key])
	return true
}

// reason is how the ledger says the key's drift ended in this evaluation.
func (r *runner) reason(s *unitState, t *Tracked) string {
	var rs []string
	for _, fp := range t.Fingerprints {
		if res := s.resolutions[fp]; res != "" {
			rs = append(rs, res)
		}
	}
	rs = sortedUnique(rs)
	if len(rs) == 0 {
		return "no longer found by the evaluation at " + s.at
	}
	return "the ledger records it resolved (" + strings.Join(rs, ", ") + ") at " + s.at
}

func (r *runner) fail(s *unitState, t *Tracked, err error) {
	msg := r.o.Remote.scrub(err).Error()
	if t.Status != StatusFailed || t.Error != msg {
		s.event(EventFailed, t, msg)
	}
	if t.Status != StatusPending && t.Status != StatusDeclined {
		t.Status = StatusFailed
	}
	t.Error = msg
	r.outcome(s, t, msg)
}

func (r *runner) warn(s *unitState, msg string) {
	r.report.Warnings = append(r.report.Warnings, s.unit+": "+msg)
}

func (r *runner) outcome(s *unitState, t *Tracked, errMsg string) {
	status := t.Status
	if errMsg != "" {
		status = StatusFailed
	}
	notes := t.Notes
	if n := s.branchNotes[t.Key]; n != "" {
		notes = append(append([]string{}, t.Notes...), n)
	}
	r.report.Outcomes = append(r.report.Outcomes, Outcome{Unit: s.unit, Key: t.Key, Status: status, Branch: t.Branch, PR: t.PR, URL: t.URL,
		Summary: t.Summary, Commands: t.Commands, Notes: notes, BranchDeleted: s.deleted[t.Key], Error: errMsg})
}

func (s *unitState) event(kind string, t *Tracked, detail string) {
	s.events = append(s.events, Event{Kind: kind, Key: t.Key, PR: t.PR, URL: t.URL, At: s.at, Detail: detail})
}

// write appends the unit's record when this run changed anything.
func (r *runner) write(ctx context.Context, s *unitState, prev *Record, prevKey string) error {
	state := make([]Tracked, 0, len(s.tracked))
	for _, t := range s.tracked {
		state = append(state, *t)
	}
	sort.Slice(state, func(i, j int) bool { return state[i].Key < state[j].Key })
	if len(s.events) == 0 && prev != nil && sameState(prev.State, state) {
		return nil
	}
	if len(s.events) == 0 && prev == nil && len(state) == 0 {
		return nil
	}
	rec := &Record{SchemaVersion: SchemaVersion, Unit: s.unit, At: r.now.Format(time.RFC3339), Sequence: 1, Previous: prevKey,
		Ledger: s.ledgerKey, Evidence: s.evidence, Source: s.source, Events: s.events, State: state}
	if rec.Events == nil {
		rec.Events = []Event{}
	}
	if prev != nil {
		rec.Sequence = prev.Sequence + 1
	}
	key, data, err := rec.Encode()
	if err != nil {
		return err
	}
	if _, err := r.o.Store.PutContext(ctx, key, data); err != nil {
		return fmt.Errorf("writing the reconciliation record: %w", err)
	}
	r.report.Records = append(r.report.Records, key)
	return nil
}

func sameState(a, b []Tracked) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, _ := drift.CanonicalJSON(a[i])
		y, _ := drift.CanonicalJSON(b[i])
		if string(x) != string(y) {
			return false
		}
	}
	return true
}

func stamp(t time.Time, fallback string) string {
	if t.IsZero() {
		return fallback
	}
	return t.UTC().Format(time.RFC3339)
}

func first(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func commitMessage(g *group) string {
	refs := g.resources()
	return fmt.Sprintf("driftplane: accept %s into Git\n\nUnit %s, grouping key %s. Findings: %s.\n",
		strings.Join(refs, ", "), g.unit.Metadata.Name, g.key, strings.Join(findingIDs(g.findings), ", "))
}

func findingIDs(fs []drift.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.FindingID)
	}
	return out
}
