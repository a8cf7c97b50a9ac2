// Package github keeps driftplane's drift issues on GitHub or GitHub Enterprise Server with
// go-github: the forge side of the issues receiver (see package issues for the state machine).
package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	gh "github.com/google/go-github/v93/github"

	ghapi "github.com/driftplane/terraform-provider-drift/internal/forgeapi/github"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues"
)

// Config says which repository and how to reach it (the connection every GitHub client of
// driftplane shares).
type Config = ghapi.Config

// Forge is a GitHub repository's issues as an issues.Forge.
type Forge struct {
	c           *gh.Client
	owner, repo string
}

var _ issues.Forge = (*Forge)(nil)

// NewForge checks cfg and returns the forge; it makes no call.
func NewForge(cfg Config) (*Forge, error) {
	c, err := ghapi.Connect(cfg)
	if err != nil {
		return nil, err
	}
	return &Forge{c: c, owner: cfg.Owner, repo: cfg.Repo}, nil
}

// New is an issues receiver named name on the GitHub repository cfg names.
func New(name string, cfg Config, ic issues.Config) (*issues.Receiver, error) {
	f, err := NewForge(cfg)
	if err != nil {
		return nil, err
	}
	return issues.New(name, f, ic), nil
}

// Issues lists the repository's issues carrying label, open and closed; the endpoint also
// returns pull requests, which are skipped.
func (f *Forge) Issues(ctx context.Context, label string) ([]issues.Issue, error) {
	opt := &gh.IssueListByRepoOptions{State: "all", Labels: []string{label}, ListOptions: gh.ListOptions{PerPage: ghapi.PerPage, Page: 1}}
	var out []issues.Issue
	for pages := 1; ; pages++ {
		if pages > ghapi.MaxPages {
			return nil, fmt.Errorf("more than %d pages of issues", ghapi.MaxPages)
		}
		got, resp, err := f.c.Issues.ListByRepo(ctx, f.owner, f.repo, opt)
		if err != nil {
			return nil, err
		}
		for _, is := range got {
			if is.IsPullRequest() {
				continue
			}
			out = append(out, convert(is))
		}
		if resp.NextPage <= opt.ListOptions.Page {
			return out, nil
		}
		opt.ListOptions.Page = resp.NextPage
	}
}

// convert is a GitHub issue as the receiver sees it.
func convert(is *gh.Issue) issues.Issue {
	out := issues.Issue{Number: int64(is.GetNumber()), Title: is.GetTitle(), Body: is.GetBody(),
		Open: is.GetState() == "open", Author: is.GetUser().GetLogin(), URL: is.GetHTMLURL()}
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// Create opens an issue.
func (f *Forge) Create(ctx context.Context, title, body string, labels []string) (issues.Issue, error) {
	is, _, err := f.c.Issues.Create(ctx, f.owner, f.repo, gh.CreateIssueRequest{Title: title, Body: &body, Labels: labels})
	if err != nil {
		return issues.Issue{}, err
	}
	return convert(is), nil
}

// Comment adds a comment.
func (f *Forge) Comment(ctx context.Context, number int64, body string) error {
	_, _, err := f.c.Issues.CreateComment(ctx, f.owner, f.repo, int(number), gh.IssueCommentRequest{Body: body})
	return err
}

// Edit replaces the title and body.
func (f *Forge) Edit(ctx context.Context, number int64, title, body string) error {
	_, _, err := f.c.Issues.Update(ctx, f.owner, f.repo, int(number), gh.UpdateIssueRequest{Title: &title, Body: &body})
	return err
}

// SetOpen closes (as completed: the drift ended) or reopens.
func (f *Forge) SetOpen(ctx context.Context, number int64, open bool) error {
	state, reason := "closed", "completed"
	if open {
		state, reason = "open", "reopened"
	}
	_, _, err := f.c.Issues.Update(ctx, f.owner, f.repo, int(number), gh.UpdateIssueRequest{State: &state, StateReason: &reason})
	return err
}

// EnsureLabel creates the label unless the repository has it.
func (f *Forge) EnsureLabel(ctx context.Context, l issues.Label) error {
	_, resp, err := f.c.Issues.GetLabel(ctx, f.owner, f.repo, url.PathEscape(l.Name))
	if err == nil {
		return nil
	}
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		return err
	}
	_, _, err = f.c.Issues.CreateLabel(ctx, f.owner, f.repo, gh.CreateIssueLabelRequest{Name: l.Name, Color: &l.Color, Description: &l.Description})
	return err
}

// Self is the token's user. A GitHub App installation token has none (the API answers 403): give
// the receiver its bot login ("app-name[bot]") in issues.Config.Authors instead.
func (f *Forge) Self(ctx context.Context) (string, error) {
	u, _, err := f.c.Users.Get(ctx, "")
	if err != nil {
		return "", err
	}
	return u.GetLogin(), nil
}
