// Package issues tells a finding's owners about it with an issue on their forge (GitHub, GitLab,
// Gitea/Forgejo): one issue per drift fingerprint, commented when the drift changes, closed with
// the resolution when it resolves, reopened (never duplicated) when the same drift comes back.
//
// The state machine is written once here over a small Forge interface; the forge packages
// (issues/gitea, issues/github, issues/gitlab) only translate its calls to their API.
//
// How an issue is found again. Every issue the receiver opens carries the receiver's label and a
// body whose first line is exactly `<!-- driftplane:fingerprint=fp-… -->` (and whose second line
// records the finding the body describes). Each Send lists every issue carrying the label, open
// and closed, all pages, and keeps those whose first line is that marker in that exact format and
// whose author is the receiver's own account (or one of Config.Authors). Everything a finding
// says is rendered inside code spans with its comment openers broken, so a finding whose text
// holds a marker cannot make the receiver match, close or comment on another drift's issue, and
// an issue someone else wrote with a copied marker is ignored. Forge search APIs are not used:
// their indexes lag behind writes, and an issue created a moment ago that search cannot see yet
// would be created again.
//
// Decisions: a drift that resolved and comes back (same fingerprint) reopens its issue with a
// comment, so the issue is the drift's whole history; closing the issue by hand while the drift
// is still there does not end it (the next evaluation reopens it; accept the drift with an
// exception instead). A resolution for a drift that has no issue opens none. Each step comments
// before it edits or changes state, so a failure part-way makes the next Send repeat the comment
// (at least once) rather than lose it. Two receivers writing the same repository at the same
// instant can still both create an issue for a new drift; the next Send then uses the oldest.
package issues

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
)

// DefaultLabel marks the issues a receiver manages.
const DefaultLabel = "driftplane"

// labelColor is the managed label's colour (hex, no '#'; forges that want one add it).
const labelColor = "d93f0b"

// labelDescription explains the managed label to whoever browses the repository's labels.
const labelDescription = "Drift tracked by driftplane: opened, updated and closed automatically"

// Issue is an issue as a forge lists it.
type Issue struct {
	// Number is the issue's number in its repository (GitLab's iid).
	Number int64
	Title  string
	Body   string
	Open   bool
	// Author is the login of the account that opened the issue.
	Author string
	Labels []string
	// URL is the issue's web page.
	URL string
}

// Label is a label the receiver makes sure exists before it opens an issue.
type Label struct {
	Name        string
	Color       string
	Description string
}

// Forge is the little a receiver needs from an issue tracker. Numbers are the repository's issue
// numbers. Implementations must honour ctx and must not put the credential in an error.
type Forge interface {
	// Issues lists every issue (open and closed, no pull or merge requests) that carries label,
	// over all pages.
	Issues(ctx context.Context, label string) ([]Issue, error)
	// Create opens an issue with labels.
	Create(ctx context.Context, title, body string, labels []string) (Issue, error)
	// Comment adds a comment to an issue.
	Comment(ctx context.Context, number int64, body string) error
	// Edit replaces an issue's title and body.
	Edit(ctx context.Context, number int64, title, body string) error
	// SetOpen closes (false) or reopens (true) an issue.
	SetOpen(ctx context.Context, number int64, open bool) error
	// EnsureLabel creates the label when the repository does not have it yet.
	EnsureLabel(ctx context.Context, l Label) error
	// Self is the login of the account the forge's credential belongs to.
	Self(ctx context.Context) (string, error)
}

// Config is how a receiver manages its issues.
type Config struct {
	// Label marks the receiver's issues (DefaultLabel when empty). Only issues carrying it are
	// considered.
	Label string
	// ExtraLabels are added to every issue the receiver opens (e.g. a team's triage label).
	ExtraLabels []string
	// Authors are the logins whose issues the receiver trusts as its own. Empty: the login of
	// the receiver's own credential (Forge.Self). Set it when Self cannot answer (a GitHub App
	// installation token: "my-app[bot]") or when the bot account was replaced.
	Authors []string
}

// Receiver is a notify.Receiver that keeps one issue per drift fingerprint on a forge.
type Receiver struct {
	name  string
	forge Forge
	cfg   Config
}

// New is a receiver named name (its name in the routing policy) writing issues through forge.
func New(name string, forge Forge, cfg Config) *Receiver {
	if cfg.Label == "" {
		cfg.Label = DefaultLabel
	}
	return &Receiver{name: name, forge: forge, cfg: cfg}
}

// Name is the receiver's name in the routing policy.
func (r *Receiver) Name() string { return r.name }

var _ notify.Receiver = (*Receiver)(nil)

