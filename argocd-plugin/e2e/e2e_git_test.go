package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/giteatest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
)

// botScopes are what a token needs to push a branch, open and merge pull requests and know itself.
const botScopes = "write:repository,write:issue,read:user"

// appRepo is the application's repository on a real Gitea, which Argo CD reads anonymously over
// HTTP, and the local working copy the test's people commit in and push from as the repository's
// owner.
type appRepo struct {
	git string
	// dir is the working copy.
	dir string
	srv *giteatest.Server
	// owner owns the repository on Gitea; the working copy pushes as owner.
	owner giteatest.User
	// name is the repository's name under owner.
	name string
	// askpass answers git's credential prompts from the environment, so the token is in no command
	// line, no remote URL and no file.
	askpass string
}

// newAppRepo creates the repository on srv, owned by a new user, with the application in app/
// pushed to main, and returns it with the working copy at work/git/web.
func newAppRepo(t *testing.T, srv *giteatest.Server, git, work string) *appRepo {
	t.Helper()
	r := &appRepo{git: git, dir: filepath.Join(work, "git", "web"), srv: srv, askpass: filepath.Join(work, "git-askpass.sh")}
	r.owner = srv.NewUser(t, "web-team", botScopes)
	r.name = srv.NewRepo(t, r.owner.Name)
	procs.WriteFile(t, r.askpass, "#!/bin/sh\ncase \"$1\" in\nUsername*) printf '%s\\n' \"$E2E_GIT_USERNAME\" ;;\n*) printf '%s\\n' \"$E2E_GIT_PASSWORD\" ;;\nesac\n")
	if err := os.Chmod(r.askpass, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(r.dir), 0o755); err != nil {
		t.Fatal(err)
	}
	r.runIn(t, filepath.Dir(r.dir), "clone", "-q", r.URL(), r.dir)
	procs.WriteFile(t, filepath.Join(r.dir, "app", "deployment.yaml"), deploymentYAML)
	procs.WriteFile(t, filepath.Join(r.dir, "app", ".drift", "unit.yaml"), unitYAML)
	r.commit(t, "web")
	return r
}

// URL is the repository's public HTTP clone URL, without credentials: what Argo CD reads.
func (r *appRepo) URL() string {
	return r.srv.URL + "/" + r.owner.Name + "/" + r.name + ".git"
}

// commit commits everything in the working copy and pushes it, first rebasing on whatever was
// merged on Gitea meanwhile.
func (r *appRepo) commit(t *testing.T, msg string) {
	t.Helper()
	r.run(t, "add", ".")
	r.run(t, "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "commit", "-q", "-m", msg)
	r.run(t, "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "pull", "-q", "--rebase", "origin", "main")
	r.run(t, "push", "-q", "origin", "HEAD:main")
}

// pull brings what was merged on Gitea into the working copy.
func (r *appRepo) pull(t *testing.T) {
	t.Helper()
	r.run(t, "pull", "-q", "--ff-only", "origin", "main")
}

// run runs git in the working copy.
func (r *appRepo) run(t *testing.T, args ...string) {
	t.Helper()
	r.runIn(t, r.dir, args...)
}

func (r *appRepo) runIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(r.git, append([]string{"-c", "credential.helper="}, args...)...)
	cmd.Dir = dir
	// No system or user git configuration: a credential helper there could store the token.
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS="+r.askpass,
		"E2E_GIT_USERNAME="+r.owner.Name, "E2E_GIT_PASSWORD="+r.owner.Token)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, r.scrub(string(out)))
	}
}

// scrub takes the owner's token out of what git printed, should git ever echo a credential.
func (r *appRepo) scrub(s string) string {
	if r.owner.Token == "" {
		return s
	}
	return strings.ReplaceAll(s, r.owner.Token, "[token]")
}
