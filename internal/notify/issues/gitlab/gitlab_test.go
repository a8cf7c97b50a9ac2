package gitlab_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues/gitlab"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues/issuestest"
)

// The project and accounts of the fake.
const (
	project  = "acme/platform/infra"
	botLogin = "project_42_bot_3f2a"
	botToken = "glpat-test-bot-token"
	other    = "mallory"
)

// pageCap is the fake's largest page: smaller than the client's per_page (100), so a few issues
// already span pages.
const pageCap = 3

// fakeGitLab answers the REST endpoints the receiver uses (project issues, issue notes, project
// labels, the current user) in the shapes GitLab's API documentation gives, with offset
// pagination (X-Page, X-Next-Page, X-Total, Link), from an in-memory project.
type fakeGitLab struct {
	mu     sync.Mutex
	srv    *httptest.Server
	issues []*glIssue
	labels []string
	notes  map[int64][]issuestest.Comment
	pages  []string // the page query of every list request
}

type glIssue struct {
	iid         int64
	title, desc string
	state       string
	author      string
	labels      []string
}

func newFake(t *testing.T) *fakeGitLab {
	f := &fakeGitLab{notes: map[int64][]issuestest.Comment{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v4/user", f.auth(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, userJSON(botLogin))
	}))
	mux.HandleFunc("GET /api/v4/projects/{id}/issues", f.auth(f.list))
	mux.HandleFunc("POST /api/v4/projects/{id}/issues", f.auth(f.create))
	mux.HandleFunc("PUT /api/v4/projects/{id}/issues/{iid}", f.auth(f.update))
	mux.HandleFunc("POST /api/v4/projects/{id}/issues/{iid}/notes", f.auth(f.note))
	mux.HandleFunc("GET /api/v4/projects/{id}/labels/{label}", f.auth(f.getLabel))
	mux.HandleFunc("POST /api/v4/projects/{id}/labels", f.auth(f.createLabel))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// auth answers as GitLab does to a missing or wrong token, and to another project (the id is
