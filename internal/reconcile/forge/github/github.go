// Package github is reconciliation's pull requests on GitHub or GitHub Enterprise Server with
// go-github (see package forge for the contract, package reconcile for the state machine).
package github

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v93/github"

	ghapi "github.com/driftplane/terraform-provider-drift/internal/forgeapi/github"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge"
)

// Config says which repository and how to reach it (the connection every GitHub client of
// driftplane shares).
type Config = ghapi.Config

// Forge is a GitHub repository's pull requests.
type Forge struct {
	c           *gh.Client
	owner, repo string
}

var _ forge.Forge = (*Forge)(nil)

// New checks cfg and returns the forge; it makes no call.
func New(cfg Config) (*Forge, error) {
	c, err := ghapi.Connect(cfg)
	if err != nil {
		return nil, err
	}
	return &Forge{c: c, owner: cfg.Owner, repo: cfg.Repo}, nil
}

// Repo is owner/name.
func (f *Forge) Repo() string { return f.owner + "/" + f.repo }

// PullRequests lists the pull requests whose head is owner:head, in every state.
func (f *Forge) PullRequests(ctx context.Context, head string) ([]forge.PullRequest, error) {
	opt := &gh.PullRequestListOptions{State: "all", Head: f.owner + ":" + head, ListOptions: gh.ListOptions{PerPage: ghapi.PerPage, Page: 1}}
	var out []forge.PullRequest
	for pages := 1; ; pages++ {
		if pages > ghapi.MaxPages {
			return nil, fmt.Errorf("more than %d pages of pull requests", ghapi.MaxPages)
		}
		got, resp, err := f.c.PullRequests.List(ctx, f.owner, f.repo, opt)
		if err != nil {
			return nil, err
		}
		for _, p := range got {
			out = append(out, Convert(p))
		}
		if resp.NextPage <= opt.Page {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}

// Convert is a GitHub pull request as reconciliation sees it.
func Convert(p *gh.PullRequest) forge.PullRequest {
	out := forge.PullRequest{Number: int64(p.GetNumber()), Title: p.GetTitle(), Body: p.GetBody(), URL: p.GetHTMLURL(),
		Author: p.GetUser().GetLogin(), Head: p.GetHead().GetRef(), Base: p.GetBase().GetRef(),
		HeadRepo: p.GetHead().GetRepo().GetFullName(), State: forge.StateOpen}
	switch {
	case p.MergedAt != nil:
		out.State, out.MergedAt = forge.StateMerged, p.GetMergedAt().Time
	case p.GetState() == "closed":
		out.State = forge.StateClosed
	}
	return out
}

// Create opens a pull request.
func (f *Forge) Create(ctx context.Context, p forge.NewPullRequest) (forge.PullRequest, error) {
	got, _, err := f.c.PullRequests.Create(ctx, f.owner, f.repo, gh.CreatePullRequest{Title: &p.Title, Head: p.Head, Base: p.Base, Body: &p.Body})
	if err != nil {
		return forge.PullRequest{}, err
	}
	pr := Convert(got)
	if err := forge.CheckCreated(pr, p); err != nil {
		return forge.PullRequest{}, err
	}
	return pr, nil
}

// Edit replaces title and body.
func (f *Forge) Edit(ctx context.Context, number int64, title, body string) error {
	return f.edit(ctx, number, &gh.PullRequest{Title: &title, Body: &body})
}

// Close closes without merging.
func (f *Forge) Close(ctx context.Context, number int64) error {
	closed := "closed"
	return f.edit(ctx, number, &gh.PullRequest{State: &closed})
}

func (f *Forge) edit(ctx context.Context, number int64, p *gh.PullRequest) error {
	got, _, err := f.c.PullRequests.Edit(ctx, f.owner, f.repo, int(number), p)
	if err != nil {
		return err
	}
	return forge.CheckNumber(number, int64(got.GetNumber()))
}

// Comment comments on the pull request's conversation (an issue comment, as the REST API models it).
func (f *Forge) Comment(ctx context.Context, number int64, body string) error {
	_, _, err := f.c.Issues.CreateComment(ctx, f.owner, f.repo, int(number), gh.IssueCommentRequest{Body: body})
	return err
}

// RequestReviewers asks users (login) or teams (org/team-slug, the team's slug is used) to review.
func (f *Forge) RequestReviewers(ctx context.Context, number int64, logins []string) error {
	var req gh.ReviewersRequest
	for _, l := range logins {
		if _, team, ok := strings.Cut(l, "/"); ok {
			req.TeamReviewers = append(req.TeamReviewers, team)
		} else {
			req.Reviewers = append(req.Reviewers, l)
		}
	}
	if len(req.Reviewers)+len(req.TeamReviewers) == 0 {
		return nil
	}
	got, _, err := f.c.PullRequests.RequestReviewers(ctx, f.owner, f.repo, int(number), req)
	if err != nil {
		return err
	}
	return forge.CheckNumber(number, int64(got.GetNumber()))
}

// Self is the token's user.
func (f *Forge) Self(ctx context.Context) (string, error) {
	u, _, err := f.c.Users.Get(ctx, "")
	if err != nil {
		return "", err
	}
	return u.GetLogin(), nil
}

// DefaultBranch is the repository's default branch.
func (f *Forge) DefaultBranch(ctx context.Context) (string, error) {
	r, _, err := f.c.Repositories.Get(ctx, f.owner, f.repo)
	if err != nil {
		return "", err
	}
	return r.GetDefaultBranch(), nil
}
