package github_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues/github"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues/issuestest"
)

// The repository and accounts of the fake.
const (
	owner    = "acme"
	repoName = "infra"
	botLogin = "drift-bot"
	botToken = "ghp_test_bot_token"
	other    = "mallory"
)

// pageCap is the fake's largest page: smaller than the client's per_page (100) so that a few
// issues already span pages, which the REST API does too once a repository has more than 100.
const pageCap = 3

// fakeGitHub answers the REST endpoints the receiver uses in the shapes GitHub's REST reference
// documents (issues, issue comments, labels, the authenticated user), with Link-header
// pagination, from an in-memory repository. It also holds one pull request, which the issues
// endpoint lists too.
type fakeGitHub struct {
	mu       sync.Mutex
	t        *testing.T
	srv      *httptest.Server
	issues   []*ghIssue
	labels   []string
	comments map[int][]issuestest.Comment
	listed   []string // the page query of every list request
}

type ghIssue struct {
	number      int
	title, body string
	state       string
	reason      string
	author      string
	labels      []string
	pull        bool
}

func newFake(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{t: t, comments: map[int][]issuestest.Comment{}}
	f.issues = append(f.issues, &ghIssue{number: 1, title: "A pull request", body: "<!-- driftplane:fingerprint=fp-00000000000000000000 -->",
		state: "open", author: botLogin, labels: []string{issues.DefaultLabel}, pull: true})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user", f.auth(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, user(botLogin))
	}))
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues", f.auth(f.list))
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues", f.auth(f.create))
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/issues/{number}", f.auth(f.update))
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/comments", f.auth(f.comment))
	mux.HandleFunc("GET /repos/{owner}/{repo}/labels/{name}", f.auth(f.getLabel))
	mux.HandleFunc("POST /repos/{owner}/{repo}/labels", f.auth(f.createLabel))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// auth answers as GitHub does to a missing or wrong token, and to another repository.
func (f *fakeGitHub) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+botToken {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
			return
		}
		if o := r.PathValue("owner"); o != "" && (o != owner || r.PathValue("repo") != repoName) {
			notFound(w)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		h(w, r)
	}
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func user(login string) map[string]any {
	return map[string]any{"login": login, "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": false,
		"avatar_url": "https://github.com/images/error/octocat_happy.gif", "url": "https://api.github.com/users/" + login}
}

func (f *fakeGitHub) issueJSON(is *ghIssue) map[string]any {
	base := fmt.Sprintf("https://api.github.com/repos/%s/%s/issues/%d", owner, repoName, is.number)
	var labels []map[string]any
	for i, l := range is.labels {
		labels = append(labels, map[string]any{"id": 208045946 + i, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=", "url": "https://api.github.com/repos/acme/infra/labels/" + l,
			"name": l, "description": "", "color": "d93f0b", "default": false})
	}
	m := map[string]any{
		"id": 1000 + is.number, "node_id": "MDU6SXNzdWUx", "url": base, "repository_url": "https://api.github.com/repos/acme/infra",
		"html_url": fmt.Sprintf("https://github.com/%s/%s/issues/%d", owner, repoName, is.number), "number": is.number,
		"state": is.state, "state_reason": nil, "title": is.title, "body": is.body, "user": user(is.author), "labels": labels,
		"assignee": nil, "assignees": []any{}, "milestone": nil, "locked": false, "comments": len(f.comments[is.number]),
		"closed_at": nil, "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z", "author_association": "COLLABORATOR",
	}
	if is.reason != "" {
		m["state_reason"] = is.reason
	}
	if is.pull {
		m["pull_request"] = map[string]any{"url": "https://api.github.com/repos/acme/infra/pulls/1", "html_url": "https://github.com/acme/infra/pull/1",
			"diff_url": "https://github.com/acme/infra/pull/1.diff", "patch_url": "https://github.com/acme/infra/pull/1.patch"}
	}
	return m
}

