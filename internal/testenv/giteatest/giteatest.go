// Package giteatest runs a real Gitea on 127.0.0.1 with SQLite for tests: the forge the issue
// receiver (and later the reconcile pull requests) is tested against. The binary is the one
// scripts/tools.sh builds into its per-user cache (GITEA), beside its options/, templates/ and
// public/ folders; see testtools for when a missing binary skips and when it fails.
//
// Gitea takes seconds to migrate and start, so a test binary starts one (Start, in one top-level
// test) and gives each subtest its own repository (NewRepo) and, where it needs one, its own user
// (NewUser).
package giteatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// readyTimeout bounds one start: Gitea on SQLite answers in a few seconds, longer on a machine
// busy building.
const readyTimeout = 2 * time.Minute

// attempts is how many times Start tries with a fresh port: a port FreePort found free can be
// taken before Gitea binds it.
const attempts = 3

// commandTimeout bounds each one-shot gitea command (migrate, admin user create).
const commandTimeout = 3 * time.Minute

// PageSize is the server's largest page (MAX_RESPONSE_ITEMS): small, so that a test listing a
// handful of issues or pull requests already goes through pagination.
const PageSize = 5

// Admin is the site administrator Start creates.
const Admin = "driftplane-admin"

// Server is a running Gitea.
type Server struct {
	// URL is the server's root URL, http://127.0.0.1:PORT (no trailing slash).
	URL string
	// AdminToken is an all-scopes token of Admin, for setting up what a test needs.
	AdminToken string
	// Dir holds app.ini, the database, the repositories and the logs.
	Dir string
	// Bin is the gitea binary; Config the app.ini it runs with.
	Bin, Config string
	env         []string
	seq         atomic.Int64
}

// User is a user a test created, with a token of the scopes it asked for.
type User struct {
	Name, Password, Email, Token string
}

// Start runs Gitea until the test ends and returns it once /api/healthz passes, with an admin
// user and an admin token.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testtools.Require(t, "GITEA")
	dir := t.TempDir()
	s := &Server{Bin: bin, Dir: dir, Config: filepath.Join(dir, "custom", "conf", "app.ini")}
	s.env = []string{
		"GITEA_WORK_DIR=" + dir,
		"GITEA_CUSTOM=" + filepath.Join(dir, "custom"),
		"GITEA_I_AM_BEING_UNSAFE_RUNNING_AS_ROOT=true",
		// Gitea runs git with its own HOME under APP_DATA_PATH; the user's git config must not leak in.
		"GIT_CONFIG_NOSYSTEM=1",
	}
	g := procs.New(t, filepath.Join(dir, "logs"))
	g.Grace = 5 * time.Second
	password, secret := randomHex(t, 16), randomHex(t, 32)
	for attempt := 1; ; attempt++ {
		port := procs.FreePort(t)
		s.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
		procs.WriteFile(t, s.Config, appINI(dir, filepath.Dir(bin), port, secret))
		if attempt == 1 {
			s.run(t, "migrate", "-c", s.Config)
			s.run(t, "admin", "user", "create", "--admin", "--username", Admin, "--password", password,
				"--email", Admin+"@example.invalid", "--must-change-password=false", "-c", s.Config)
		}
		name := fmt.Sprintf("gitea-%d", attempt)
		p := g.Start(name, bin, s.env, "web", "-c", s.Config)
		if p.WaitHTTP(t, s.URL+"/api/healthz", readyTimeout) {
			break
		}
		if attempt == attempts {
			t.Fatalf("gitea exited before it was ready (%d attempts); log:\n%s", attempts, g.Tail(name, procs.DefaultTailLines))
		}
	}
	s.AdminToken = s.token(t, Admin, password, "all")
	return s
}

// appINI is the configuration of a throwaway, offline, single-process Gitea.
func appINI(dir, static string, port int, secret string) string {
	return fmt.Sprintf(`APP_NAME = driftplane-test
RUN_MODE = prod
WORK_PATH = %[1]s

[database]
DB_TYPE = sqlite3
PATH = %[1]s/data/gitea.db
SQLITE_JOURNAL_MODE = WAL

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[3]d
DOMAIN = 127.0.0.1
ROOT_URL = http://127.0.0.1:%[3]d/
STATIC_ROOT_PATH = %[2]s
APP_DATA_PATH = %[1]s/data
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false

[repository]
ROOT = %[1]s/repos

[security]
INSTALL_LOCK = true
SECRET_KEY = %[4]s
PASSWORD_HASH_ALGO = pbkdf2$1000$50

[oauth2]
ENABLED = false

[service]
DISABLE_REGISTRATION = true
ENABLE_CAPTCHA = false
REQUIRE_SIGNIN_VIEW = false
ENABLE_NOTIFY_MAIL = false
DEFAULT_KEEP_EMAIL_PRIVATE = true

[mailer]
ENABLED = false

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[cron]
ENABLED = false

[cron.update_checker]
ENABLED = false

[actions]
ENABLED = false

[packages]
ENABLED = false

[api]
DEFAULT_PAGING_NUM = %[5]d
MAX_RESPONSE_ITEMS = %[5]d

[log]
MODE = console
LEVEL = warn
ROOT_PATH = %[1]s/log
`, dir, static, port, secret, PageSize)
}

// run runs a one-shot gitea command, failing the test with its output when it fails.
func (s *Server) run(t testing.TB, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Bin, args...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Dir = s.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gitea %s: %v\n%s", strings.Join(args[:min(len(args), 3)], " "), err, out)
	}
}

