package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/driftplane/terraform-provider-drift/internal/forgeapi/markdown"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/edit"
)

// Remote is the Git repository a reconciliation branches from and pushes to, over HTTP(S) with a
// token. The token is sent as the password of HTTP basic auth, never put in a URL, and never
// printed: errors name the URL without credentials.
type Remote struct {
	// URL is the repository's http(s) clone URL, without credentials.
	URL string
	// Username goes with the token (GitHub: x-access-token, GitLab: oauth2, Gitea: the token's
	// user).
	Username, Token string
	// AuthorName and AuthorEmail sign the commits (driftplane's when empty).
	AuthorName, AuthorEmail string
}

// ParseRemoteURL accepts an http(s) clone URL that carries no credentials: a token belongs in the
// forge credential, never in a URL that ends up in logs and records. Errors name the URL by its
// scheme and host only, never echoing a password or a token given as the user name.
func ParseRemoteURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("the repository URL must be an http(s) URL")
	}
	if u.User != nil {
		return nil, fmt.Errorf("the repository URL (%s) carries credentials: give the token as the forge credential instead", Origin(u))
	}
	return u, nil
}

func checkRemoteURL(raw string) error {
	_, err := ParseRemoteURL(raw)
	return err
}

// Origin names a URL by scheme and host only: a URL's user part may hold a token (as the user
// name, which url.Redacted leaves), and its path and query are not needed to say which it is.
func Origin(u *url.URL) string {
	if u == nil || u.Host == "" {
		return "a URL without a host"
	}
	return u.Scheme + "://" + u.Host
}

func (r Remote) auth() *githttp.BasicAuth {
	user := r.Username
	if user == "" {
		user = "driftplane"
	}
	return &githttp.BasicAuth{Username: user, Password: r.Token}
}

// scrub removes the token from a message a Git library produced, whatever it quoted.
func (r Remote) scrub(err error) error { return Scrub(err, r.Token) }

// Scrub removes the token from a message, whatever library quoted it.
func Scrub(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "[token]"))
}

// checkout is a fresh clone of the base branch in a temporary folder.
type checkout struct {
	remote  Remote
	repo    *git.Repository
	dir     string
	base    string
	baseRef plumbing.ReferenceName
	head    *object.Commit
}

// clone clones base into dir.
func clone(ctx context.Context, r Remote, base, dir string) (*checkout, error) {
	if err := checkRemoteURL(r.URL); err != nil {
		return nil, err
	}
	ref := plumbing.NewBranchReferenceName(base)
	repo, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{URL: r.URL, Auth: r.auth(), ReferenceName: ref, SingleBranch: true})
	if err != nil {
		return nil, fmt.Errorf("cloning branch %s of %s: %w", base, r.URL, r.scrub(err))
	}
	h, err := repo.Head()
	if err != nil {
		return nil, fmt.Errorf("clone of %s: %w", r.URL, err)
	}
	head, err := repo.CommitObject(h.Hash())
	if err != nil {
		return nil, fmt.Errorf("clone of %s: %w", r.URL, err)
	}
	return &checkout{remote: r, repo: repo, dir: dir, base: base, baseRef: ref, head: head}, nil
}

// reset brings the work tree back to the base branch's head, untracked files removed.
func (c *checkout) reset() error {
	wt, err := c.repo.Worktree()
	if err != nil {
		return err
	}
	if err := c.repo.Storer.SetReference(plumbing.NewHashReference(c.baseRef, c.head.Hash)); err != nil {
		return err
	}
	if err := wt.Reset(&git.ResetOptions{Commit: c.head.Hash, Mode: git.HardReset}); err != nil {
		return err
	}
	return wt.Clean(&git.CleanOptions{Dir: true})
}

