// Package gitea is reconciliation's pull requests on Gitea or Forgejo (whose API is Gitea's) with
// the Gitea SDK (see package forge for the contract, package reconcile for the state machine).
package gitea

import (
	"context"
	"fmt"

	sdk "code.gitea.io/sdk/gitea"

	giteaapi "github.com/driftplane/terraform-provider-drift/internal/forgeapi/gitea"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge"
)

// Config says which repository and how to reach it (the connection every Gitea client of
// driftplane shares).
type Config = giteaapi.Config

// Forge is a Gitea repository's pull requests.
type Forge struct{ cfg Config }

var _ forge.Forge = (*Forge)(nil)

// New checks cfg and returns the forge; it makes no call.
func New(cfg Config) (*Forge, error) {
	cfg, err := giteaapi.Check(cfg)
	if err != nil {
		return nil, err
	}
	return &Forge{cfg: cfg}, nil
}

// client is an SDK client bound to ctx (giteaapi.Client).
func (f *Forge) client(ctx context.Context) (*sdk.Client, error) { return giteaapi.Client(ctx, f.cfg) }

// Repo is owner/name.
func (f *Forge) Repo() string { return f.cfg.Owner + "/" + f.cfg.Repo }

// PullRequests lists the repository's pull requests from head, in every state. Gitea's list has
// no head filter, so every page is read and filtered here.
func (f *Forge) PullRequests(ctx context.Context, head string) ([]forge.PullRequest, error) {
	c, err := f.client(ctx)
	if err != nil {
		return nil, err
	}
	var out []forge.PullRequest
	for page := 1; page > 0; {
		if page > giteaapi.MaxPages {
			return nil, fmt.Errorf("more than %d pages of pull requests", giteaapi.MaxPages)
		}
		got, resp, err := c.ListRepoPullRequests(f.cfg.Owner, f.cfg.Repo, sdk.ListPullRequestsOptions{
			ListOptions: sdk.ListOptions{Page: page, PageSize: giteaapi.PageSize}, State: sdk.StateAll})
		if err != nil {
			return nil, err
		}
		for _, p := range got {
			if p == nil {
				continue
			}
			if pr := Convert(p); pr.Head == head {
				out = append(out, pr)
			}
		}
		page = giteaapi.Next(resp, page, len(got))
	}
	return out, nil
}

// Convert is a Gitea pull request as reconciliation sees it.
func Convert(p *sdk.PullRequest) forge.PullRequest {
	out := forge.PullRequest{Number: p.Index, Title: p.Title, Body: p.Body, URL: p.HTMLURL, State: forge.StateOpen}
	if p.Poster != nil {
		out.Author = p.Poster.UserName
	}
	if p.Head != nil {
		out.Head = p.Head.Ref
		if p.Head.Repository != nil {
			out.HeadRepo = p.Head.Repository.FullName
		}
	}
	if p.Base != nil {
		out.Base = p.Base.Ref
	}
	switch {
	case p.HasMerged:
		out.State = forge.StateMerged
		if p.Merged != nil {
			out.MergedAt = *p.Merged
		}
	case p.State == sdk.StateClosed:
		out.State = forge.StateClosed
	}
	return out
}

// Create opens a pull request.
func (f *Forge) Create(ctx context.Context, p forge.NewPullRequest) (forge.PullRequest, error) {
	c, err := f.client(ctx)
	if err != nil {
		return forge.PullRequest{}, err
	}
	got, _, err := c.CreatePullRequest(f.cfg.Owner, f.cfg.Repo, sdk.CreatePullRequestOption{Head: p.Head, Base: p.Base, Title: p.Title, Body: p.Body})
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
	return f.edit(ctx, number, sdk.EditPullRequestOption{Title: title, Body: &body})
}

// Close closes without merging.
func (f *Forge) Close(ctx context.Context, number int64) error {
	closed := sdk.StateClosed
	return f.edit(ctx, number, sdk.EditPullRequestOption{State: &closed})
}

func (f *Forge) edit(ctx context.Context, number int64, opt sdk.EditPullRequestOption) error {
	c, err := f.client(ctx)
	if err != nil {
		return err
	}
	got, _, err := c.EditPullRequest(f.cfg.Owner, f.cfg.Repo, number, opt)
	if err != nil {
		return err
	}
	return forge.CheckNumber(number, got.Index)
}

// Comment comments on the pull request (its issue, in Gitea's model).
func (f *Forge) Comment(ctx context.Context, number int64, body string) error {
	c, err := f.client(ctx)
	if err != nil {
		return err
	}
	_, _, err = c.CreateIssueComment(f.cfg.Owner, f.cfg.Repo, number, sdk.CreateIssueCommentOption{Body: body})
	return err
}

// RequestReviewers asks users to review.
func (f *Forge) RequestReviewers(ctx context.Context, number int64, logins []string) error {
	if len(logins) == 0 {
		return nil
	}
	c, err := f.client(ctx)
	if err != nil {
		return err
	}
	_, err = c.CreateReviewRequests(f.cfg.Owner, f.cfg.Repo, number, sdk.PullReviewRequestOptions{Reviewers: logins})
	return err
}

// Self is the token's user.
func (f *Forge) Self(ctx context.Context) (string, error) {
	c, err := f.client(ctx)
	if err != nil {
		return "", err
	}
	u, _, err := c.GetMyUserInfo()
	if err != nil {
		return "", err
	}
	return u.UserName, nil
}

// DefaultBranch is the repository's default branch.
func (f *Forge) DefaultBranch(ctx context.Context) (string, error) {
	c, err := f.client(ctx)
	if err != nil {
		return "", err
	}
	r, _, err := c.GetRepo(f.cfg.Owner, f.cfg.Repo)
	if err != nil {
		return "", err
	}
	return r.DefaultBranch, nil
}
