// Package forge is the little driftplane's reconciliation needs from a forge's pull (merge)
// requests: list those of one head branch, open, edit, comment, close, ask for reviewers. The
// forge packages (forge/github, forge/gitlab, forge/gitea) translate it to their API; package
// reconcile holds the state machine over it, so every forge behaves alike.
//
// What a forge answers is checked, not trusted: a listing entry whose head branch or repository
// is not the one asked about is dropped (a fork's pull request from a branch of the same name is
// not ours), and an answer about another number than the one asked about is an error (Check*).
// Implementations must honour ctx and must never put the credential in an error.
package forge

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Pull request states as reconciliation sees them.
const (
	StateOpen   = "open"
	StateClosed = "closed" // closed without being merged
	StateMerged = "merged"
)

// PullRequest is a pull (merge) request as a forge lists it.
type PullRequest struct {
	// Number is the pull request's number in its repository (GitLab's iid).
	Number int64
	Title  string
	Body   string
	// Head and Base are branch names (no refs/heads/).
	Head, Base string
	// HeadRepo is owner/name of the repository the head branch lives in; a fork's differs from
	// the repository's own.
	HeadRepo string
	// State is StateOpen, StateClosed or StateMerged.
	State string
	// Author is the login of the account that opened it.
	Author string
	// URL is its web page.
	URL string
	// MergedAt is when it was merged (zero unless merged).
	MergedAt time.Time
}

// NewPullRequest is what Create opens.
type NewPullRequest struct {
	Title, Body, Head, Base string
}

// Forge is one repository's pull requests.
type Forge interface {
	// Repo is owner/name of the repository.
	Repo() string
	// PullRequests lists every pull request (open, closed and merged) whose head is branch, over
	// all pages. Entries from another head or another repository are the caller's to drop
	// (Keep).
	PullRequests(ctx context.Context, head string) ([]PullRequest, error)
	// Create opens a pull request from p.Head into p.Base.
	Create(ctx context.Context, p NewPullRequest) (PullRequest, error)
	// Edit replaces a pull request's title and body.
	Edit(ctx context.Context, number int64, title, body string) error
	// Comment adds a comment.
	Comment(ctx context.Context, number int64, body string) error
	// Close closes a pull request without merging it.
	Close(ctx context.Context, number int64) error
	// RequestReviewers asks logins to review.
	RequestReviewers(ctx context.Context, number int64, logins []string) error
	// Self is the login the credential belongs to.
	Self(ctx context.Context) (string, error)
	// DefaultBranch is the repository's default branch.
	DefaultBranch(ctx context.Context) (string, error)
}

// Keep says whether a listed pull request is one of head's in repo: the forge's filter is not
// trusted to have applied (an API that ignores an unknown query parameter lists everything).
func Keep(p PullRequest, repo, head string) bool {
	return p.Number > 0 && p.Head == head && strings.EqualFold(p.HeadRepo, repo)
}

// CheckCreated refuses a Create answer that is not the pull request asked for: no number, or
// another head or base. A forge that answers with another pull request would make the next run
// edit or close the wrong one.
func CheckCreated(got PullRequest, asked NewPullRequest) error {
	if got.Number <= 0 {
		return fmt.Errorf("the forge answered the creation without a pull request number")
	}
	if got.Head != asked.Head || got.Base != asked.Base {
		return fmt.Errorf("the forge answered the creation with pull request #%d from %q into %q, not from %q into %q",
			got.Number, got.Head, got.Base, asked.Head, asked.Base)
	}
	return nil
}

// CheckNumber refuses an answer about another pull request than the one asked about.
func CheckNumber(asked, got int64) error {
	if asked != got {
		return fmt.Errorf("asked about pull request #%d, the forge answered about #%d", asked, got)
	}
	return nil
}
