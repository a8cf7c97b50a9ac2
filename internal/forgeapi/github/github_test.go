package github

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Connect refuses what names no repository or carries no token, and reaches an Enterprise
// Server's API under its path whether or not APIURL ends in a slash, with the token.
func TestConnect(t *testing.T) {
	for _, c := range []Config{{Repo: "r", Token: "t"}, {Owner: "o", Token: "t"}, {Owner: "o", Repo: "r"}} {
		if _, err := Connect(c); err == nil {
			t.Errorf("Connect(%+v) accepted", c)
		}
	}
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path+" "+r.Header.Get("Authorization"))
		_, _ = w.Write([]byte(`{"id":1,"name":"r"}`))
	}))
	defer srv.Close()
	for _, api := range []string{srv.URL + "/api/v3", srv.URL + "/api/v3/"} {
		c, err := Connect(Config{APIURL: api, Token: "tok", Owner: "o", Repo: "r"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Repositories.Get(context.Background(), "o", "r"); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0] != "/api/v3/repos/o/r Bearer tok" || got[1] != got[0] {
		t.Errorf("requests %q", strings.Join(got, "; "))
	}
}
