// Package gitlab keeps driftplane's drift issues on GitLab (gitlab.com or self-managed) with
// GitLab's official Go client: the forge side of the issues receiver (see package issues for the
// state machine).
package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/driftplane/terraform-provider-drift/internal/notify/issues"
)

// perPage is the REST API's largest page.
const perPage = 100

// maxPages bounds one listing (100,000 issues); a listing cut short would open duplicates, so
// reaching it is an error.
const maxPages = 1000

// defaultTimeout bounds one API call when the caller gives no HTTP client.
const defaultTimeout = 30 * time.Second

// Config says which project holds the issues and how to reach it.
type Config struct {
	// URL is the instance's base URL (https://gitlab.com), with or without /api/v4.
	URL string
	// Token is a personal, project or group access token with the api scope and at least the
	// Reporter role (Planner suffices for issues).
	Token string
	// Project is the project's numeric id or its full path ("group/subgroup/project").
	Project string
	// HTTPClient is used for every call (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
}

// Forge is a GitLab project's issues as an issues.Forge.
type Forge struct {
	c       *gl.Client
	project string
}

var _ issues.Forge = (*Forge)(nil)

// NewForge checks cfg and returns the forge; it makes no call.
func NewForge(cfg Config) (*Forge, error) {
	if cfg.URL == "" || cfg.Project == "" {
		return nil, errors.New("gitlab: url and project are required")
	}
	if cfg.Token == "" {
		return nil, errors.New("gitlab: a token is required")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	// The client's own retries are off: a retried POST whose first try reached the server would
	// open a second issue. The dispatcher retries a failed Send, which lists before it creates.
	c, err := gl.NewClient(cfg.Token, gl.WithBaseURL(cfg.URL), gl.WithHTTPClient(hc), gl.WithoutRetries())
	if err != nil {
		return nil, fmt.Errorf("gitlab client: %w", err)
	}
	return &Forge{c: c, project: cfg.Project}, nil
}

// New is an issues receiver named name on the GitLab project cfg names.
func New(name string, cfg Config, ic issues.Config) (*issues.Receiver, error) {
	f, err := NewForge(cfg)
	if err != nil {
		return nil, err
	}
	return issues.New(name, f, ic), nil
}

// Issues lists the project's issues carrying label, opened and closed (no state filter), following
// the next page the server names (X-Next-Page, or the Link header under keyset pagination).
func (f *Forge) Issues(ctx context.Context, label string) ([]issues.Issue, error) {
	labels := gl.LabelOptions{label}
	opt := &gl.ListProjectIssuesOptions{ListOptions: gl.ListOptions{PerPage: perPage}, Labels: &labels}
	var out []issues.Issue
	reqOpts := []gl.RequestOptionFunc{gl.WithContext(ctx)}
	for pages := 1; ; pages++ {
		if pages > maxPages {
			return nil, fmt.Errorf("more than %d pages of issues", maxPages)
		}
		got, resp, err := f.c.Issues.ListProjectIssues(f.project, opt, reqOpts...)
		if err != nil {
			return nil, err
		}
		for _, is := range got {
			out = append(out, convert(is))
		}
		next, ok := gl.WithNext(resp)
		if !ok {
			return out, nil
		}
		reqOpts = []gl.RequestOptionFunc{gl.WithContext(ctx), next}
	}
}

// convert is a GitLab issue as the receiver sees it (Number is the project-scoped iid).
func convert(is *gl.Issue) issues.Issue {
	out := issues.Issue{Number: is.IID, Title: is.Title, Body: is.Description, Open: is.State == "opened",
		Labels: append([]string(nil), is.Labels...), URL: is.WebURL}
	if is.Author != nil {
		out.Author = is.Author.Username
	}
	return out
}

// Create opens an issue.
func (f *Forge) Create(ctx context.Context, title, body string, labels []string) (issues.Issue, error) {
	lo := gl.LabelOptions(labels)
	is, _, err := f.c.Issues.CreateIssue(f.project, &gl.CreateIssueOptions{Title: &title, Description: &body, Labels: &lo}, gl.WithContext(ctx))
	if err != nil {
		return issues.Issue{}, err
	}
	return convert(is), nil
}

// Comment adds a note.
func (f *Forge) Comment(ctx context.Context, number int64, body string) error {
	_, _, err := f.c.Notes.CreateIssueNote(f.project, number, &gl.CreateIssueNoteOptions{Body: &body}, gl.WithContext(ctx))
	return err
}

// Edit replaces the title and description.
func (f *Forge) Edit(ctx context.Context, number int64, title, body string) error {
	_, _, err := f.c.Issues.UpdateIssue(f.project, number, &gl.UpdateIssueOptions{Title: &title, Description: &body}, gl.WithContext(ctx))
	return err
}

// SetOpen closes or reopens (state_event).
func (f *Forge) SetOpen(ctx context.Context, number int64, open bool) error {
	event := "close"
	if open {
		event = "reopen"
	}
	_, _, err := f.c.Issues.UpdateIssue(f.project, number, &gl.UpdateIssueOptions{StateEvent: &event}, gl.WithContext(ctx))
	return err
}

// EnsureLabel creates the project label unless the project (or its group) has it.
func (f *Forge) EnsureLabel(ctx context.Context, l issues.Label) error {
	_, resp, err := f.c.Labels.GetLabel(f.project, l.Name, gl.WithContext(ctx))
	if err == nil {
		return nil
	}
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		return err
	}
	color := "#" + l.Color
	_, _, err = f.c.Labels.CreateLabel(f.project, &gl.CreateLabelOptions{Name: &l.Name, Color: &color, Description: &l.Description}, gl.WithContext(ctx))
	return err
}

// Self is the token's user (a project or group access token has a bot user of its own).
func (f *Forge) Self(ctx context.Context) (string, error) {
	u, _, err := f.c.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return "", err
	}
	return u.Username, nil
}