// the URL-encoded full path).
func (f *fakeGitLab) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Private-Token") != botToken {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
			return
		}
		if id := r.PathValue("id"); id != "" && id != project {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Project Not Found"})
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

func userJSON(login string) map[string]any {
	return map[string]any{"id": 1, "username": login, "name": login, "state": "active", "locked": false,
		"avatar_url": "http://localhost:3000/uploads/user/avatar/1/index.jpg", "web_url": "http://localhost:3000/" + login}
}

func (f *fakeGitLab) issueJSON(is *glIssue) map[string]any {
	web := fmt.Sprintf("http://gitlab.example.com/%s/-/issues/%d", project, is.iid)
	return map[string]any{
		"id": 76000 + is.iid, "iid": is.iid, "project_id": 8, "title": is.title, "description": is.desc, "state": is.state,
		"created_at": "2026-12-01T10:00:00.000Z", "updated_at": "2026-12-01T10:00:00.000Z", "closed_at": nil, "closed_by": nil,
		"labels": is.labels, "milestone": nil, "assignees": []any{}, "author": userJSON(is.author), "type": "ISSUE", "assignee": nil,
		"user_notes_count": len(f.notes[is.iid]), "merge_requests_count": 0, "upvotes": 0, "downvotes": 0, "due_date": nil,
		"confidential": false, "discussion_locked": nil, "issue_type": "issue", "web_url": web,
		"time_stats":             map[string]any{"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": nil, "human_total_time_spent": nil},
		"task_completion_status": map[string]any{"count": 0, "completed_count": 0},
		"references":             map[string]any{"short": fmt.Sprintf("#%d", is.iid), "relative": fmt.Sprintf("#%d", is.iid), "full": fmt.Sprintf("%s#%d", project, is.iid)},
		"_links":                 map[string]any{"self": fmt.Sprintf("http://gitlab.example.com/api/v4/projects/8/issues/%d", is.iid)},
	}
}

// list is GET /projects/:id/issues: state (opened, closed; all when absent), labels (all of
// them, comma-separated), per_page (at most 100; the fake serves at most pageCap) and page,
// newest first, with the pagination headers.
func (f *fakeGitLab) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.pages = append(f.pages, q.Get("page"))
	state := q.Get("state")
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	var match []*glIssue
	for i := len(f.issues) - 1; i >= 0; i-- {
		is := f.issues[i]
		if (state == "" || state == "all" || is.state == state) && subset(want, is.labels) {
			match = append(match, is)
		}
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 || per > 100 {
		per = 20
	}
	per = min(per, pageCap)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	total := max((len(match)+per-1)/per, 1)
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(len(match)))
	h.Set("X-Total-Pages", strconv.Itoa(total))
	h.Set("X-Next-Page", "")
	h.Set("X-Prev-Page", "")
	var links []string
	link := func(p int, rel string) {
		u := *r.URL
		qq := u.Query()
		qq.Set("page", strconv.Itoa(p))
		u.RawQuery = qq.Encode()
		links = append(links, fmt.Sprintf("<%s%s>; rel=%q", f.srv.URL, u.String(), rel))
	}
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
		link(page-1, "prev")
	}
	if page < total {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
		link(page+1, "next")
	}
	link(1, "first")
	link(total, "last")
	h.Set("Link", strings.Join(links, ", "))
	out := []map[string]any{}
	for i := (page - 1) * per; i < min(page*per, len(match)); i++ {
		out = append(out, f.issueJSON(match[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func subset(want, have []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func (f *fakeGitLab) find(w http.ResponseWriter, r *http.Request) *glIssue {
	iid, _ := strconv.ParseInt(r.PathValue("iid"), 10, 64)
	for _, is := range f.issues {
		if is.iid == iid {
			return is
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Not found"})
	return nil
}

// body decodes a JSON request body; labels come as one comma-separated string.
func body(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return false
	}
	return true
}

func splitLabels(s *string) []string {
	if s == nil || *s == "" {
		return nil
	}
	return strings.Split(*s, ",")
}

// create is POST /projects/:id/issues: title required, labels created when missing.
func (f *fakeGitLab) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title       string  `json:"title"`
		Description *string `json:"description"`
		Labels      *string `json:"labels"`
	}
	if !body(w, r, &in) {
		return
	}
	if in.Title == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "title is missing"})
		return
	}
	is := &glIssue{iid: int64(len(f.issues) + 1), title: in.Title, state: "opened", author: botLogin, labels: splitLabels(in.Labels)}
	if in.Description != nil {
		is.desc = *in.Description
	}
	f.issues = append(f.issues, is)
	writeJSON(w, http.StatusCreated, f.issueJSON(is))
}

// update is PUT /projects/:id/issues/:issue_iid: title, description, state_event (close, reopen).
func (f *fakeGitLab) update(w http.ResponseWriter, r *http.Request) {
	is := f.find(w, r)
	if is == nil {
		return
	}
	var in struct {
		Title       *string `json:"title"`
		Description *string `json:"description"`
		StateEvent  *string `json:"state_event"`
	}
	if !body(w, r, &in) {
		return
	}
	if in.Title != nil {
		is.title = *in.Title
	}
	if in.Description != nil {
		is.desc = *in.Description
	}
	if in.StateEvent != nil {
		switch *in.StateEvent {
		case "close":
			is.state = "closed"
		case "reopen":
			is.state = "opened"
		default:
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "state_event does not have a valid value"})
			return
		}
	}
	writeJSON(w, http.StatusOK, f.issueJSON(is))
}

// note is POST /projects/:id/issues/:issue_iid/notes.
func (f *fakeGitLab) note(w http.ResponseWriter, r *http.Request) {
	is := f.find(w, r)
	if is == nil {
		return
	}
	var in struct {
		Body string `json:"body"`
	}
	if !body(w, r, &in) {
		return
	}
	if in.Body == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"note": []string{"can't be blank"}}})
		return
	}
	f.notes[is.iid] = append(f.notes[is.iid], issuestest.Comment{Author: botLogin, Body: in.Body})
	writeJSON(w, http.StatusCreated, map[string]any{"id": 302 + len(f.notes[is.iid]), "body": in.Body, "attachment": nil, "author": userJSON(botLogin),
		"created_at": "2026-12-01T10:00:00.000Z", "updated_at": "2026-12-01T10:00:00.000Z", "system": false,
		"noteable_id":   76000 + is.iid,                  //nolint:misspell // GitLab's own field names
		"noteable_type": "Issue", "noteable_iid": is.iid, //nolint:misspell // GitLab's own field names
		"resolvable": false, "confidential": false, "internal": false})
}

