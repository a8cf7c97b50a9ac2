package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge"
)

// recordingForge is a forge that records every call and answers nothing but who it is: the
// adversarial tests check that hostile input never reaches it.
type recordingForge struct{ calls []string }

func (f *recordingForge) Repo() string { return "acme/infra" }
func (f *recordingForge) PullRequests(context.Context, string) ([]forge.PullRequest, error) {
	f.calls = append(f.calls, "list")
	return nil, nil
}
func (f *recordingForge) Create(context.Context, forge.NewPullRequest) (forge.PullRequest, error) {
	f.calls = append(f.calls, "create")
	return forge.PullRequest{}, errors.New("no")
}
func (f *recordingForge) Edit(context.Context, int64, string, string) error {
	f.calls = append(f.calls, "edit")
	return nil
}
func (f *recordingForge) Comment(context.Context, int64, string) error {
	f.calls = append(f.calls, "comment")
	return nil
}
func (f *recordingForge) Close(context.Context, int64) error {
	f.calls = append(f.calls, "close")
	return nil
}
func (f *recordingForge) RequestReviewers(context.Context, int64, []string) error { return nil }
func (f *recordingForge) Self(context.Context) (string, error)                    { return "drift-bot", nil }
func (f *recordingForge) DefaultBranch(context.Context) (string, error)           { return "main", nil }

func hostileUnit() *drift.ManagedUnit {
	u := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "payments"}}
	u.Spec.Kind, u.Spec.Owner, u.Spec.Environment = drift.UnitOpenTofuStack, "team", "prod"
	return u
}

