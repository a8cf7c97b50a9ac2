package gitea_test

import (
	"testing"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/driftplane/terraform-provider-drift/internal/notify/issues"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues/gitea"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues/issuestest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/giteatest"
)

// botScopes are the least a receiver's token needs: issues and labels, and its own login.
const botScopes = "write:issue,read:user"

// TestGitea runs the issue forge scenarios against one real Gitea (it takes seconds to start):
// each has its own repository, owned by a team account, where the receiver's bot and another
// account (which forges an issue) are collaborators.
func TestGitea(t *testing.T) {
	srv := giteatest.Start(t)
	t.Run("Lifecycle", func(t *testing.T) { issuestest.Lifecycle(t, repo(t, srv)) })
	t.Run("FakeMarkers", func(t *testing.T) { issuestest.FakeMarkers(t, repo(t, srv)) })
	t.Run("ForeignIssue", func(t *testing.T) { issuestest.ForeignIssue(t, repo(t, srv)) })
	// More issues than the server's page (giteatest.PageSize): the listing follows Link headers.
	t.Run("Pagination", func(t *testing.T) { issuestest.Many(t, repo(t, srv), 2*giteatest.PageSize+2) })
}

func repo(t *testing.T, srv *giteatest.Server) issuestest.Repo {
	t.Helper()
	team := srv.NewUser(t, "team", "write:repository,write:issue,read:user")
	bot := srv.NewUser(t, "drift-bot", botScopes)
	other := srv.NewUser(t, "mallory", botScopes)
	name := srv.NewRepo(t, team.Token)
	srv.AddCollaborator(t, team.Name, name, bot.Name)
	srv.AddCollaborator(t, team.Name, name, other.Name)
	owner := srv.Client(t, team.Token)
	return issuestest.Repo{
		Bot: bot.Name,
		Receiver: func(t *testing.T) *issues.Receiver {
			r, err := gitea.New("team-issues", gitea.Config{URL: srv.URL, Token: bot.Token, Owner: team.Name, Repo: name}, issues.Config{})
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
		Issues: func(t *testing.T) []issues.Issue {
			var out []issues.Issue
			for page := 1; ; page++ {
				got, _, err := owner.ListRepoIssues(team.Name, name, sdk.ListIssueOption{ListOptions: sdk.ListOptions{Page: page}, State: sdk.StateAll, Type: sdk.IssueTypeIssue})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == 0 {
					return out
				}
				for _, is := range got {
					out = append(out, gitea.Convert(is))
				}
			}
		},
		Comments: func(t *testing.T, number int64) []issuestest.Comment {
			got, _, err := owner.ListIssueComments(team.Name, name, number, sdk.ListIssueCommentOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var out []issuestest.Comment
			for _, c := range got {
				out = append(out, issuestest.Comment{Author: c.Poster.UserName, Body: c.Body})
			}
			return out
		},
		Forge: func(t *testing.T, title, body string, labels []string) int64 {
			c := srv.Client(t, other.Token)
			all, _, err := c.ListRepoLabels(team.Name, name, sdk.ListLabelsOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, l := range all {
				for _, want := range labels {
					if l.Name == want {
						ids = append(ids, l.ID)
					}
				}
			}
			is, _, err := c.CreateIssue(team.Name, name, sdk.CreateIssueOption{Title: title, Body: body, Labels: ids})
			if err != nil {
				t.Fatal(err)
			}
			return is.Index
		},
		Close: func(t *testing.T, number int64) {
			closed := sdk.StateClosed
			if _, _, err := owner.EditIssue(team.Name, name, number, sdk.EditIssueOption{State: &closed}); err != nil {
				t.Fatal(err)
			}
		},
	}
}