func labelJSON(name string) map[string]any {
	return map[string]any{"id": 7, "name": name, "color": "#d93f0b", "text_color": "#FFFFFF", "description": "Drift tracked by driftplane",
		"open_issues_count": 0, "closed_issues_count": 0, "open_merge_requests_count": 0, "subscribed": false, "priority": nil, "is_project_label": true}
}

// getLabel is GET /projects/:id/labels/:label_id (id or name).
func (f *fakeGitLab) getLabel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("label")
	if !slices.Contains(f.labels, name) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Label Not Found"})
		return
	}
	writeJSON(w, http.StatusOK, labelJSON(name))
}

// createLabel is POST /projects/:id/labels: the color must be "#RRGGBB" or a CSS name.
func (f *fakeGitLab) createLabel(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  string `json:"name"`
		Color string `json:"color"`
	}
	if !body(w, r, &in) {
		return
	}
	if in.Name == "" || !strings.HasPrefix(in.Color, "#") {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"color": []string{"must be a valid color code"}}})
		return
	}
	if slices.Contains(f.labels, in.Name) {
		writeJSON(w, http.StatusConflict, map[string]any{"message": "Label already exists"})
		return
	}
	f.labels = append(f.labels, in.Name)
	writeJSON(w, http.StatusCreated, labelJSON(in.Name))
}

func (f *fakeGitLab) repo() issuestest.Repo {
	return issuestest.Repo{
		Bot: botLogin,
		Receiver: func(t *testing.T) *issues.Receiver {
			r, err := gitlab.New("gl", gitlab.Config{URL: f.srv.URL, Token: botToken, Project: project}, issues.Config{})
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
				out = append(out, issues.Issue{Number: is.iid, Title: is.title, Body: is.desc, Open: is.state == "opened", Author: is.author, Labels: is.labels})
			}
			return out
		},
		Comments: func(t *testing.T, number int64) []issuestest.Comment {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.notes[number]
		},
		Forge: func(t *testing.T, title, body string, labels []string) int64 {
			f.mu.Lock()
			defer f.mu.Unlock()
			is := &glIssue{iid: int64(len(f.issues) + 1), title: title, desc: body, state: "opened", author: other, labels: labels}
			f.issues = append(f.issues, is)
			return is.iid
		},
		Close: func(t *testing.T, number int64) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.issues[number-1].state = "closed"
		},
	}
}

func TestGitLab(t *testing.T) {
	t.Run("Lifecycle", func(t *testing.T) {
		f := newFake(t)
		issuestest.Lifecycle(t, f.repo())
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.labels) != 1 || f.labels[0] != issues.DefaultLabel {
			t.Errorf("labels created: %v", f.labels)
		}
	})
	t.Run("FakeMarkers", func(t *testing.T) { issuestest.FakeMarkers(t, newFake(t).repo()) })
	t.Run("ForeignIssue", func(t *testing.T) { issuestest.ForeignIssue(t, newFake(t).repo()) })
	t.Run("Pagination", func(t *testing.T) {
		f := newFake(t)
		issuestest.Many(t, f.repo(), 3*pageCap+1)
		f.mu.Lock()
		defer f.mu.Unlock()
		// The second and third Sends list 4 pages each (10 issues, 3 a page).
		if !slices.Contains(f.pages, "4") || slices.Contains(f.pages, "5") {
			t.Errorf("pages asked for: %v", f.pages)
		}
	})
	t.Run("BadToken", func(t *testing.T) {
		f := newFake(t)
		r, err := gitlab.New("gl", gitlab.Config{URL: f.srv.URL, Token: "wrong-token-value", Project: project}, issues.Config{})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Send(t.Context(), []notify.Notification{issuestest.Firing(issuestest.Finding("u", "r.x", "drift-000000000000000000000001", "/a"))})
		if err == nil || strings.Contains(err.Error(), "wrong-token-value") {
			t.Fatalf("send with a bad token: %v", err)
		}
	})
}
