package forges

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/reconcile"
)

// A token meant for one forge must go only to that forge: look-alike hosts, other ports or
// schemes, and user-info tricks are other origins.
func TestSameOrigin(t *testing.T) {
	const forge = "https://git.example.com"
	for repo, want := range map[string]bool{
		"https://git.example.com/team/app.git":           true,
		"https://GIT.example.com/team/app.git":           true,
		"https://git.example.com.evil.test/team/app.git": false,
		"https://git.example.com@evil.test/team/app.git": false,
		"https://evil.test/git.example.com/app.git":      false,
		"http://git.example.com/team/app.git":            false,
		"https://git.example.com:8443/team/app.git":      false,
		"git@git.example.com:team/app.git":               false,
		"https://git.example.com:443/team/app.git":       true,
		"": false,
	} {
		if got := SameOrigin(forge, repo); got != want {
			t.Errorf("SameOrigin(%q) = %v, want %v", repo, got, want)
		}
	}
	if SameOrigin("", "https://git.example.com/a/b.git") {
		t.Error("an empty forge URL matched")
	}
	// A forge under a path shares its host with other services: only repositories under that
	// path are the forge's.
	for repo, want := range map[string]bool{
		"https://example.com/gitea/team/app.git":         true,
		"https://example.com/other-service/team/app.git": false,
		"https://example.com/gitea-old/team/app.git":     false,
		"https://example.com/gitea":                      false,
	} {
		if got := SameOrigin("https://example.com/gitea/", repo); got != want {
			t.Errorf("under a path: SameOrigin(%q) = %v, want %v", repo, got, want)
		}
	}
}

func TestParseRemoteURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://git.example.com/a/b.git":          "",
		"ssh://git@git.example.com/a/b.git":        "http(s)",
		"file:///srv/git/a.git":                    "http(s)",
		"https://bot:s3cret@git.example.com/a.git": "carries credentials",
		"https://s3cret@git.example.com/a.git":     "carries credentials",
	} {
		_, err := reconcile.ParseRemoteURL(raw)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", raw, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want %q", raw, err, want)
		case err != nil && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("%s: the error repeats the password: %v", raw, err)
		}
	}
}

// Open refuses what it cannot build before any request, and never quotes the token.
func TestOpenRefuses(t *testing.T) {
	const token = "tok-0123456789abcdef"
	for _, c := range []Config{
		{Kind: "bitbucket", RepoURL: "https://git.example.com/a/b.git", Token: token},
		{Kind: "gitea", RepoURL: "https://git.example.com/just-one", Token: token},
		{Kind: "github", RepoURL: "https://x-access-token:" + token + "@github.com/a/b.git", Token: token},
	} {
		_, _, err := Open(context.Background(), c)
		if err == nil {
			t.Errorf("%+v: no error", c.Kind)
			continue
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("the error quotes the token: %v", err)
		}
	}
	// The name the API is called with must be the repository Git talks to.
	for _, raw := range []string{
		"https://git.example.com/team%2Fapp/x.git", "https://git.example.com/team/app/extra.git",
		"https://git.example.com/team/app.git?x=1", "https://git.example.com/team/app.git#frag",
		"https://git.example.com/team/..", "https://git.example.com/team/.hidden", "https://git.example.com/solo",
	} {
		if _, _, err := Open(context.Background(), Config{Kind: "github", RepoURL: raw, Token: token}); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
	if got := reconcile.Scrub(errors.New("Get https://h/?t="+token+": refused"), token).Error(); strings.Contains(got, token) {
		t.Errorf("Scrub left the token: %s", got)
	}
}