// A fingerprint that is not driftplane's (a path, a comment closer, a newline) never names a
// branch or a marker: the finding is skipped with a warning, nothing is cloned, listed or opened.
func TestHostileFingerprint(t *testing.T) {
	store, err := blob.OpenStore(t.Context(), t.TempDir(), blob.S3Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, fp := range []string{"fp-../../../etc/passwd", "fp-0123456789abcdef0123 -->\n<!-- x", "fp-0123456789ABCDEF0123", "refs/heads/main", "fp-01234567:main", "g-0123456789abcdef0123"} {
		f := drift.Finding{FindingID: "drift-000000000000000000000001", Unit: "payments", ResourceRef: "local_file.x", DriftClass: drift.ClassEmergency,
			RecommendedAction: drift.ActionGitUpdatePR, ChangedFields: []string{"/content"}, Fingerprint: fp,
			Changes: []drift.Change{{Path: drift.Pointer{"content"}, Before: "a", After: "b"}}}
		rf := &recordingForge{}
		rep, err := Run(t.Context(), []Unit{{Policy: hostileUnit(), Dir: ".", Result: &pipeline.Result{Report: &drift.Report{Unit: "payments", Findings: []drift.Finding{f}}, At: time.Now()}}},
			Options{Forge: rf, Store: store, Remote: Remote{URL: "https://127.0.0.1:1/acme/infra.git", Token: "t"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Outcomes) != 0 || len(rf.calls) != 0 || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "not in driftplane's format") {
			t.Errorf("fingerprint %q: outcomes %+v, forge calls %v, warnings %v", fp, rep.Outcomes, rf.calls, rep.Warnings)
		}
	}
}

// A branch prefix that git or a forge would read as something else is refused before anything
// runs.
func TestHostileBranchPrefix(t *testing.T) {
	for _, p := range []string{"../x", "a/../b", "a..b", "-x", "x.lock", "a//b", "/x", "x/", "a b", "a\nb", "x~1", "x^", "x:y", ".hidden", "a@{1}", "x*", "x?", "a\\b", strings.Repeat("a", 101)} {
		if err := checkBranchPrefix(p); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	for _, p := range []string{"driftplane/reconcile", "bots/drift_2", "x"} {
		if err := checkBranchPrefix(p); err != nil {
			t.Errorf("prefix %q refused: %v", p, err)
		}
	}
	_, err := Run(t.Context(), nil, Options{Forge: &recordingForge{}, Store: blobStore(t), BranchPrefix: "refs/../x", Remote: Remote{URL: "https://example.invalid/x.git"}})
	if err == nil {
		t.Error("Run accepted a hostile branch prefix")
	}
}

func blobStore(t *testing.T) blob.Store {
	t.Helper()
	s, err := blob.OpenStore(t.Context(), t.TempDir(), blob.S3Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// An unknown unit is never reconciled: no forge call, no record.
func TestUnknownChangesNothing(t *testing.T) {
	store := blobStore(t)
	rf := &recordingForge{}
	rep, err := Run(t.Context(), []Unit{{Policy: hostileUnit(), Dir: "."}}, Options{Forge: rf, Store: store, Remote: Remote{URL: "https://example.invalid/x.git"}})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := store.List(t.Context(), Prefix+"/")
	if len(rep.Skipped) != 1 || len(rf.calls) != 0 || len(keys) != 0 {
		t.Errorf("unknown unit: %+v, calls %v, records %v", rep, rf.calls, keys)
	}
}

// Untrusted finding text cannot forge a marker, end the code span it is in, or become a mention or
// HTML; the body's marker is still the group's.
func TestBodyHostileText(t *testing.T) {
	hostile := "x` <!-- driftplane:reconcile=fp-ffffffffffffffffffff -->\n<script>alert(1)</script> @admin ```\n# heading"
	f := drift.Finding{FindingID: "drift-000000000000000000000002", ResourceRef: "local_file.x" + hostile, ChangedFields: []string{"/a" + hostile},
		Explanation: hostile, Actor: hostile, ActorDetail: &drift.Actor{Username: hostile, Time: hostile, UserAgent: hostile}, DriftClass: drift.ClassEmergency,
		AcceptedBy: "EXC-1"}
	exc := &drift.Exception{Metadata: drift.Metadata{Name: "EXC-1"}}
	exc.Spec.Reason, exc.Spec.ExpiresAt = hostile, hostile
	u := hostileUnit()
	u.Spec.Owner = hostile
	g := &group{key: "fp-0123456789abcdef0123", unit: u, findings: []drift.Finding{f}, exceptions: map[string]*drift.Exception{"EXC-1": exc},
		diff: "+ x ```` <!-- y -->", notes: []string{hostile}, commands: refreshCommands(".", "local_file.x[\"`<!-- y -->\"]"), evidence: "javascript:alert(1)"}
	body := g.body()
	if k, ok := ParseMarker(body); !ok || k != g.key {
		t.Fatalf("marker %q %v", k, ok)
	}
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		if i > 0 && strings.Contains(l, "<!--") {
			t.Errorf("line %d holds a comment opener: %q", i, l)
		}
		if strings.HasPrefix(strings.TrimSpace(l), "<script") || strings.HasPrefix(l, "# heading") {
			t.Errorf("line %d escaped its code span: %q", i, l)
		}
	}
	if strings.Contains(body, "](javascript:") {
		t.Error("a non-http evidence location became a link")
	}
	// An address with a line break is never written as a command a person would paste.
	if c := refreshCommands(".", "local_file.x[\"a\nrm -rf /\"]"); c != nil {
		t.Errorf("commands for an address with a line break: %q", c)
	}
	if strings.ContainsAny(g.title(), "\n\r") || strings.Contains(g.title(), "<!--") {
		t.Errorf("title %q", g.title())
	}
}

func TestParseMarker(t *testing.T) {
	key := "fp-0123456789abcdef0123"
	for body, ok := range map[string]bool{
		Marker(key) + "\nrest":                     true,
		Marker(key) + "\r\nrest":                   true,
		"text\n" + Marker(key):                     false,
		" " + Marker(key):                          false,
		"<!-- driftplane:reconcile=" + key + "-->": false,
		Marker("fp-../x"):                          false,
		Marker("fp-0123456789ABCDEF0123"):          false,
		"`" + Marker(key) + "`":                    false,
	} {
		if k, got := ParseMarker(body); got != ok || (ok && k != key) {
			t.Errorf("ParseMarker(%q) = %q, %v; want %v", body, k, got, ok)
		}
	}
}

// Edits from the editor are still checked: nothing outside the clone, nothing in .git.
func TestSafeRelPath(t *testing.T) {
	for _, p := range []string{"", "/etc/passwd", "../x", "a/../../x", ".git/config", "a/.git/hooks/pre-commit", ".git", "a\\b", "a\x00b", "."} {
		if _, err := safeRelPath(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
	for _, p := range []string{"main.tf", "stacks/app/main.tf", "a/./b.tf", ".github/CODEOWNERS"} {
		if _, err := safeRelPath(p); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
}

// A token quoted by a library's error is replaced before anything prints or records it; a URL
// with credentials is refused without echoing the password.
func TestTokenNeverInErrors(t *testing.T) {
	r := Remote{URL: "https://git.example/x.git", Token: "s3cr3t-t0ken"}
	if err := r.scrub(errors.New("auth failed for https://u:s3cr3t-t0ken@git.example")); strings.Contains(err.Error(), r.Token) {
		t.Errorf("scrubbed: %v", err)
	}
	if err := checkRemoteURL("https://u:s3cr3t-t0ken@git.example/x.git"); err == nil || strings.Contains(err.Error(), "s3cr3t-t0ken") {
		t.Errorf("URL with credentials: %v", err)
	}
	if err := checkRemoteURL("file:///tmp/x"); err == nil {
		t.Error("a file URL was accepted")
	}
}

func TestCodeowners(t *testing.T) {
	for _, tc := range []struct {
		pattern, file string
		want          bool
	}{
		{"*", "stacks/a/main.tf", true},
		{"*.tf", "stacks/a/main.tf", true},
		{"*.yaml", "stacks/a/main.tf", false},
		{"/stacks/", "stacks/a/main.tf", true},
		{"/stacks/", "other/stacks/main.tf", false},
		{"stacks/", "other/stacks/main.tf", true},
		{"stacks/a/", "stacks/a/main.tf", true},
		{"/stacks/a/main.tf", "stacks/a/main.tf", true},
		{"stacks/b/*.tf", "stacks/a/main.tf", false},
	} {
		if got := matchOwners(tc.pattern, tc.file); got != tc.want {
			t.Errorf("matchOwners(%q, %q) = %v", tc.pattern, tc.file, got)
		}
	}
}

func FuzzParseMarker(f *testing.F) {
	for _, s := range []string{Marker("fp-0123456789abcdef0123") + "\nbody", Marker("g-0123456789abcdef"), "<!-- driftplane:reconcile= -->", "", "\r\n", Marker("fp-\u200b")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		k, ok := ParseMarker(body)
		if !ok {
			return
		}
		if !ValidKey(k) || !strings.HasPrefix(strings.TrimSuffix(body, "\r"), Marker(k)) {
			t.Fatalf("accepted %q from %q", k, body)
		}
		if strings.ContainsAny(k, "/.\n\r <>") {
			t.Fatalf("key %q could leave a branch name or a marker", k)
		}
	})
}

// A sensitive field goes to the editor with its path only: neither its value nor its digest.
func TestSensitiveValuesNeverSentToTheEditor(t *testing.T) {
	f := drift.Finding{ResourceRef: "local_sensitive_file.token", SensitiveFields: []string{"/content"},
		Changes: []drift.Change{
			{Path: drift.Pointer{"content"}, Before: "plain-before-secret", After: "plain-after-secret"},
			{Path: drift.Pointer{"password"}, Before: drift.Sensitive("hmac-sha256:aa"), After: drift.Sensitive("hmac-sha256:bb")},
			{Path: drift.Pointer{"nested", "key"}, Before: "x", After: "y"},
		}}
	f.SensitiveFields = append(f.SensitiveFields, "/nested")
	req, note := request("/root", ".", &f, false)
	if note != "" || len(req.Fields) != 3 {
		t.Fatalf("%+v %q", req, note)
	}
	for _, fd := range req.Fields {
		if !fd.Sensitive || fd.Value != nil || fd.Before != nil || fd.HasBefore {
			t.Errorf("field %s sent with a value: %+v", fd.Path, fd)
		}
	}
}

// A record naming a branch reconciliation does not name for its key (another branch, a tampered
// evidence store) never gets it deleted: nothing is listed, cloned or pushed, and the record says
// the branch is kept, once.
func TestRecordedBranchNotOursKept(t *testing.T) {
	for _, branch := range []string{"release", "main", "x\nforged line", "driftplane/reconcile/fp-ffffffffffffffffffff", "refs/heads/driftplane/reconcile/fp-0123456789abcdef0123", "../fp-0123456789abcdef0123"} {
		store := blobStore(t)
		key := "fp-0123456789abcdef0123"
		prev := &Record{SchemaVersion: SchemaVersion, Unit: "payments", At: "2026-12-01T10:00:00Z", Sequence: 1, Events: []Event{},
			State: []Tracked{{Key: key, Branch: branch, PR: 7, Status: StatusVerified, Commit: strings.Repeat("ab", 20)}}}
		k, data, err := prev.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.PutContext(t.Context(), k, data); err != nil {
			t.Fatal(err)
		}
		rf := &recordingForge{}
		at := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
		rep, err := Run(t.Context(), []Unit{{Policy: hostileUnit(), Dir: ".", Result: &pipeline.Result{Report: &drift.Report{Unit: "payments"}, At: at}}},
			Options{Forge: rf, Store: store, Remote: Remote{URL: "https://127.0.0.1:1/acme/infra.git", Token: "t"}, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		if len(rf.calls) != 0 || len(rep.Warnings) != 0 || len(rep.Outcomes) != 1 || rep.Outcomes[0].BranchDeleted ||
			!strings.Contains(strings.Join(rep.Outcomes[0].Notes, "\n"), "kept") || strings.Contains(strings.Join(rep.Outcomes[0].Notes, ""), "\n") {
			t.Errorf("branch %q: forge calls %v, report %+v", branch, rf.calls, rep)
		}
		rec, _, err := Latest(t.Context(), store, "payments")
		if err != nil || len(rec.State) != 0 || len(rec.Events) != 1 || rec.Events[0].Kind != EventBranchKept {
			t.Errorf("branch %q: record %+v %v", branch, rec, err)
		}
	}
}

// Two applications (or stacks) that declare the same unit name share its records' key: the one
// whose repository or folder did not write them must not close or verify the other's pull
// requests. A merged one of app A, pending its verification, stays pending when app B, elsewhere,
// evaluates clean.
func TestRecordsOfAnotherSourceRefused(t *testing.T) {
	store := blobStore(t)
	key := "fp-0123456789abcdef0123"
	prev := &Record{SchemaVersion: SchemaVersion, Unit: "payments", At: "2026-12-01T10:00:00Z", Sequence: 1, Events: []Event{},
		Source: "https://git.example.com/team-a/app.git//deploy",
		State:  []Tracked{{Key: key, PR: 7, Status: StatusPending, Fingerprints: []string{key}}}}
	k, data, err := prev.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutContext(t.Context(), k, data); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
	clean := &pipeline.Result{Report: &drift.Report{Unit: "payments"}, At: at}
	for _, src := range []struct{ url, dir string }{{"https://git.example.com/team-b/app.git", "deploy"}, {"https://git.example.com/team-a/app.git", "other"}} {
		rf := &recordingForge{}
		rep, err := Run(t.Context(), []Unit{{Policy: hostileUnit(), Dir: src.dir, Result: clean}},
			Options{Forge: rf, Store: store, Remote: Remote{URL: src.url, Token: "t"}, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed() != 1 || !strings.Contains(rep.Outcomes[0].Error, "same unit name") || len(rf.calls) != 0 {
			t.Fatalf("%s//%s: report %+v, forge calls %v", src.url, src.dir, rep, rf.calls)
		}
		rec, _, err := Latest(t.Context(), store, "payments")
		if err != nil || rec.Sequence != 1 || rec.State[0].Status != StatusPending {
			t.Fatalf("the other source's record changed: %+v %v", rec, err)
		}
	}
}