// token creates an access token for user with scopes (comma-separated Gitea scopes, e.g.
// "write:issue,read:user"), through the API with basic auth as Gitea requires.
func (s *Server) token(t testing.TB, user, password, scopes string) string {
	t.Helper()
	c, err := sdk.NewClient(s.URL, sdk.SetBasicAuth(user, password), sdk.SetGiteaVersion(""))
	if err != nil {
		t.Fatalf("gitea client: %v", err)
	}
	var sc []sdk.AccessTokenScope
	for _, x := range strings.Split(scopes, ",") {
		sc = append(sc, sdk.AccessTokenScope(strings.TrimSpace(x)))
	}
	tok, _, err := c.CreateAccessToken(sdk.CreateAccessTokenOption{Name: fmt.Sprintf("t%d", s.seq.Add(1)), Scopes: sc})
	if err != nil {
		t.Fatalf("creating a token for %s: %v", user, err)
	}
	return tok.Token
}

// AdminClient is an SDK client acting as Admin.
func (s *Server) AdminClient(t testing.TB) *sdk.Client {
	t.Helper()
	return s.Client(t, s.AdminToken)
}

// Client is an SDK client with token. The version check is skipped: a Gitea built from the module
// proxy says "development", which the SDK cannot compare.
func (s *Server) Client(t testing.TB, token string) *sdk.Client {
	t.Helper()
	c, err := sdk.NewClient(s.URL, sdk.SetToken(token), sdk.SetGiteaVersion(""))
	if err != nil {
		t.Fatalf("gitea client: %v", err)
	}
	return c
}

// NewUser creates a user named after prefix (made unique) with a token of scopes.
func (s *Server) NewUser(t testing.TB, prefix, scopes string) User {
	t.Helper()
	u := User{Name: fmt.Sprintf("%s-%d", prefix, s.seq.Add(1)), Password: randomHex(t, 16)}
	u.Email = u.Name + "@example.invalid"
	no := false
	if _, _, err := s.AdminClient(t).AdminCreateUser(sdk.CreateUserOption{Username: u.Name, Email: u.Email, Password: u.Password, MustChangePassword: &no}); err != nil {
		t.Fatalf("creating user %s: %v", u.Name, err)
	}
	u.Token = s.token(t, u.Name, u.Password, scopes)
	return u
}

// NewRepo creates an empty public repository of owner (a user from NewUser, or Admin) named
// after the test, so tests sharing one server never see each other's issues, and returns its
// name. The admin creates it, so the owner's token needs no user scope.
func (s *Server) NewRepo(t testing.TB, owner string) string {
	t.Helper()
	name := fmt.Sprintf("r%d-%s", s.seq.Add(1), repoName(t.Name()))
	if _, _, err := s.AdminClient(t).AdminCreateRepo(owner, sdk.CreateRepoOption{Name: name, AutoInit: true, DefaultBranch: "main"}); err != nil {
		t.Fatalf("creating repository %s/%s: %v", owner, name, err)
	}
	return name
}

// AddCollaborator gives user write access to owner/repo.
func (s *Server) AddCollaborator(t testing.TB, owner, repo, user string) {
	t.Helper()
	mode := sdk.AccessModeWrite
	if _, err := s.AdminClient(t).AddCollaborator(owner, repo, user, sdk.AddCollaboratorOption{Permission: &mode}); err != nil {
		t.Fatalf("adding %s to %s/%s: %v", user, owner, repo, err)
	}
}

// CloneURL is the HTTP URL of owner/repo with u's name and token as credentials, for git clone and
// push (the token needs write:repository to push). It holds a secret: never log it.
func (s *Server) CloneURL(owner, repo string, u User) string {
	return strings.Replace(s.URL, "http://", "http://"+u.Name+":"+u.Token+"@", 1) + "/" + owner + "/" + repo + ".git"
}

// repoName keeps what a repository name may hold, bounded.
func repoName(s string) string {
	s = strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s), "-")
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Merge merges pull request n of owner/repo through c, as a reviewer would. Gitea checks a pushed
// branch's mergeability in the background and refuses a merge until it is done, so the merge is
// retried until the pull request says it is merged (for at most a minute).
func Merge(t testing.TB, c *sdk.Client, owner, repo string, n int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, _, err := c.MergePullRequest(owner, repo, n, sdk.MergePullRequestOption{Style: sdk.MergeStyleMerge})
		if ok && err == nil {
			if pr, _, err := c.GetPullRequest(owner, repo, n); err == nil && pr.HasMerged {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pull request #%d not merged within a minute: %v", n, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// Pulls lists every pull request of owner/repo through c, open or not, page by page (pages hold
// PageSize).
func Pulls(t testing.TB, c *sdk.Client, owner, repo string) []*sdk.PullRequest {
	t.Helper()
	var out []*sdk.PullRequest
	for page := 1; ; page++ {
		prs, _, err := c.ListRepoPullRequests(owner, repo, sdk.ListPullRequestsOptions{
			ListOptions: sdk.ListOptions{Page: page, PageSize: PageSize}, State: sdk.StateAll})
		if err != nil {
			t.Fatalf("listing the pull requests of %s/%s: %v", owner, repo, err)
		}
		out = append(out, prs...)
		if len(prs) < PageSize {
			return out
		}
	}
}
