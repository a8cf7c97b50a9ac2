package github_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge/github"
)

const (
	owner    = "acme"
	repoName = "infra"
	botLogin = "drift-bot"
	botToken = "ghp_reconcile_test_token_9f3"
)

// pageCap is the fake's largest page: a few pull requests already span pages.
const pageCap = 2

type pull struct {
	number      int
	title, body string
	head, base  string
	headRepo    string
	state       string
	merged      bool
	author      string
}

// fakeGitHub answers the pull request endpoints in the shapes GitHub's REST reference documents
// (pulls, issue comments, requested reviewers, the authenticated user, the repository), with
// Link-header pagination. lie makes it answer about another pull request than the one asked.
type fakeGitHub struct {
	mu        sync.Mutex
	srv       *httptest.Server
	pulls     []*pull
	comments  map[int][]string
	reviewers map[int][]string
	lie       bool
	heads     []string // the head query of every list
}

func newFake(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{comments: map[int][]string{}, reviewers: map[int][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user", f.auth(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"login": botLogin, "id": 1, "type": "User"})
	}))
	mux.HandleFunc("GET /repos/{owner}/{repo}", f.auth(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"id": 1, "name": repoName, "full_name": owner + "/" + repoName, "default_branch": "main", "private": false})
	}))
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls", f.auth(f.list))
	mux.HandleFunc("POST /repos/{owner}/{repo}/pulls", f.auth(f.create))
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/pulls/{number}", f.auth(f.update))
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/comments", f.auth(f.comment))
	mux.HandleFunc("POST /repos/{owner}/{repo}/pulls/{number}/requested_reviewers", f.auth(f.requestReviewers))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+botToken {
			writeJSON(w, 401, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
			return
		}
		if o := r.PathValue("owner"); o != "" && (o != owner || r.PathValue("repo") != repoName) {
			writeJSON(w, 404, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"})
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) pullJSON(p *pull) map[string]any {
	repo := func(full string) map[string]any {
		o, n, _ := strings.Cut(full, "/")
		return map[string]any{"id": 1, "name": n, "full_name": full, "owner": map[string]any{"login": o}}
	}
	m := map[string]any{
		"id": 5000 + p.number, "number": p.number, "state": p.state, "locked": false, "title": p.title, "body": p.body,
		"html_url": fmt.Sprintf("https://github.com/%s/%s/pull/%d", owner, repoName, p.number),
		"url":      fmt.Sprintf("https://api.github.com/repos/%s/%s/pulls/%d", owner, repoName, p.number),
		"user":     map[string]any{"login": p.author, "id": 2, "type": "User"},
		"head":     map[string]any{"label": strings.Split(p.headRepo, "/")[0] + ":" + p.head, "ref": p.head, "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "repo": repo(p.headRepo)},
		"base":     map[string]any{"label": owner + ":" + p.base, "ref": p.base, "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "repo": repo(owner + "/" + repoName)},
		"merged":   p.merged, "merged_at": nil, "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z", "closed_at": nil,
	}
	if p.merged {
		m["merged_at"] = "2026-12-01T11:00:00Z"
		m["closed_at"] = "2026-12-01T11:00:00Z"
	}
	return m
}

// list is GET /pulls: state (default open), head (user:ref), per_page and page, Link header.
func (f *fakeGitHub) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.heads = append(f.heads, q.Get("head"))
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var match []*pull
	for i := len(f.pulls) - 1; i >= 0; i-- {
		p := f.pulls[i]
		label := strings.Split(p.headRepo, "/")[0] + ":" + p.head
		if (state == "all" || p.state == state) && (q.Get("head") == "" || q.Get("head") == label) {
			match = append(match, p)
		}
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	start, end := (page-1)*pageCap, page*pageCap
	if start > len(match) {
		start = len(match)
	}
	if end > len(match) {
		end = len(match)
	}
	if end < len(match) {
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, f.srv.URL, next.RequestURI()))
	}
	out := []map[string]any{}
	for _, p := range match[start:end] {
		out = append(out, f.pullJSON(p))
	}
	writeJSON(w, 200, out)
}

func (f *fakeGitHub) create(w http.ResponseWriter, r *http.Request) {
	var req struct{ Title, Body, Head, Base string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Head == "" || req.Base == "" {
		writeJSON(w, 422, map[string]any{"message": "Validation Failed"})
		return
	}
	for _, p := range f.pulls {
		if p.head == req.Head && p.headRepo == owner+"/"+repoName && p.base == req.Base && p.state == "open" {
			writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": []any{map[string]any{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for acme:" + req.Head + "."}}})
			return
		}
	}
	p := &pull{number: len(f.pulls) + 1, title: req.Title, body: req.Body, head: req.Head, base: req.Base, headRepo: owner + "/" + repoName, state: "open", author: botLogin}
	f.pulls = append(f.pulls, p)
	answer := *p
	if f.lie {
		answer.number += 40
		answer.head = "someone-else"
	}
	writeJSON(w, 201, f.pullJSON(&answer))
}