// safeRelPath accepts a slash-separated path inside the work tree and outside .git.
func safeRelPath(p string) (string, error) {
	clean := path.Clean(p)
	switch {
	case p == "" || path.IsAbs(p) || strings.Contains(p, "\\") || strings.ContainsRune(p, 0):
		return "", fmt.Errorf("edit path %q is not a relative slash-separated path", p)
	case clean == "." || clean == ".." || strings.HasPrefix(clean, "../"):
		return "", fmt.Errorf("edit path %q leaves the repository", p)
	case clean == ".git" || strings.HasPrefix(clean, ".git/") || strings.Contains(clean, "/.git/") || strings.HasSuffix(clean, "/.git"):
		return "", fmt.Errorf("edit path %q is inside .git", p)
	}
	return clean, nil
}

// write writes edits into the work tree (not committed): each finding's edits land before the
// next finding's are computed, so two findings in one file both apply.
func (c *checkout) write(edits []edit.FileEdit) error {
	for _, e := range edits {
		rel, err := safeRelPath(e.Path)
		if err != nil {
			return err
		}
		if err := refuseSymlinks(c.dir, rel); err != nil {
			return err
		}
		full := filepath.Join(c.dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, e.Content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// commitWorktree commits what the work tree changed on top of base as branch and returns the
// commit, or the zero hash when nothing changed (the base already declares it). The commit's time
// is the base head's, so the same edits on the same base make the same commit: a re-run pushes
// nothing. The work tree is reset to base afterwards.
func (c *checkout) commitWorktree(branch, message string) (plumbing.Hash, error) {
	wt, err := c.repo.Worktree()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("staging: %w", err)
	}
	st, err := wt.Status()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if st.IsClean() {
		return plumbing.ZeroHash, c.reset()
	}
	name, email := c.signature()
	sig := &object.Signature{Name: name, Email: email, When: c.head.Committer.When}
	h, err := wt.Commit(message, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("committing: %w", err)
	}
	if err := c.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h)); err != nil {
		return plumbing.ZeroHash, err
	}
	return h, c.reset()
}

// refuseSymlinks refuses a path any of whose existing components is a symbolic link: a branch
// whose tree links out must not make the reconciler write outside the clone.
func refuseSymlinks(root, rel string) error {
	cur := root
	for _, part := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("edit path %q goes through a symbolic link", rel)
		}
	}
	return nil
}

// remoteBranch is the remote's commit for branch (zero when it has none).
func (c *checkout) remoteBranch(ctx context.Context, branch string) (plumbing.Hash, error) {
	rem, err := c.repo.Remote(git.DefaultRemoteName)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: c.remote.auth()})
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("listing the branches of %s: %w", c.remote.URL, c.remote.scrub(err))
	}
	want := plumbing.NewBranchReferenceName(branch)
	for _, r := range refs {
		if r.Name() == want {
			return r.Hash(), nil
		}
	}
	return plumbing.ZeroHash, nil
}

// push force-pushes branch at h unless the remote already has it there. The branch is driftplane's
// own: force replaces an older proposal with the one rebuilt on the current base.
func (c *checkout) push(ctx context.Context, branch string, h plumbing.Hash) (bool, error) {
	at, err := c.remoteBranch(ctx, branch)
	if err != nil {
		return false, err
	}
	if at == h {
		return false, nil
	}
	ref := plumbing.NewBranchReferenceName(branch)
	if at != plumbing.ZeroHash {
		if err := c.ownTip(ctx, ref, at); err != nil {
			return false, err
		}
	}
	spec := config.RefSpec("+" + ref.String() + ":" + ref.String())
	err = c.repo.PushContext(ctx, &git.PushOptions{RemoteName: git.DefaultRemoteName, RefSpecs: []config.RefSpec{spec}, Auth: c.remote.auth(), Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return false, fmt.Errorf("pushing %s to %s: %w", branch, c.remote.URL, c.remote.scrub(err))
	}
	return true, nil
}

// ownTip refuses to replace a branch whose tip driftplane did not commit: a reviewer who pushed a
// fix onto the proposal keeps it, and the run fails for that key, saying so.
func (c *checkout) ownTip(ctx context.Context, ref plumbing.ReferenceName, at plumbing.Hash) error {
	who, err := c.foreignTip(ctx, ref, at)
	if err != nil {
		return err
	}
	if who != "" {
		return fmt.Errorf("branch %s holds a commit by %s that driftplane did not make; it is not overwritten (merge or close the pull request, or delete the branch)",
			ref.Short(), who)
	}
	return nil
}

// foreignTip fetches ref's tip at and names its author when driftplane did not make it ("" when
// it did).
func (c *checkout) foreignTip(ctx context.Context, ref plumbing.ReferenceName, at plumbing.Hash) (string, error) {
	tracking := plumbing.ReferenceName("refs/remotes/" + git.DefaultRemoteName + "/" + strings.TrimPrefix(ref.String(), "refs/heads/"))
	err := c.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: git.DefaultRemoteName, Auth: c.remote.auth(),
		RefSpecs: []config.RefSpec{config.RefSpec("+" + ref.String() + ":" + tracking.String())}})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return "", fmt.Errorf("fetching %s from %s: %w", ref.Short(), c.remote.URL, c.remote.scrub(err))
	}
	tip, err := c.repo.CommitObject(at)
	if err != nil {
		return "", fmt.Errorf("the tip of %s: %w", ref.Short(), err)
	}
	name, email := c.signature()
	if tip.Author.Email != email || tip.Committer.Email != email || tip.Author.Name != name {
		return fmt.Sprintf("%s <%s>", markdown.OneLine(tip.Author.Name), markdown.OneLine(tip.Author.Email)), nil
	}
	return "", nil
}

