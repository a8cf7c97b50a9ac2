// Package gitea keeps driftplane's drift issues on Gitea or Forgejo (whose API is Gitea's) with
// the Gitea SDK: the forge side of the issues receiver (see package issues for the state machine).
package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/driftplane/terraform-provider-drift/internal/notify/issues"
)

// pageSize is Gitea's default MAX_RESPONSE_ITEMS: a larger limit would be cut to it anyway.
const pageSize = 50

// maxPages bounds one listing (100,000 issues at Gitea's default page size).
const maxPages = 2000

// defaultTimeout bounds one API call when the caller gives no HTTP client.
const defaultTimeout = 30 * time.Second

// Config says which repository holds the issues and how to reach it.
type Config struct {
	// URL is the forge's base URL (https://gitea.example.com), without /api/v1.
	URL string
	// Token is an access token with write access to the repository's issues.
	Token string
	// Owner and Repo name the repository.
	Owner, Repo string
	// HTTPClient is used for every call (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
}

// Forge is a Gitea repository's issues as an issues.Forge.
type Forge struct {
	cfg Config
}

var _ issues.Forge = (*Forge)(nil)

// NewForge checks cfg and returns the forge; it makes no call.
func NewForge(cfg Config) (*Forge, error) {
	if cfg.URL == "" || cfg.Owner == "" || cfg.Repo == "" {
		return nil, errors.New("gitea: url, owner and repo are required")
	}
	if cfg.Token == "" {
		return nil, errors.New("gitea: a token is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
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

// client is an SDK client bound to ctx: the SDK takes its context per client, not per call, so
// each operation gets its own (cheap: no network, the server version check is skipped because
// every call used here exists since Gitea 1.12).
func (f *Forge) client(ctx context.Context) (*sdk.Client, error) {
	c, err := sdk.NewClient(f.cfg.URL, sdk.SetToken(f.cfg.Token), sdk.SetHTTPClient(f.cfg.HTTPClient),
		sdk.SetContext(ctx), sdk.SetGiteaVersion(""))
	if err != nil {
		return nil, fmt.Errorf("gitea client: %w", err)
	}
	return c, nil
}

// Issues lists the repository's issues (not pull requests) carrying label, open and closed.
func (f *Forge) Issues(ctx context.Context, label string) ([]issues.Issue, error) {
	c, err := f.client(ctx)
	if err != nil {
		return nil, err
	}
	var out []issues.Issue
	for page := 1; page > 0; {
		if page > maxPages {
			return nil, fmt.Errorf("more than %d pages of issues", maxPages)
		}
		got, resp, err := c.ListRepoIssues(f.cfg.Owner, f.cfg.Repo, sdk.ListIssueOption{
			ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize},
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
		page = next(resp, page, len(got))
	}
	return out, nil
}

// next is the page after page: the Link header's when the server sent one (Gitea does, and
// caps a page at its MAX_RESPONSE_ITEMS whatever was asked); without one, on until an empty page.
// The callers stop at maxPages with an error: a listing cut short would open duplicates.
func next(resp *sdk.Response, page, got int) int {
	switch {
	case resp != nil && resp.NextPage > page:
		return resp.NextPage
	case resp != nil && resp.Header.Get("Link") != "":
		return 0
	case got > 0:
		return page + 1
	}
	return 0
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
		if page > maxPages {
			return nil, fmt.Errorf("more than %d pages of labels", maxPages)
		}
		got, resp, err := c.ListRepoLabels(f.cfg.Owner, f.cfg.Repo, sdk.ListLabelsOptions{ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize}})
		if err != nil {
			return nil, fmt.Errorf("listing labels: %w", err)
		}
		for _, l := range got {
			out[strings.ToLower(l.Name)] = l
		}
		page = next(resp, page, len(got))
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
