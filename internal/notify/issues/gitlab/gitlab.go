// Package gitlab keeps driftplane's drift issues on GitLab (gitlab.com or self-managed) with
// GitLab's official Go client: the forge side of the issues receiver (see package issues for the
// state machine).
package gitlab

import (
	"context"
	"fmt"
	"net/http"

	gl "gitlab.com/gitlab-org/api/client-go"

	glapi "github.com/driftplane/terraform-provider-drift/internal/forgeapi/gitlab"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues"
)

// Config says which project and how to reach it (the connection every GitLab client of
// driftplane shares).
type Config = glapi.Config

// Forge is a GitLab project's issues as an issues.Forge.
type Forge struct {
	c       *gl.Client
	project string
}

var _ issues.Forge = (*Forge)(nil)

// NewForge checks cfg and returns the forge; it makes no call.
func NewForge(cfg Config) (*Forge, error) {
	c, err := glapi.Connect(cfg)
	if err != nil {
		return nil, err
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
	opt := &gl.ListProjectIssuesOptions{ListOptions: gl.ListOptions{PerPage: glapi.PerPage}, Labels: &labels}
	var out []issues.Issue
	reqOpts := []gl.RequestOptionFunc{gl.WithContext(ctx)}
	for pages := 1; ; pages++ {
		if pages > glapi.MaxPages {
			return nil, fmt.Errorf("more than %d pages of issues", glapi.MaxPages)
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
