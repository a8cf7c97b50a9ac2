package gitlab_test

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
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge/gitlab"
)

const (
	project   = "acme/platform/infra"
	projectID = 42
	botLogin  = "drift-bot"
	botToken  = "glpat-reconcile-test-token-77"
)

// pageCap is the fake's page size: a few merge requests already span pages.
const pageCap = 2

type mr struct {
	iid             int
	title, desc     string
	source, target  string
	state           string
	author          string
	sourceProjectID int
	reviewers       []int
}

// fakeGitLab answers the merge request endpoints in the shapes GitLab's REST API documents
// (merge requests, notes, users, the project), with offset pagination (X-Next-Page and a Link
// header). lie makes it answer about another merge request than the one asked.
type fakeGitLab struct {
	mu    sync.Mutex
	srv   *httptest.Server
	mrs   []*mr
	notes map[int][]string
	lie   bool
}

func newFake(t *testing.T) *fakeGitLab {
	f := &fakeGitLab{notes: map[int][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v4/user", f.auth(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"id": 1, "username": botLogin, "name": "Drift Bot", "state": "active"})
	}))
	mux.HandleFunc("GET /api/v4/users", f.auth(func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]any{}
		if u := r.URL.Query().Get("username"); u == "alice" {
			out = append(out, map[string]any{"id": 7, "username": "alice", "state": "active"})
		}
		writeJSON(w, 200, out)
	}))
	mux.HandleFunc("GET /api/v4/projects/{pid}", f.auth(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"id": projectID, "path_with_namespace": project, "default_branch": "main"})
	}))
	mux.HandleFunc("GET /api/v4/projects/{pid}/merge_requests", f.auth(f.list))
	mux.HandleFunc("POST /api/v4/projects/{pid}/merge_requests", f.auth(f.create))
	mux.HandleFunc("PUT /api/v4/projects/{pid}/merge_requests/{iid}", f.auth(f.update))
	mux.HandleFunc("POST /api/v4/projects/{pid}/merge_requests/{iid}/notes", f.auth(f.note))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitLab) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != botToken {
			writeJSON(w, 401, map[string]any{"message": "401 Unauthorized"})
			return
		}
		if pid := r.PathValue("pid"); pid != "" && pid != project && pid != strconv.Itoa(projectID) {
			writeJSON(w, 404, map[string]any{"message": "404 Project Not Found"})
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func mrJSON(m *mr) map[string]any {
	reviewers := []map[string]any{}
	for _, id := range m.reviewers {
		reviewers = append(reviewers, map[string]any{"id": id})
	}
	out := map[string]any{"id": 9000 + m.iid, "iid": m.iid, "project_id": projectID, "title": m.title, "description": m.desc, "state": m.state,
		"source_branch": m.source, "target_branch": m.target, "source_project_id": m.sourceProjectID, "target_project_id": projectID,
		"author": map[string]any{"id": 1, "username": m.author}, "web_url": fmt.Sprintf("https://gitlab.example/%s/-/merge_requests/%d", project, m.iid),
		"merged_at": nil, "created_at": "2026-12-01T10:00:00.000Z", "reviewers": reviewers}
	if m.state == "merged" {
		out["merged_at"] = "2026-12-01T11:00:00.000Z"
	}
	return out
}

// list is GET merge_requests: state (opened, closed, locked, merged, all; default all),
// source_branch, per_page, page.
func (f *fakeGitLab) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var match []*mr
	for _, m := range f.mrs {
		st := q.Get("state")
		if (st == "" || st == "all" || st == m.state) && (q.Get("source_branch") == "" || q.Get("source_branch") == m.source) {
			match = append(match, m)
		}
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	start, end := min((page-1)*pageCap, len(match)), min(page*pageCap, len(match))
	w.Header().Set("X-Page", strconv.Itoa(page))
	w.Header().Set("X-Per-Page", strconv.Itoa(pageCap))
	w.Header().Set("X-Total", strconv.Itoa(len(match)))
	if end < len(match) {
		w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, f.srv.URL, next.RequestURI()))
	} else {
		w.Header().Set("X-Next-Page", "")
	}
	out := []map[string]any{}
	for _, m := range match[start:end] {
		out = append(out, mrJSON(m))
	}
	writeJSON(w, 200, out)
}

func (f *fakeGitLab) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Title        string `json:"title"`
		Description  string `json:"description"`
		SourceBranch string `json:"source_branch"`
		TargetBranch string `json:"target_branch"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.SourceBranch == "" || req.TargetBranch == "" || req.Title == "" {
		writeJSON(w, 400, map[string]any{"message": "400 Bad request"})
		return
	}
	for _, m := range f.mrs {
		if m.source == req.SourceBranch && m.target == req.TargetBranch && m.state == "opened" && m.sourceProjectID == projectID {
			writeJSON(w, 409, map[string]any{"message": []string{"Another open merge request already exists for this source branch: !" + strconv.Itoa(m.iid)}})
			return
		}
	}
	m := &mr{iid: len(f.mrs) + 1, title: req.Title, desc: req.Description, source: req.SourceBranch, target: req.TargetBranch, state: "opened", author: botLogin, sourceProjectID: projectID}
	f.mrs = append(f.mrs, m)
	answer := *m
	if f.lie {
		answer.iid += 7
		answer.target = "release"
	}
	writeJSON(w, 201, mrJSON(&answer))
}

func (f *fakeGitLab) find(r *http.Request) *mr {
	iid, _ := strconv.Atoi(r.PathValue("iid"))
	for _, m := range f.mrs {
		if m.iid == iid {
			return m
		}
	}
	return nil
}

func (f *fakeGitLab) update(w http.ResponseWriter, r *http.Request) {
	m := f.find(r)
	if m == nil {
		writeJSON(w, 404, map[string]any{"message": "404 Not found"})
		return
	}
	var req struct {
		Title       *string `json:"title"`
		Description *string `json:"description"`
		StateEvent  *string `json:"state_event"`
		ReviewerIDs *[]int  `json:"reviewer_ids"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	if req.Title != nil {
		m.title = *req.Title
	}
	if req.Description != nil {
		m.desc = *req.Description
	}
	if req.StateEvent != nil && *req.StateEvent == "close" {
		m.state = "closed"
	}
	if req.ReviewerIDs != nil {
		m.reviewers = *req.ReviewerIDs
	}
	answer := *m
	if f.lie {
		answer.iid += 3
	}
	writeJSON(w, 200, mrJSON(&answer))
}

