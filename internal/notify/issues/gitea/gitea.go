// Package gitea keeps driftplane's drift issues on Gitea or Forgejo (whose API is Gitea's) with
// the Gitea SDK: the forge side of the issues receiver (see package issues for the state machine).
package gitea

import (
	"context"
	"fmt"
	"strings"

	sdk "code.gitea.io/sdk/gitea"

	giteaapi "github.com/driftplane/terraform-provider-drift/internal/forgeapi/gitea"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues"
)

// Config says which repository and how to reach it (the connection every Gitea client of
// driftplane shares).
type Config = giteaapi.Config

// Forge is a Gitea repository's issues as an issues.Forge.
type Forge struct {
	cfg Config
}

var _ issues.Forge = (*Forge)(nil)

// NewForge checks cfg and returns the forge; it makes no call.
func NewForge(cfg Config) (*Forge, error) {
	cfg, err := giteaapi.Check(cfg)
	if err != nil {
		return nil, err
	}
	return &Forge{cfg: cfg}, nil
}

// New is an issues receiver named name on the Gitea repository cfg names.
func New(name string, cfg Config, ic issues.Config) (*issues.Receiver, error) {
	f, err := NewForge(cfg)
	if err != nil {
		return nil, err
	}
	return issues.New(name, f, ic), nil
}

// client is an SDK client bound to ctx (giteaapi.Client).
func (f *Forge) client(ctx context.Context) (*sdk.Client, error) { return giteaapi.Client(ctx, f.cfg) }

// Issues lists the repository's issues (not pull requests) carrying label, open and closed.
func (f *Forge) Issues(ctx context.Context, label string) ([]issues.Issue, error) {
	c, err := f.client(ctx)
	if err != nil {
		return nil, err
	}
	var out []issues.Issue
	for page := 1; page > 0; {
		if page > giteaapi.MaxPages {
			return nil, fmt.Errorf("more than %d pages of issues", giteaapi.MaxPages)
		}
		got, resp, err := c.ListRepoIssues(f.cfg.Owner, f.cfg.Repo, sdk.ListIssueOption{
			ListOptions: sdk.ListOptions{Page: page, PageSize: giteaapi.PageSize},
			State:       sdk.StateAll,
			Type:        sdk.IssueTypeIssue,
			Labels:      []string{label},
		})
		if err != nil {
			return nil, err
		}
		for _, is := range got {
			if is.PullRequest != nil {
				continue
			}
			out = append(out, Convert(is))
		}
		page = giteaapi.Next(resp, page, len(got))
	}
	return out, nil
}

// Convert is a Gitea issue as the receiver sees it.
func Convert(is *sdk.Issue) issues.Issue {
	out := issues.Issue{Number: is.Index, Title: is.Title, Body: is.Body, Open: is.State == sdk.StateOpen, URL: is.HTMLURL}
	if is.Poster != nil {
		out.Author = is.Poster.UserName
	}
	for _, l := range is.Labels {
		if l != nil {
			out.Labels = append(out.Labels, l.Name)
		}
	}
	return out
}

// Create opens an issue; Gitea takes label ids, so the names are looked up first.
func (f *Forge) Create(ctx context.Context, title, body string, labels []string) (issues.Issue, error) {
	c, err := f.client(ctx)
	if err != nil {
		return issues.Issue{}, err
	}
	ids, err := f.labelIDs(c, labels)
	if err != nil {
		return issues.Issue{}, err
	}
	is, _, err := c.CreateIssue(f.cfg.Owner, f.cfg.Repo, sdk.CreateIssueOption{Title: title, Body: body, Labels: ids})
	if err != nil {
		return issues.Issue{}, err
	}
	return Convert(is), nil
}

// labelIDs maps label names to the repository's label ids; a name the repository lacks is an
// error (EnsureLabel creates the receiver's own; extra labels must exist).
func (f *Forge) labelIDs(c *sdk.Client, names []string) ([]int64, error) {
	all, err := f.labels(c)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(names))
	for _, n := range names {
		l, ok := all[strings.ToLower(n)]
		if !ok {
			return nil, fmt.Errorf("the repository has no label %q", n)
		}
		ids = append(ids, l.ID)
	}
	return ids, nil
}

func (f *Forge) labels(c *sdk.Client) (map[string]*sdk.Label, error) {
	out := map[string]*sdk.Label{}
	for page := 1; page > 0; {
		if page > giteaapi.MaxPages {
			return nil, fmt.Errorf("more than %d pages of labels", giteaapi.MaxPages)
		}
		got, resp, err := c.ListRepoLabels(f.cfg.Owner, f.cfg.Repo, sdk.ListLabelsOptions{ListOptions: sdk.ListOptions{Page: page, PageSize: giteaapi.PageSize}})
		if err != nil {
			return nil, fmt.Errorf("listing labels: %w", err)
		}
		for _, l := range got {
			out[strings.ToLower(l.Name)] = l
		}
		page = giteaapi.Next(resp, page, len(got))
	}
	return out, nil
}

// Comment adds a comment.
func (f *Forge) Comment(ctx context.Context, number int64, body string) error {
	c, err := f.client(ctx)
	if err != nil {
		return err
	}
	_, _, err = c.CreateIssueComment(f.cfg.Owner, f.cfg.Repo, number, sdk.CreateIssueCommentOption{Body: body})
	return err
}

// Edit replaces the title and body.
func (f *Forge) Edit(ctx context.Context, number int64, title, body string) error {
	c, err := f.client(ctx)
	if err != nil {
		return err
	}
	_, _, err = c.EditIssue(f.cfg.Owner, f.cfg.Repo, number, sdk.EditIssueOption{Title: title, Body: &body})
	return err
}

// SetOpen closes or reopens.
func (f *Forge) SetOpen(ctx context.Context, number int64, open bool) error {
	c, err := f.client(ctx)
	if err != nil {
		return err
	}
	state := sdk.StateClosed
	if open {
		state = sdk.StateOpen
	}
	_, _, err = c.EditIssue(f.cfg.Owner, f.cfg.Repo, number, sdk.EditIssueOption{State: &state})
	return err
}

// EnsureLabel creates the label unless the repository has one of that name.
func (f *Forge) EnsureLabel(ctx context.Context, l issues.Label) error {
	c, err := f.client(ctx)
	if err != nil {
		return err
	}
	all, err := f.labels(c)
	if err != nil {
		return err
	}
	if _, ok := all[strings.ToLower(l.Name)]; ok {
		return nil
	}
	_, _, err = c.CreateLabel(f.cfg.Owner, f.cfg.Repo, sdk.CreateLabelOption{Name: l.Name, Color: "#" + l.Color, Description: l.Description})
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