func (f *fakeGitHub) get(r *http.Request) *pull {
	n, _ := strconv.Atoi(r.PathValue("number"))
	for _, p := range f.pulls {
		if p.number == n {
			return p
		}
	}
	return nil
}

func (f *fakeGitHub) update(w http.ResponseWriter, r *http.Request) {
	p := f.get(r)
	if p == nil {
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
		return
	}
	var req struct {
		Title, Body, State *string
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	if req.Title != nil {
		p.title = *req.Title
	}
	if req.Body != nil {
		p.body = *req.Body
	}
	if req.State != nil {
		p.state = *req.State
	}
	answer := *p
	if f.lie {
		answer.number++
	}
	writeJSON(w, 200, f.pullJSON(&answer))
}

func (f *fakeGitHub) comment(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("number"))
	var req struct{ Body string }
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.comments[n] = append(f.comments[n], req.Body)
	writeJSON(w, 201, map[string]any{"id": 1, "body": req.Body, "user": map[string]any{"login": botLogin}})
}

func (f *fakeGitHub) requestReviewers(w http.ResponseWriter, r *http.Request) {
	p := f.get(r)
	var req struct {
		Reviewers     []string `json:"reviewers"`
		TeamReviewers []string `json:"team_reviewers"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.reviewers[p.number] = append(append(f.reviewers[p.number], req.Reviewers...), req.TeamReviewers...)
	writeJSON(w, 201, f.pullJSON(p))
}

func newForge(t *testing.T, fk *fakeGitHub, token string) *github.Forge {
	t.Helper()
	f, err := github.New(github.Config{APIURL: fk.srv.URL, Token: token, Owner: owner, Repo: repoName})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPullRequestLifecycle(t *testing.T) {
	fk := newFake(t)
	f := newForge(t, fk, botToken)
	ctx := t.Context()
	if self, err := f.Self(ctx); err != nil || self != botLogin {
		t.Fatalf("Self: %q %v", self, err)
	}
	if b, err := f.DefaultBranch(ctx); err != nil || b != "main" {
		t.Fatalf("DefaultBranch: %q %v", b, err)
	}
	// Other branches' pull requests, more than a page of them, and a fork's from the same branch
	// name.
	for i := 0; i < 3; i++ {
		fk.pulls = append(fk.pulls, &pull{number: len(fk.pulls) + 1, head: fmt.Sprintf("feature-%d", i), base: "main", headRepo: owner + "/" + repoName, state: "open", author: "dev"})
	}
	const branch = "driftplane/reconcile/fp-0123456789abcdef0123"
	fk.pulls = append(fk.pulls, &pull{number: len(fk.pulls) + 1, head: branch, base: "main", headRepo: "mallory/infra", state: "open", author: "mallory"})
	// Earlier lives of the same drift: closed pull requests of the branch, so its listing spans
	// pages.
	for i := 0; i < 3; i++ {
		fk.pulls = append(fk.pulls, &pull{number: len(fk.pulls) + 1, head: branch, base: "main", headRepo: owner + "/" + repoName, state: "closed", author: botLogin})
	}
	created, err := f.Create(ctx, forge.NewPullRequest{Title: "t", Body: "b", Head: branch, Base: "main"})
	if err != nil || created.Number != 8 || created.State != forge.StateOpen || created.Head != branch || created.HeadRepo != owner+"/"+repoName {
		t.Fatalf("Create: %+v %v", created, err)
	}
	if err := f.Edit(ctx, created.Number, "t2", "b2"); err != nil {
		t.Fatal(err)
	}
	if err := f.Comment(ctx, created.Number, "hello"); err != nil || len(fk.comments[8]) != 1 {
		t.Fatalf("Comment: %v %v", err, fk.comments)
	}
	if err := f.RequestReviewers(ctx, created.Number, []string{"alice", "acme/platform"}); err != nil || strings.Join(fk.reviewers[8], ",") != "alice,platform" {
		t.Fatalf("RequestReviewers: %v %v", err, fk.reviewers)
	}
	prs, err := f.PullRequests(ctx, branch)
	if err != nil {
		t.Fatal(err)
	}
	var kept []forge.PullRequest
	for _, p := range prs {
		if forge.Keep(p, f.Repo(), branch) {
			kept = append(kept, p)
		}
	}
	if len(kept) != 4 || kept[0].Number != 8 || kept[0].Title != "t2" || kept[0].Body != "b2" || kept[0].Author != botLogin || kept[3].State != forge.StateClosed {
		t.Fatalf("listing of %s: %+v (kept %+v)", branch, prs, kept)
	}
	if fk.heads[len(fk.heads)-1] != owner+":"+branch {
		t.Errorf("listed with head %q", fk.heads[len(fk.heads)-1])
	}
	// Merged: the state says so, with the time.
	fk.pulls[7].merged, fk.pulls[7].state = true, "closed"
	prs, _ = f.PullRequests(ctx, branch)
	for _, p := range prs {
		if p.Number == 8 && (p.State != forge.StateMerged || p.MergedAt.IsZero()) {
			t.Errorf("merged pull request: %+v", p)
		}
	}
	if err := f.Close(ctx, 1); err != nil || fk.pulls[0].state != "closed" {
		t.Errorf("Close: %v %s", err, fk.pulls[0].state)
	}
}

// A forge that answers about another pull request than the one asked is refused: the next run
// would edit or close the wrong one.
func TestLyingForge(t *testing.T) {
	fk := newFake(t)
	f := newForge(t, fk, botToken)
	fk.lie = true
	if _, err := f.Create(t.Context(), forge.NewPullRequest{Title: "t", Body: "b", Head: "driftplane/reconcile/fp-0123456789abcdef0123", Base: "main"}); err == nil ||
		!strings.Contains(err.Error(), "not from") {
		t.Errorf("Create answered with another pull request: %v", err)
	}
	if err := f.Edit(t.Context(), 1, "t", "b"); err == nil || !strings.Contains(err.Error(), "answered about #2") {
		t.Errorf("Edit answered about another number: %v", err)
	}
	if err := f.Close(t.Context(), 1); err == nil {
		t.Error("Close answered about another number: accepted")
	}
}

// A wrong token: the error is the API's, without the token.
func TestBadTokenNotInErrors(t *testing.T) {
	fk := newFake(t)
	bad := "ghp_wrong_token_" + strings.Repeat("x", 20)
	f := newForge(t, fk, bad)
	_, err := f.PullRequests(t.Context(), "b")
	if err == nil || strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "401") {
		t.Errorf("PullRequests with a bad token: %v", err)
	}
	if _, err := f.Create(t.Context(), forge.NewPullRequest{Head: "b", Base: "main"}); err == nil || strings.Contains(err.Error(), bad) {
		t.Errorf("Create with a bad token: %v", err)
	}
}