// list is GET /repos/{owner}/{repo}/issues: state (default open), labels (all of them), per_page
// (at most 100; the fake serves at most pageCap) and page, newest first, Link header.
func (f *fakeGitHub) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.listed = append(f.listed, q.Get("page"))
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	var match []*ghIssue
	for i := len(f.issues) - 1; i >= 0; i-- {
		is := f.issues[i]
		if (state == "all" || is.state == state) && subset(want, is.labels) {
			match = append(match, is)
		}
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	per = min(per, pageCap)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	last := max((len(match)+per-1)/per, 1)
	var links []string
	link := func(p int, rel string) {
		u := *r.URL
		qq := u.Query()
		qq.Set("page", strconv.Itoa(p))
		u.RawQuery = qq.Encode()
		links = append(links, fmt.Sprintf("<%s%s>; rel=%q", f.srv.URL, u.String(), rel))
	}
	if page > 1 {
		link(page-1, "prev")
	}
	if page < last {
		link(page+1, "next")
		link(last, "last")
	}
	if page > 1 {
		link(1, "first")
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := []map[string]any{}
	for i := (page - 1) * per; i < min(page*per, len(match)); i++ {
		out = append(out, f.issueJSON(match[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func subset(want, have []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			return false
		}
	}
	return true
}

func (f *fakeGitHub) find(w http.ResponseWriter, r *http.Request) *ghIssue {
	n, _ := strconv.Atoi(r.PathValue("number"))
	for _, is := range f.issues {
		if is.number == n {
			return is
		}
	}
	notFound(w)
	return nil
}

// create is POST /repos/{owner}/{repo}/issues: title required; labels by name (created when
// missing, as for a user with push access).
func (f *fakeGitHub) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title  string   `json:"title"`
		Body   *string  `json:"body"`
		Labels []string `json:"labels"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Title == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "status": "422"})
		return
	}
	is := &ghIssue{number: len(f.issues) + 1, title: in.Title, state: "open", author: botLogin, labels: in.Labels}
	if in.Body != nil {
		is.body = *in.Body
	}
	f.issues = append(f.issues, is)
	writeJSON(w, http.StatusCreated, f.issueJSON(is))
}

// update is PATCH /repos/{owner}/{repo}/issues/{issue_number}.
func (f *fakeGitHub) update(w http.ResponseWriter, r *http.Request) {
	is := f.find(w, r)
	if is == nil {
		return
	}
	var in struct {
		Title       *string `json:"title"`
		Body        *string `json:"body"`
		State       *string `json:"state"`
		StateReason *string `json:"state_reason"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "status": "422"})
		return
	}
	if in.State != nil && *in.State != "open" && *in.State != "closed" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "status": "422"})
		return
	}
	if in.Title != nil {
		is.title = *in.Title
	}
	if in.Body != nil {
		is.body = *in.Body
	}
	if in.State != nil {
		is.state = *in.State
	}
	if in.StateReason != nil {
		is.reason = *in.StateReason
	}
	writeJSON(w, http.StatusOK, f.issueJSON(is))
}

// comment is POST /repos/{owner}/{repo}/issues/{issue_number}/comments.
func (f *fakeGitHub) comment(w http.ResponseWriter, r *http.Request) {
	is := f.find(w, r)
	if is == nil {
		return
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "status": "422"})
		return
	}
	f.comments[is.number] = append(f.comments[is.number], issuestest.Comment{Author: botLogin, Body: in.Body})
	id := 1000 * is.number
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
		"url":      fmt.Sprintf("https://api.github.com/repos/acme/infra/issues/comments/%d", id),
		"html_url": fmt.Sprintf("https://github.com/acme/infra/issues/%d#issuecomment-%d", is.number, id),
		"body":     in.Body, "user": user(botLogin), "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
		"issue_url": fmt.Sprintf("https://api.github.com/repos/acme/infra/issues/%d", is.number), "author_association": "COLLABORATOR"})
}

func labelJSON(name string) map[string]any {
	return map[string]any{"id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=", "url": "https://api.github.com/repos/acme/infra/labels/" + url.PathEscape(name),
		"name": name, "description": "Drift tracked by driftplane", "color": "d93f0b", "default": false}
}

// getLabel is GET /repos/{owner}/{repo}/labels/{name}: 404 when missing.
func (f *fakeGitHub) getLabel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !slices.Contains(f.labels, name) {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, labelJSON(name))
}

