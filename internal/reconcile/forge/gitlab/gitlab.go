// Package gitlab is reconciliation's merge requests on GitLab (gitlab.com or self-managed) with
// GitLab's official Go client (see package forge for the contract, package reconcile for the
// state machine).
package gitlab

import (
	"context"
	"fmt"

	gl "gitlab.com/gitlab-org/api/client-go"

	glapi "github.com/driftplane/terraform-provider-drift/internal/forgeapi/gitlab"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge"
)

// Config says which project and how to reach it (the connection every GitLab client of
// driftplane shares).
type Config = glapi.Config

// Forge is a GitLab project's merge requests.
type Forge struct {
	c       *gl.Client
	project string
}

var _ forge.Forge = (*Forge)(nil)

// New checks cfg and returns the forge; it makes no call.
func New(cfg Config) (*Forge, error) {
	c, err := glapi.Connect(cfg)
	if err != nil {
		return nil, err
	}
	return &Forge{c: c, project: cfg.Project}, nil
}

// Repo is the project's path.
func (f *Forge) Repo() string { return f.project }

// PullRequests lists the project's merge requests from source branch head, in every state.
func (f *Forge) PullRequests(ctx context.Context, head string) ([]forge.PullRequest, error) {
	all := "all"
	opt := &gl.ListProjectMergeRequestsOptions{ListOptions: gl.ListOptions{PerPage: glapi.PerPage}, State: &all, SourceBranch: &head}
	var out []forge.PullRequest
	reqOpts := []gl.RequestOptionFunc{gl.WithContext(ctx)}
	for pages := 1; ; pages++ {
		if pages > glapi.MaxPages {
			return nil, fmt.Errorf("more than %d pages of merge requests", glapi.MaxPages)
		}
		got, resp, err := f.c.MergeRequests.ListProjectMergeRequests(f.project, opt, reqOpts...)
		if err != nil {
			return nil, err
		}
		for _, m := range got {
			if m != nil {
				out = append(out, f.convert(m))
			}
		}
		next, ok := gl.WithNext(resp)
		if !ok {
			return out, nil
		}
		reqOpts = []gl.RequestOptionFunc{gl.WithContext(ctx), next}
	}
}

// convert is a merge request as reconciliation sees it (Number is the project-scoped iid). A
// merge request from a fork (source project not the target) gets a HeadRepo naming the fork's
// id, so forge.Keep drops it.
func (f *Forge) convert(m *gl.BasicMergeRequest) forge.PullRequest {
	out := forge.PullRequest{Number: m.IID, Title: m.Title, Body: m.Description, Head: m.SourceBranch, Base: m.TargetBranch,
		URL: m.WebURL, HeadRepo: f.project, State: forge.StateOpen}
	if m.SourceProjectID != m.TargetProjectID {
		out.HeadRepo = fmt.Sprintf("project:%d", m.SourceProjectID)
	}
	if m.Author != nil {
		out.Author = m.Author.Username
	}
	switch m.State {
	case "merged":
		out.State = forge.StateMerged
		if m.MergedAt != nil {
			out.MergedAt = *m.MergedAt
		}
	case "closed", "locked":
		out.State = forge.StateClosed
	}
	return out
}

// Create opens a merge request.
func (f *Forge) Create(ctx context.Context, p forge.NewPullRequest) (forge.PullRequest, error) {
	m, _, err := f.c.MergeRequests.CreateMergeRequest(f.project, &gl.CreateMergeRequestOptions{Title: &p.Title, Description: &p.Body,
		SourceBranch: &p.Head, TargetBranch: &p.Base}, gl.WithContext(ctx))
	if err != nil {
		return forge.PullRequest{}, err
	}
	pr := f.convert(&m.BasicMergeRequest)
	if err := forge.CheckCreated(pr, p); err != nil {
		return forge.PullRequest{}, err
	}
	return pr, nil
}

// Edit replaces title and description.
func (f *Forge) Edit(ctx context.Context, number int64, title, body string) error {
	return f.update(ctx, number, &gl.UpdateMergeRequestOptions{Title: &title, Description: &body})
}

// Close closes without merging (state_event close).
func (f *Forge) Close(ctx context.Context, number int64) error {
	event := "close"
	return f.update(ctx, number, &gl.UpdateMergeRequestOptions{StateEvent: &event})
}

func (f *Forge) update(ctx context.Context, number int64, opt *gl.UpdateMergeRequestOptions) error {
	m, _, err := f.c.MergeRequests.UpdateMergeRequest(f.project, number, opt, gl.WithContext(ctx))
	if err != nil {
		return err
	}
	return forge.CheckNumber(number, m.IID)
}

// Comment adds a note.
func (f *Forge) Comment(ctx context.Context, number int64, body string) error {
	_, _, err := f.c.Notes.CreateMergeRequestNote(f.project, number, &gl.CreateMergeRequestNoteOptions{Body: &body}, gl.WithContext(ctx))
	return err
}

// RequestReviewers sets the merge request's reviewers: GitLab takes user ids, so each login is
// looked up; a login that names no user is an error (a group is not a reviewer on GitLab).
func (f *Forge) RequestReviewers(ctx context.Context, number int64, logins []string) error {
	if len(logins) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(logins))
	for _, l := range logins {
		login := l
		users, _, err := f.c.Users.ListUsers(&gl.ListUsersOptions{Username: &login}, gl.WithContext(ctx))
		if err != nil {
			return err
		}
		var id int64
		for _, u := range users {
			if u != nil && u.Username == login {
				id = u.ID
			}
		}
		if id == 0 {
			return fmt.Errorf("no GitLab user %q", login)
		}
		ids = append(ids, id)
	}
	return f.update(ctx, number, &gl.UpdateMergeRequestOptions{ReviewerIDs: &ids})
}

// Self is the token's user.
func (f *Forge) Self(ctx context.Context) (string, error) {
	u, _, err := f.c.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// DefaultBranch is the project's default branch.
func (f *Forge) DefaultBranch(ctx context.Context) (string, error) {
	p, _, err := f.c.Projects.GetProject(f.project, nil, gl.WithContext(ctx))
	if err != nil {
		return "", err
	}
	return p.DefaultBranch, nil
}