// Send brings each notification's issue to the notification's state. It lists the managed
// issues once for the group, goes on past a notification that fails and returns every failure.
func (r *Receiver) Send(ctx context.Context, group []notify.Notification) error {
	if len(group) == 0 {
		return nil
	}
	authors, err := r.authors(ctx)
	if err != nil {
		return err
	}
	listed, err := r.forge.Issues(ctx, r.cfg.Label)
	if err != nil {
		return fmt.Errorf("%s: listing issues labelled %q: %w", r.name, r.cfg.Label, err)
	}
	s := &sendState{r: r, index: index(listed, r.cfg.Label, authors)}
	var errs []error
	for _, n := range group {
		fp := fingerprintOf(n)
		if err := s.one(ctx, fp, n); err != nil {
			errs = append(errs, fmt.Errorf("%s: drift %s: %w", r.name, fp, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Receiver) authors(ctx context.Context) ([]string, error) {
	if len(r.cfg.Authors) > 0 {
		return r.cfg.Authors, nil
	}
	self, err := r.forge.Self(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: finding the credential's own login (set the receiver's authors when the forge cannot say): %w", r.name, err)
	}
	if self == "" {
		return nil, fmt.Errorf("%s: the forge named no login for the credential (set the receiver's authors)", r.name)
	}
	return []string{self}, nil
}

// fingerprintOf is the notification's drift key: the ledger's fingerprint, or the core's when no
// ledger gave one (the same function the ledger uses, so both agree).
func fingerprintOf(n notify.Notification) string {
	if n.Finding.Fingerprint != "" {
		return n.Finding.Fingerprint
	}
	return drift.Fingerprint(n.Finding)
}

// index keeps, per fingerprint, the oldest trusted issue: labelled, written by a trusted author,
// its first line the marker in the exact format. A duplicate (two receivers racing) loses to the
// older one, so every later Send settles on the same issue.
func index(listed []Issue, label string, authors []string) map[string]*Issue {
	out := map[string]*Issue{}
	for i := range listed {
		is := &listed[i]
		if !hasLabel(is.Labels, label) || !trusted(is.Author, authors) {
			continue
		}
		m, ok := ParseMarker(is.Body)
		if !ok {
			continue
		}
		if prev, seen := out[m.Fingerprint]; !seen || is.Number < prev.Number {
			out[m.Fingerprint] = is
		}
	}
	return out
}

func hasLabel(labels []string, label string) bool {
	for _, l := range labels {
		if strings.EqualFold(l, label) {
			return true
		}
	}
	return false
}

// trusted compares logins case-insensitively: every supported forge treats them so.
func trusted(author string, authors []string) bool {
	for _, a := range authors {
		if a != "" && strings.EqualFold(a, author) {
			return true
		}
	}
	return false
}

// sendState is one Send's view of the forge: the index it listed, kept current as it creates.
type sendState struct {
	r          *Receiver
	index      map[string]*Issue
	labelReady bool
}

func (s *sendState) one(ctx context.Context, fp string, n notify.Notification) error {
	if !validFingerprint(fp) {
		return fmt.Errorf("not a driftplane fingerprint (refusing to write it into a marker)")
	}
	if !validFindingID(n.Finding.FindingID) {
		return fmt.Errorf("finding id is not in driftplane's format (refusing to write it into a marker)")
	}
	is := s.index[fp]
	switch n.State {
	case notify.StateResolved:
		if is == nil || !is.Open {
			return nil
		}
		if err := s.r.forge.Comment(ctx, is.Number, resolvedComment(n)); err != nil {
			return fmt.Errorf("commenting the resolution on issue #%d: %w", is.Number, err)
		}
		if err := s.r.forge.SetOpen(ctx, is.Number, false); err != nil {
			return fmt.Errorf("closing issue #%d: %w", is.Number, err)
		}
		is.Open = false
		return nil
	case notify.StateFiring:
	default:
		return fmt.Errorf("unknown notification state %q", n.State)
	}
	title, body := Title(n), Body(fp, n)
	if is == nil {
		return s.create(ctx, fp, title, body)
	}
	m, _ := ParseMarker(is.Body)
	switch {
	case !is.Open:
		if err := s.r.forge.Comment(ctx, is.Number, reopenedComment(n, m.FindingID)); err != nil {
			return fmt.Errorf("commenting the drift's return on issue #%d: %w", is.Number, err)
		}
		if err := s.edit(ctx, is, title, body); err != nil {
			return err
		}
		if err := s.r.forge.SetOpen(ctx, is.Number, true); err != nil {
			return fmt.Errorf("reopening issue #%d: %w", is.Number, err)
		}
		is.Open = true
	case m.FindingID != n.Finding.FindingID:
		// A new finding id under the same fingerprint is new values at the same paths; the
		// body records which finding it describes, so a repeated Send of the same change is
		// told once whatever Notification.Changed says.
		if err := s.r.forge.Comment(ctx, is.Number, changedComment(n, m.FindingID)); err != nil {
			return fmt.Errorf("commenting the change on issue #%d: %w", is.Number, err)
		}
		return s.edit(ctx, is, title, body)
	}
	return nil
}

func (s *sendState) create(ctx context.Context, fp, title, body string) error {
	labels := append([]string{s.r.cfg.Label}, s.r.cfg.ExtraLabels...)
	if !s.labelReady {
		for _, l := range labels {
			if err := s.r.forge.EnsureLabel(ctx, Label{Name: l, Color: labelColor, Description: labelDescription}); err != nil {
				return fmt.Errorf("creating label %q: %w", l, err)
			}
		}
		s.labelReady = true
	}
	created, err := s.r.forge.Create(ctx, title, body, labels)
	if err != nil {
		return fmt.Errorf("opening an issue: %w", err)
	}
	created.Body, created.Open = body, true
	s.index[fp] = &created
	return nil
}

func (s *sendState) edit(ctx context.Context, is *Issue, title, body string) error {
	if err := s.r.forge.Edit(ctx, is.Number, title, body); err != nil {
		return fmt.Errorf("updating issue #%d: %w", is.Number, err)
	}
	is.Title, is.Body = title, body
	return nil
}
