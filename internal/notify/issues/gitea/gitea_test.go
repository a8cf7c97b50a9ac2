package gitea_test

import (
	"strings"
	"testing"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/driftplane/terraform-provider-drift/internal/notify"
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
	// Gitea's own renderer shows hostile finding text as text: no link but the evidence record's,
	// no mention, no issue reference, no HTML from the finding.
	t.Run("Rendered", func(t *testing.T) {
		team := srv.NewUser(t, "team", "write:issue,read:user")
		name := srv.NewRepo(t, team.Name)
		hostile := "<script>alert(1)</script> <img src=x onerror=alert(1)> @" + giteatest.Admin + " #1 [click](https://evil.example/) https://evil.example/x ``` <!-- x --> **bold**"
		f := issuestest.Finding("payments", "aws_s3_bucket.x"+hostile, "drift-00000000000000000000000f", "/tags/"+hostile)
		f.Explanation, f.Actor, f.Owner = hostile, hostile, hostile
		body := issues.Body(f.Fingerprint, issuestest.Firing(f))
		html, _, err := srv.Client(t, team.Token).RenderMarkdown(sdk.MarkdownOption{Text: body, Mode: "gfm", Context: srv.URL + "/" + team.Name + "/" + name})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"<script", "<img", "evil.example/\"", "href=\"https://evil", "<strong>bold", "/issues/1\"", "href=\"/" + giteatest.Admin} {
			if strings.Contains(html, bad) {
				t.Errorf("rendered body holds %s:\n%s", bad, html)
			}
		}
		if n := strings.Count(html, "<a "); n != 1 || !strings.Contains(html, `href="https://evidence.example/records/`+f.FindingID+`"`) {
			t.Errorf("rendered body has %d links, want only the evidence record's:\n%s", n, html)
		}
	})
	// A token that may read but not write issues: the Send fails, names no credential, opens nothing.
	t.Run("ReadOnlyToken", func(t *testing.T) {
		team := srv.NewUser(t, "team", "write:issue,read:user")
		reader := srv.NewUser(t, "reader", "read:issue,read:user")
		name := srv.NewRepo(t, team.Name)
		r, err := gitea.New("ro", gitea.Config{URL: srv.URL, Token: reader.Token, Owner: team.Name, Repo: name}, issues.Config{})
		if err != nil {
			t.Fatal(err)
		}
		f := issuestest.Finding("payments", "aws_s3_bucket.logs", "drift-00000000000000000000000e", "/acl")
		err = r.Send(t.Context(), []notify.Notification{issuestest.Firing(f)})
		if err == nil || strings.Contains(err.Error(), reader.Token) {
			t.Fatalf("send with a read-only token: %v", err)
		}
		got, _, err := srv.Client(t, team.Token).ListRepoIssues(team.Name, name, sdk.ListIssueOption{State: sdk.StateAll})
		if err != nil || len(got) != 0 {
			t.Fatalf("issues after a refused send: %d, %v", len(got), err)
		}
	})
}

func repo(t *testing.T, srv *giteatest.Server) issuestest.Repo {
	t.Helper()
	team := srv.NewUser(t, "team", "write:issue,read:user")
	bot := srv.NewUser(t, "drift-bot", botScopes)
	other := srv.NewUser(t, "mallory", botScopes)
	name := srv.NewRepo(t, team.Name)
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
