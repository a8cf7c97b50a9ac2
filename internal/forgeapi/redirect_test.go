package forgeapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/forgeapi"
	"github.com/driftplane/terraform-provider-drift/internal/forgeapi/gitea"
	"github.com/driftplane/terraform-provider-drift/internal/forgeapi/github"
	"github.com/driftplane/terraform-provider-drift/internal/forgeapi/gitlab"
)

const token = "tok-redirect-0123456789"

// A forge (or a proxy or open redirect in front of it) that redirects to another host must not get
// the token sent there, and its answer must not be taken as the forge's: every client refuses the
// redirect. A redirect on the forge itself is still followed.
func TestForgeClientsRefuseRedirectsToAnotherOrigin(t *testing.T) {
	var evilHits atomic.Int32
	var leaked atomic.Bool
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		for _, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, token) {
					leaked.Store(true)
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"login":"attacker","username":"attacker","id":1}`))
	}))
	t.Cleanup(evil.Close)
	forge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(forge.Close)

	calls := map[string]func() error{
		"github": func() error {
			c, err := github.Connect(github.Config{APIURL: forge.URL + "/api/v3/", Token: token, Owner: "o", Repo: "r"})
			if err != nil {
				return err
			}
			_, _, err = c.Users.Get(context.Background(), "")
			return err
		},
		"gitlab": func() error {
			c, err := gitlab.Connect(gitlab.Config{URL: forge.URL, Token: token, Project: "o/r"})
			if err != nil {
				return err
			}
			_, _, err = c.Users.CurrentUser()
			return err
		},
		"gitea": func() error {
			cfg, err := gitea.Check(gitea.Config{URL: forge.URL, Token: token, Owner: "o", Repo: "r"})
			if err != nil {
				return err
			}
			c, err := gitea.Client(context.Background(), cfg)
			if err != nil {
				return err
			}
			_, _, err = c.GetMyUserInfo()
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			before := evilHits.Load()
			err := call()
			if err == nil {
				t.Fatal("the redirected answer was taken as the forge's")
			}
			if evilHits.Load() != before || leaked.Load() {
				t.Fatalf("the other host was reached (%d requests, token leaked: %v)", evilHits.Load()-before, leaked.Load())
			}
			if strings.Contains(err.Error(), token) {
				t.Fatalf("the error carries the token: %v", err)
			}
		})
	}
}

func TestGuardFollowsSameOriginRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	resp, err := forgeapi.Guard(nil, 0).Get(srv.URL + "/old")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.Request.URL.Path != "/new" {
		t.Fatalf("ended at %s", resp.Request.URL)
	}
	// The caller's client is copied, never changed.
	own := &http.Client{}
	_ = forgeapi.Guard(own, 0)
	if own.CheckRedirect != nil {
		t.Fatal("Guard changed the caller's client")
	}
}