// What deleteBranch did.
const (
	branchDeleted = iota + 1
	// branchAbsent: the remote has no such branch (someone, or the forge on merge, deleted it).
	branchAbsent
	// branchRefused: the branch is not driftplane's to delete; it never will be.
	branchRefused
)

// deleteBranch deletes branch on the remote, but only while its tip is want, the commit driftplane
// pushed there, and that commit is driftplane's: a branch someone pushed to, or re-pointed, is
// someone's work. The deletion itself requires the remote to still hold want, so a push between
// the check and the deletion is not lost either. A refusal's reason is returned with
// branchRefused; an error is worth retrying.
func (c *checkout) deleteBranch(ctx context.Context, branch string, want plumbing.Hash) (int, string, error) {
	at, err := c.remoteBranch(ctx, branch)
	if err != nil {
		return 0, "", err
	}
	if at.IsZero() {
		return branchAbsent, "", nil
	}
	if at != want {
		return branchRefused, fmt.Sprintf("its tip %s is not the commit driftplane pushed (%s)", at, want), nil
	}
	ref := plumbing.NewBranchReferenceName(branch)
	who, err := c.foreignTip(ctx, ref, at)
	if err != nil {
		return 0, "", err
	}
	if who != "" {
		return branchRefused, fmt.Sprintf("its tip %s is a commit by %s that driftplane did not make", at, who), nil
	}
	err = c.repo.PushContext(ctx, &git.PushOptions{RemoteName: git.DefaultRemoteName, Auth: c.remote.auth(),
		RefSpecs:          []config.RefSpec{config.RefSpec(":" + ref.String())},
		RequireRemoteRefs: []config.RefSpec{config.RefSpec(want.String() + ":" + ref.String())}})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return branchAbsent, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("deleting %s on %s: %w", branch, c.remote.URL, c.remote.scrub(err))
	}
	return branchDeleted, "", nil
}

// signature is the name and e-mail driftplane commits as.
func (c *checkout) signature() (string, string) {
	name, email := c.remote.AuthorName, c.remote.AuthorEmail
	if name == "" {
		name = "driftplane"
	}
	if email == "" {
		email = "driftplane@users.noreply.invalid"
	}
	return name, email
}

// diff is the unified diff of the edits against base, for the pull request body.
func (c *checkout) diff(h plumbing.Hash) (string, error) {
	to, err := c.repo.CommitObject(h)
	if err != nil {
		return "", err
	}
	p, err := c.head.PatchContext(context.Background(), to)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

// readFile reads a file of the base tree ("" when absent).
func (c *checkout) readFile(rel string) string {
	f, err := c.head.File(rel)
	if err != nil {
		return ""
	}
	s, err := f.Contents()
	if err != nil {
		return ""
	}
	return s
}