func (f *fakeGitLab) note(w http.ResponseWriter, r *http.Request) {
	m := f.find(r)
	var req struct {
		Body string `json:"body"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.notes[m.iid] = append(f.notes[m.iid], req.Body)
	writeJSON(w, 201, map[string]any{"id": 1, "body": req.Body, "author": map[string]any{"username": botLogin}})
}

func newForge(t *testing.T, fk *fakeGitLab, token string) *gitlab.Forge {
	t.Helper()
	f, err := gitlab.New(gitlab.Config{URL: fk.srv.URL, Token: token, Project: project})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestMergeRequestLifecycle(t *testing.T) {
	fk := newFake(t)
	f := newForge(t, fk, botToken)
	ctx := t.Context()
	if self, err := f.Self(ctx); err != nil || self != botLogin {
		t.Fatalf("Self: %q %v", self, err)
	}
	if b, err := f.DefaultBranch(ctx); err != nil || b != "main" {
		t.Fatalf("DefaultBranch: %q %v", b, err)
	}
	const branch = "driftplane/reconcile/fp-0123456789abcdef0123"
	// Earlier lives (merged, closed) and a fork's merge request from the same branch name.
	fk.mrs = append(fk.mrs,
		&mr{iid: 1, source: branch, target: "main", state: "merged", author: botLogin, sourceProjectID: projectID, title: "old"},
		&mr{iid: 2, source: branch, target: "main", state: "closed", author: botLogin, sourceProjectID: projectID, title: "older"},
		&mr{iid: 3, source: branch, target: "main", state: "opened", author: "mallory", sourceProjectID: 666, title: "fork"},
		&mr{iid: 4, source: "feature", target: "main", state: "opened", author: "dev", sourceProjectID: projectID})
	created, err := f.Create(ctx, forge.NewPullRequest{Title: "t", Body: "b", Head: branch, Base: "main"})
	if err != nil || created.Number != 5 || created.State != forge.StateOpen || !forge.Keep(created, f.Repo(), branch) {
		t.Fatalf("Create: %+v %v", created, err)
	}
	if err := f.Edit(ctx, 5, "t2", "b2"); err != nil {
		t.Fatal(err)
	}
	if err := f.Comment(ctx, 5, "note"); err != nil || len(fk.notes[5]) != 1 {
		t.Fatalf("Comment: %v", err)
	}
	if err := f.RequestReviewers(ctx, 5, []string{"alice"}); err != nil || fmt.Sprint(fk.mrs[4].reviewers) != "[7]" {
		t.Fatalf("RequestReviewers: %v %v", err, fk.mrs[4].reviewers)
	}
	if err := f.RequestReviewers(ctx, 5, []string{"nobody"}); err == nil {
		t.Error("a reviewer who is no GitLab user was accepted")
	}
	prs, err := f.PullRequests(ctx, branch)
	if err != nil {
		t.Fatal(err)
	}
	states := map[int64]string{}
	for _, p := range prs {
		if forge.Keep(p, f.Repo(), branch) {
			states[p.Number] = p.State
		}
	}
	if len(prs) != 4 || len(states) != 3 || states[1] != forge.StateMerged || states[2] != forge.StateClosed || states[5] != forge.StateOpen {
		t.Fatalf("listing (over pages, the fork's dropped): %+v -> %v", prs, states)
	}
	for _, p := range prs {
		if p.Number == 5 && (p.Title != "t2" || p.Body != "b2" || p.Author != botLogin || p.Base != "main") {
			t.Errorf("edited merge request: %+v", p)
		}
		if p.Number == 1 && p.MergedAt.IsZero() {
			t.Errorf("merged without a time: %+v", p)
		}
	}
	if err := f.Close(ctx, 5); err != nil || fk.mrs[4].state != "closed" {
		t.Errorf("Close: %v %s", err, fk.mrs[4].state)
	}
}

func TestLyingForge(t *testing.T) {
	fk := newFake(t)
	f := newForge(t, fk, botToken)
	fk.lie = true
	if _, err := f.Create(t.Context(), forge.NewPullRequest{Title: "t", Body: "b", Head: "x", Base: "main"}); err == nil || !strings.Contains(err.Error(), "not from") {
		t.Errorf("Create answered with another merge request: %v", err)
	}
	if err := f.Edit(t.Context(), 1, "t", "b"); err == nil || !strings.Contains(err.Error(), "answered about #4") {
		t.Errorf("Edit answered about another number: %v", err)
	}
}

func TestBadTokenNotInErrors(t *testing.T) {
	fk := newFake(t)
	bad := "glpat-wrong-" + strings.Repeat("y", 20)
	f := newForge(t, fk, bad)
	if _, err := f.PullRequests(t.Context(), "b"); err == nil || strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "401") {
		t.Errorf("PullRequests with a bad token: %v", err)
	}
	if err := f.Comment(t.Context(), 1, "x"); err == nil || strings.Contains(err.Error(), bad) {
		t.Errorf("Comment with a bad token: %v", err)
	}
}
