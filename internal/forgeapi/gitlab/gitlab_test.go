package gitlab

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// Connect refuses what names no project or carries no token, and never retries: a retried POST
// whose first try reached the server would open a second issue or merge request.
func TestConnect(t *testing.T) {
	for _, c := range []Config{{Project: "g/p", Token: "t"}, {URL: "https://gitlab.example", Token: "t"}, {URL: "https://gitlab.example", Project: "g/p"}} {
		if _, err := Connect(c); err == nil {
			t.Errorf("Connect(%+v) accepted", c)
		}
	}
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, `{"message":"unavailable"}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := Connect(Config{URL: srv.URL, Token: "tok", Project: "g/p"})
	if err != nil {
		t.Fatal(err)
	}
	title := "x"
	if _, _, err := c.Issues.CreateIssue("g/p", &gl.CreateIssueOptions{Title: &title}); err == nil {
		t.Fatal("a 503 was taken for success")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls for one create, want 1 (no retries)", n)
	}
}
