// Package github is reconciliation's pull requests on GitHub or GitHub Enterprise Server with
// go-github (see package forge for the contract, package reconcile for the state machine).
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gh "github.com/google/go-github/v93/github"

	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge"
)

// perPage is the REST API's largest page.
const perPage = 100

// maxPages bounds one listing; a listing cut short could open a second pull request, so reaching
// it is an error.
const maxPages = 1000

// defaultTimeout bounds one API call when the caller gives no HTTP client.
const defaultTimeout = 30 * time.Second

// Config says which repository and how to reach it.
type Config struct {
	// APIURL is the REST API's base URL: empty for github.com, https://HOST/api/v3/ for GitHub
	// Enterprise Server.
	APIURL string
	// Token may write the repository's pull requests and contents (fine-grained: Pull requests
	// and Contents read/write).
	Token string
	// Owner and Repo name the repository.
	Owner, Repo string
	// HTTPClient is used for every call (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
}

// Forge is a GitHub repository's pull requests.
type Forge struct {
	c           *gh.Client
	owner, repo string
}

var _ forge.Forge = (*Forge)(nil)

// New checks cfg and returns the forge; it makes no call.
func New(cfg Config) (*Forge, error) {
	if cfg.Owner == "" || cfg.Repo == "" {
		return nil, errors.New("github: owner and repo are required")
	}
	if cfg.Token == "" {
		return nil, errors.New("github: a token is required")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	opts := []gh.ClientOptionsFunc{gh.WithHTTPClient(hc), gh.WithAuthToken(cfg.Token)}
	if cfg.APIURL != "" {
		base := cfg.APIURL
		if !strings.HasSuffix(base, "/") {
			base += "/"
		}
		opts = append(opts, gh.WithURLs(&base, &base))
	}
	c, err := gh.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("github client: %w", err)
	}
	return &Forge{c: c, owner: cfg.Owner, repo: cfg.Repo}, nil
}

// Repo is owner/name.
func (f *Forge) Repo() string { return f.owner + "/" + f.repo }

// PullRequests lists the pull requests whose head is owner:head, in every state.
func (f *Forge) PullRequests(ctx context.Context, head string) ([]forge.PullRequest, error) {
	opt := &gh.PullRequestListOptions{State: "all", Head: f.owner + ":" + head, ListOptions: gh.ListOptions{PerPage: perPage, Page: 1}}
	var out []forge.PullRequest
	for pages := 1; ; pages++ {
		if pages > maxPages {
			return nil, fmt.Errorf("more than %d pages of pull requests", maxPages)
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
