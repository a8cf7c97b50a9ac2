package giteatest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/giteatest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// TestServer proves what the forge tests build on: users with scoped tokens, a repository a
// collaborator pushes a branch to over HTTP with its token, and a pull request from it.
func TestServer(t *testing.T) {
	git := testtools.Command(t, "git")
	srv := giteatest.Start(t)
	team := srv.NewUser(t, "team", "write:issue,read:user")
	dev := srv.NewUser(t, "dev", "write:repository,read:user")
	name := srv.NewRepo(t, team.Name)
	srv.AddCollaborator(t, team.Name, name, dev.Name)

	dir := filepath.Join(t.TempDir(), "clone")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(git, args...)
		cmd.Dir = filepath.Dir(dir)
		if _, err := os.Stat(dir); err == nil {
			cmd.Dir = dir
		}
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@example.invalid",
			"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@example.invalid", "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			// The clone URL carries the token: show the command without it.
			t.Fatalf("git %s: %v\n%s", args[0], err, strings.ReplaceAll(string(out), dev.Token, "***"))
		}
	}
	run("clone", "-q", srv.CloneURL(team.Name, name, dev), dir)
	run("checkout", "-q", "-b", "drift-fix")
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("# fixed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("add", "main.tf")
	run("commit", "-q", "-m", "fix drift")
	run("push", "-q", "origin", "drift-fix")

	c := srv.Client(t, dev.Token)
	pr, _, err := c.CreatePullRequest(team.Name, name, sdk.CreatePullRequestOption{Head: "drift-fix", Base: "main", Title: "Fix drift", Body: "body"})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := srv.AdminClient(t).GetPullRequest(team.Name, name, pr.Index)
	if err != nil || got.Poster.UserName != dev.Name || got.Head.Ref != "drift-fix" || got.State != sdk.StateOpen {
		t.Fatalf("pull request %+v: %v", got, err)
	}
}