// createLabel is POST /repos/{owner}/{repo}/labels: 422 already_exists for a duplicate.
func (f *fakeGitHub) createLabel(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  string `json:"name"`
		Color string `json:"color"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Name == "" || strings.HasPrefix(in.Color, "#") {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "status": "422"})
		return
	}
	if slices.Contains(f.labels, in.Name) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "status": "422",
			"errors": []any{map[string]any{"resource": "Label", "code": "already_exists", "field": "name"}}})
		return
	}
	f.labels = append(f.labels, in.Name)
	writeJSON(w, http.StatusCreated, labelJSON(in.Name))
}

func (f *fakeGitHub) repo() issuestest.Repo {
	return issuestest.Repo{
		Bot: botLogin,
		Receiver: func(t *testing.T) *issues.Receiver {
			r, err := github.New("gh", github.Config{APIURL: f.srv.URL, Token: botToken, Owner: owner, Repo: repoName}, issues.Config{})
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
		Issues: func(t *testing.T) []issues.Issue {
			f.mu.Lock()
			defer f.mu.Unlock()
			var out []issues.Issue
			for _, is := range f.issues {
				if !is.pull {
					out = append(out, issues.Issue{Number: int64(is.number), Title: is.title, Body: is.body, Open: is.state == "open", Author: is.author, Labels: is.labels})
				}
			}
			return out
		},
		Comments: func(t *testing.T, number int64) []issuestest.Comment {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.comments[int(number)]
		},
		Forge: func(t *testing.T, title, body string, labels []string) int64 {
			f.mu.Lock()
			defer f.mu.Unlock()
			is := &ghIssue{number: len(f.issues) + 1, title: title, body: body, state: "open", author: other, labels: labels}
			f.issues = append(f.issues, is)
			return int64(is.number)
		},
		Close: func(t *testing.T, number int64) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.issues[number-1].state = "closed"
		},
	}
}

func TestGitHub(t *testing.T) {
	t.Run("Lifecycle", func(t *testing.T) {
		f := newFake(t)
		issuestest.Lifecycle(t, f.repo())
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.labels) != 1 || f.labels[0] != issues.DefaultLabel {
			t.Errorf("labels created: %v", f.labels)
		}
		if pr := f.issues[0]; pr.state != "open" || len(f.comments[1]) != 0 {
			t.Errorf("the pull request was touched: %+v %v", pr, f.comments[1])
		}
		// Resolution closes as completed, a return reopens as reopened.
		if is := f.issues[1]; is.reason != "reopened" {
			t.Errorf("state_reason %q after the drift came back", is.reason)
		}
	})
	t.Run("FakeMarkers", func(t *testing.T) { issuestest.FakeMarkers(t, newFake(t).repo()) })
	t.Run("ForeignIssue", func(t *testing.T) { issuestest.ForeignIssue(t, newFake(t).repo()) })
	t.Run("Pagination", func(t *testing.T) {
		f := newFake(t)
		issuestest.Many(t, f.repo(), 3*pageCap+1)
		f.mu.Lock()
		defer f.mu.Unlock()
		// Each Send lists 4 pages of issues (10 drifts and the pull request, 3 a page).
		if !slices.Contains(f.listed, "4") || slices.Contains(f.listed, "5") {
			t.Errorf("pages asked for: %v", f.listed)
		}
	})
	t.Run("ExtraLabels", func(t *testing.T) {
		f := newFake(t)
		r, err := github.New("gh", github.Config{APIURL: f.srv.URL, Token: botToken, Owner: owner, Repo: repoName}, issues.Config{ExtraLabels: []string{"team/payments"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Send(t.Context(), []notify.Notification{issuestest.Firing(issuestest.Finding("u", "r.x", "drift-000000000000000000000001", "/a"))}); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if want := []string{issues.DefaultLabel, "team/payments"}; !slices.Equal(f.labels, want) || !slices.Equal(f.issues[1].labels, want) {
			t.Fatalf("labels created %v, on the issue %v; want %v", f.labels, f.issues[1].labels, want)
		}
	})
	t.Run("BadToken", func(t *testing.T) {
		f := newFake(t)
		r, err := github.New("gh", github.Config{APIURL: f.srv.URL, Token: "wrong-token-value", Owner: owner, Repo: repoName}, issues.Config{})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Send(t.Context(), []notify.Notification{issuestest.Firing(issuestest.Finding("u", "r.x", "drift-000000000000000000000001", "/a"))})
		if err == nil || strings.Contains(err.Error(), "wrong-token-value") {
			t.Fatalf("send with a bad token: %v", err)
		}
	})
}
