// Package forges opens the forge client and the Git remote reconciliation needs for one
// repository, from the repository's clone URL, the forge's kind and a token: written once for
// `driftplane reconcile` and the Argo CD reporter.
package forges

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/reconcile"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge/gitea"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge/github"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge/gitlab"
)

// Kinds are the forges reconciliation speaks to.
var Kinds = []string{"gitea", "github", "gitlab"}

// Config names a repository on a forge.
type Config struct {
	// Kind is gitea (also Forgejo), github or gitlab.
	Kind string
	// URL is the forge's base URL (default: the repository URL's scheme and host; github.com's
	// API for github).
	URL string
	// RepoURL is the repository's http(s) clone URL, without credentials.
	RepoURL string
	// Repo is OWNER/NAME, or GitLab's full project path (default: from RepoURL's path).
	Repo string
	// Username is sent with the token when pushing (default: x-access-token for github, oauth2 for
	// gitlab, the token's own user for gitea).
	Username string
	// Token is the forge credential. It is never put in an error.
	Token string
}

// Open builds the forge client and the Git remote for c.
func Open(ctx context.Context, c Config) (forge.Forge, reconcile.Remote, error) {
	u, err := reconcile.ParseRemoteURL(c.RepoURL)
	if err != nil {
		return nil, reconcile.Remote{}, err
	}
	repo := c.Repo
	if repo == "" {
		if repo, err = repoPath(u, c.Kind == "gitlab"); err != nil {
			return nil, reconcile.Remote{}, err
		}
	}
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || (c.Kind != "gitlab" && strings.Contains(name, "/")) {
		return nil, reconcile.Remote{}, fmt.Errorf("repository %q: want OWNER/NAME", repo)
	}
	base := c.URL
	if base == "" && c.Kind != "github" {
		base = u.Scheme + "://" + u.Host
	}
	remote := reconcile.Remote{URL: c.RepoURL, Username: c.Username, Token: c.Token}
	var f forge.Forge
	switch c.Kind {
	case "gitea":
		var g *gitea.Forge
		g, err = gitea.New(gitea.Config{URL: base, Token: c.Token, Owner: owner, Repo: name})
		if err == nil {
			f = g
		}
		if err == nil && remote.Username == "" {
			// Gitea takes the token as the password of its own user.
			remote.Username, err = g.Self(ctx)
			if err != nil {
				err = fmt.Errorf("gitea: the token's user: %w", err)
			}
		}
	case "github":
		var g *github.Forge
		g, err = github.New(github.Config{APIURL: base, Token: c.Token, Owner: owner, Repo: name})
		if err == nil {
			f = g
		}
		if remote.Username == "" {
			remote.Username = "x-access-token"
		}
	case "gitlab":
		var g *gitlab.Forge
		g, err = gitlab.New(gitlab.Config{URL: base, Token: c.Token, Project: repo})
		if err == nil {
			f = g
		}
		if remote.Username == "" {
			remote.Username = "oauth2"
		}
	default:
		return nil, reconcile.Remote{}, fmt.Errorf("forge %q: want one of %s", c.Kind, strings.Join(Kinds, ", "))
	}
	return f, remote, reconcile.Scrub(err, c.Token)
}

// segment is one safe path segment of a repository's name on a forge.
var segment = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// repoPath reads OWNER/NAME (GitLab: group/subgroup/.../NAME) from a clone URL whose path holds
// exactly that and nothing else: the API is called with this name while Git talks to the URL, so
// an encoded slash, a dot segment, a query or a fragment could make them name two repositories.
func repoPath(u *url.URL, nested bool) (string, error) {
	if u.RawQuery != "" || u.Fragment != "" || u.RawFragment != "" || (u.RawPath != "" && u.RawPath != u.Path) {
		return "", fmt.Errorf("the repository URL (%s) must be a plain clone URL: no query, fragment or encoded characters in its path", reconcile.Origin(u))
	}
	parts := strings.Split(strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git"), "/")
	if len(parts) < 2 || (!nested && len(parts) != 2) {
		return "", fmt.Errorf("the repository URL's path %q is not /OWNER/NAME", u.Path)
	}
	for _, p := range parts {
		if !segment.MatchString(p) || p == "." || p == ".." {
			return "", fmt.Errorf("the repository URL's path %q has a segment that is not a plain name", u.Path)
		}
	}
	return strings.Join(parts, "/"), nil
}

// SameOrigin tells whether repoURL is served by the forge at forgeURL: the same scheme, host and
// port (the scheme's default port written or not), and, when the forge lives under a path
// (https://example.com/gitea), a repository under that path. A token meant for one forge is
// never sent to a host, or another service on the host, that an application names.
func SameOrigin(forgeURL, repoURL string) bool {
	f, err := url.Parse(forgeURL)
	if err != nil || f.Host == "" || f.User != nil {
		return false
	}
	r, err := url.Parse(repoURL)
	if err != nil || r.Host == "" {
		return false
	}
	if !strings.EqualFold(f.Scheme, r.Scheme) || !strings.EqualFold(hostPort(f), hostPort(r)) {
		return false
	}
	base := strings.TrimSuffix(f.EscapedPath(), "/")
	return base == "" || strings.HasPrefix(r.EscapedPath(), base+"/")
}

// hostPort is u's host with its port, the scheme's default when none is written.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(strings.TrimSuffix(u.Hostname(), "."), port)
}
