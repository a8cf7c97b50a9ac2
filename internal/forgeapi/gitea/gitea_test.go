package gitea

import (
	"net/http"
	"testing"

	sdk "code.gitea.io/sdk/gitea"
)

// Check refuses what names no repository or carries no token, and trims the URL's slash.
func TestCheck(t *testing.T) {
	for _, c := range []Config{{Owner: "o", Repo: "r", Token: "t"}, {URL: "u", Repo: "r", Token: "t"}, {URL: "u", Owner: "o", Token: "t"}, {URL: "u", Owner: "o", Repo: "r"}} {
		if _, err := Check(c); err == nil {
			t.Errorf("Check(%+v) accepted", c)
		}
	}
	c, err := Check(Config{URL: "https://gitea.example/", Owner: "o", Repo: "r", Token: "t"})
	if err != nil || c.URL != "https://gitea.example" || c.HTTPClient == nil || c.HTTPClient.Timeout != DefaultTimeout {
		t.Errorf("Check: %+v %v", c, err)
	}
}

// Next follows the server's Link header, stops when the header says nothing follows, and
// without one goes on until an empty page.
func TestNext(t *testing.T) {
	link := func(next int) *sdk.Response {
		r := &sdk.Response{Response: &http.Response{Header: http.Header{"Link": {`<x>; rel="last"`}}}, NextPage: next}
		return r
	}
	plain := &sdk.Response{Response: &http.Response{Header: http.Header{}}}
	for _, c := range []struct {
		resp      *sdk.Response
		page, got int
		want      int
	}{
		{link(3), 2, 50, 3},
		{link(0), 2, 50, 0},
		{plain, 2, 10, 3},
		{plain, 2, 0, 0},
		{nil, 1, 5, 2},
	} {
		if n := Next(c.resp, c.page, c.got); n != c.want {
			t.Errorf("Next(page %d, got %d) = %d, want %d", c.page, c.got, n, c.want)
		}
	}
}
