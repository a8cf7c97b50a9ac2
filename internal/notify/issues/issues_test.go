package issues

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
)

// memForge is an in-memory forge with failure injection, for the state machine's failure paths
// (the forges' own tests run the scenarios against a real Gitea and documented API answers).
type memForge struct {
	issues   []Issue
	comments map[int64][]string
	self     string
	selfErr  error
	listErr  error
	// failNext makes the next call of that method fail once.
	failNext map[string]bool
	calls    []string
}

func newMem() *memForge {
	return &memForge{comments: map[int64][]string{}, self: "bot", failNext: map[string]bool{}}
}

func (m *memForge) call(name string) error {
	m.calls = append(m.calls, name)
	if m.failNext[name] {
		delete(m.failNext, name)
		return errors.New(name + " failed")
	}
	return nil
}

func (m *memForge) Issues(_ context.Context, label string) ([]Issue, error) {
	if err := m.call("Issues"); err != nil {
		return nil, err
	}
	if m.listErr != nil {
		return nil, m.listErr
	}
	var out []Issue
	for _, is := range m.issues {
		if hasLabel(is.Labels, label) {
			out = append(out, is)
		}
	}
	return out, nil
}

func (m *memForge) Create(_ context.Context, title, body string, labels []string) (Issue, error) {
	if err := m.call("Create"); err != nil {
		return Issue{}, err
	}
	is := Issue{Number: int64(len(m.issues) + 1), Title: title, Body: body, Open: true, Author: m.self, Labels: labels}
	m.issues = append(m.issues, is)
	return is, nil
}

func (m *memForge) Comment(_ context.Context, n int64, body string) error {
	if err := m.call("Comment"); err != nil {
		return err
	}
	m.comments[n] = append(m.comments[n], body)
	return nil
}

func (m *memForge) Edit(_ context.Context, n int64, title, body string) error {
	if err := m.call("Edit"); err != nil {
		return err
	}
	m.issues[n-1].Title, m.issues[n-1].Body = title, body
	return nil
}

func (m *memForge) SetOpen(_ context.Context, n int64, open bool) error {
	if err := m.call("SetOpen"); err != nil {
		return err
	}
	m.issues[n-1].Open = open
	return nil
}

func (m *memForge) EnsureLabel(context.Context, Label) error { return m.call("EnsureLabel") }

func (m *memForge) Self(context.Context) (string, error) {
	if err := m.call("Self"); err != nil {
		return "", err
	}
	return m.self, m.selfErr
}

func finding(id, ref string) drift.Finding {
	f := drift.Finding{FindingID: id, Unit: "payments", ResourceRef: ref, DriftClass: drift.ClassUnauthorizedRuntime,
		Risk: drift.RiskHigh, ChangedFields: []string{"/acl"}, RecommendedAction: drift.ActionRuntimeRevert}
	f.Fingerprint = drift.Fingerprint(f)
	return f
}

func fire(f drift.Finding) notify.Notification {
	return notify.Notification{Finding: f, State: notify.StateFiring}
}

func send(t *testing.T, r *Receiver, ns ...notify.Notification) error {
	t.Helper()
	return r.Send(context.Background(), ns)
}

// A failure part-way through a change is repeated by the next Send (the comment comes first, so
// it is told at least once), and the issue ends up describing the new finding.
func TestFailedStepIsRepeated(t *testing.T) {
	m := newMem()
	r := New("r", m, Config{})
	v1 := finding("drift-1111111111", "a.b")
	if err := send(t, r, fire(v1)); err != nil {
		t.Fatal(err)
	}
	v2 := v1
	v2.FindingID = "drift-2222222222"
	m.failNext["Edit"] = true
	if err := send(t, r, fire(v2)); err == nil || !strings.Contains(err.Error(), "updating issue #1") {
		t.Fatalf("edit failure: %v", err)
	}
	if err := send(t, r, fire(v2)); err != nil {
		t.Fatal(err)
	}
	if got := len(m.comments[1]); got != 2 {
		t.Errorf("%d change comments, want 2 (told again after the failed edit)", got)
	}
	if mk, _ := ParseMarker(m.issues[0].Body); mk.FindingID != v2.FindingID {
		t.Errorf("body describes %s", mk.FindingID)
	}
	// A failed close is retried: the issue ends closed.
	m.failNext["SetOpen"] = true
	res := notify.Notification{Finding: v2, State: notify.StateResolved, Resolution: "reverted"}
	if err := send(t, r, res); err == nil {
		t.Fatal("close failure not reported")
	}
	if err := send(t, r, res); err != nil || m.issues[0].Open {
		t.Fatalf("after a retried close: %v, open %v", err, m.issues[0].Open)
	}
}

// One notification's failure does not stop the others; every failure is returned.
func TestFailuresAreJoined(t *testing.T) {
	m := newMem()
	r := New("team", m, Config{})
	bad := finding("drift-3333333333", "c.d")
	bad.Fingerprint = "fp-<!--x-->"
	badID := finding("id with spaces -->", "e.f")
	good := finding("drift-4444444444", "g.h")
	err := send(t, r, fire(bad), fire(badID), notify.Notification{Finding: good, State: "weird"}, fire(good))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"not a driftplane fingerprint", "finding id is not in driftplane's format", `unknown notification state "weird"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if len(m.issues) != 1 || !strings.Contains(m.issues[0].Body, good.Fingerprint) {
		t.Fatalf("issues: %+v", m.issues)
	}
}

// Without a login the receiver refuses to guess whose issues to trust; configured authors spare
// the call; a listing failure writes nothing.
func TestAuthorsAndListing(t *testing.T) {
	m := newMem()
	m.selfErr = errors.New("403 Resource not accessible by integration")
	if err := send(t, New("r", m, Config{}), fire(finding("drift-5555555555", "a.b"))); err == nil || !strings.Contains(err.Error(), "set the receiver's authors") {
		t.Fatalf("self failure: %v", err)
	}
	m.self = "app[bot]"
	m.calls = nil
	if err := send(t, New("r", m, Config{Authors: []string{"App[bot]"}}), fire(finding("drift-5555555555", "a.b"))); err != nil {
		t.Fatal(err)
	}
	for _, c := range m.calls {
		if c == "Self" {
			t.Error("Self called although authors were configured")
		}
	}
	m2 := newMem()
	m2.listErr = errors.New("502")
	if err := send(t, New("r", m2, Config{}), fire(finding("drift-6666666666", "a.b"))); err == nil || len(m2.issues) != 0 {
		t.Fatalf("listing failure: %v, issues %d", err, len(m2.issues))
	}
	m3 := newMem()
	if err := send(t, New("r", m3, Config{})); err != nil || len(m3.calls) != 0 {
		t.Fatalf("empty group: %v, calls %v", err, m3.calls)
	}
}

// Two issues for one drift (two receivers raced): every Send settles on the older one; an issue
// without the label, or whose marker is not on the first line, is not the drift's.
func TestIndexChoosesTheOldestTrustedIssue(t *testing.T) {
	m := newMem()
	f := finding("drift-7777777777", "a.b")
	body := Body(f.Fingerprint, fire(f))
	m.issues = []Issue{
		{Number: 1, Body: body, Open: true, Author: "bot", Labels: nil},
		{Number: 2, Body: "see\n" + body, Open: true, Author: "bot", Labels: []string{DefaultLabel}},
		{Number: 3, Body: body, Open: true, Author: "bot", Labels: []string{"DriftPlane"}},
		{Number: 4, Body: body, Open: true, Author: "bot", Labels: []string{DefaultLabel}},
	}
	if err := send(t, New("r", m, Config{}), notify.Notification{Finding: f, State: notify.StateResolved, Resolution: "reverted"}); err != nil {
		t.Fatal(err)
	}
	for _, is := range m.issues {
		if want := is.Number != 3; is.Open != want {
			t.Errorf("issue #%d open=%v, want %v", is.Number, is.Open, want)
		}
	}
}

func TestParseMarker(t *testing.T) {
	fp := "fp-0123456789abcdef0123"
	for _, tc := range []struct {
		body, fp, id string
	}{
		{"<!-- driftplane:fingerprint=" + fp + " -->\n<!-- driftplane:finding=drift-abc -->\nx", fp, "drift-abc"},
		{"<!-- driftplane:fingerprint=" + fp + " -->\r\n<!-- driftplane:finding=drift-abc -->\r\nx", fp, "drift-abc"},
		{"<!-- driftplane:fingerprint=" + fp + " -->", fp, ""},
		{"<!-- driftplane:fingerprint=" + fp + " -->\n<!-- driftplane:finding=drift abc -->", fp, ""},
		{" <!-- driftplane:fingerprint=" + fp + " -->", "", ""},
		{"<!--  driftplane:fingerprint=" + fp + " -->", "", ""},
		{"<!-- driftplane:fingerprint=" + fp + "  -->", "", ""},
		{"<!-- driftplane:fingerprint=" + strings.ToUpper(fp) + " -->", "", ""},
		{"<!-- driftplane:fingerprint=fp-0123 -->", "", ""},
		{"<!-- driftplane:fingerprint=" + fp + " --> -->", "", ""},
		{"<!-- driftplane:fingerprint= -->", "", ""},
		{"text\n<!-- driftplane:fingerprint=" + fp + " -->", "", ""},
		{"`<!-- driftplane:fingerprint=" + fp + " -->`", "", ""},
		{"", "", ""},
	} {
		m, ok := ParseMarker(tc.body)
		if ok != (tc.fp != "") || m.Fingerprint != tc.fp || m.FindingID != tc.id {
			t.Errorf("ParseMarker(%q) = %+v, %v; want %q, %q", tc.body, m, ok, tc.fp, tc.id)
		}
	}
}

func TestCodeSpan(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                  "`plain`",
		"a`b":                    "``a`b``",
		"`edge":                  "`` `edge ``",
		"x``y`":                  "``` x``y` ```",
		"two\nlines\r\x00":       "`two lines`",
		"  ":                     "—",
		"<!-- c -->":             "`<!-\u200b- c -\u200b->`",
		"@team #12 [x](http:y)":  "`@team #12 [x](http:y)`",
		strings.Repeat("é", 400): "`" + notify.Truncate(strings.Repeat("é", 400), maxValueBytes) + "`",
	} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"https://x.example/a b(c)<d>":   "[t](https://x.example/a%20b%28c%29%3Cd%3E)",
		"javascript:alert(1)":           "`javascript:alert(1)`",
		"s3://bucket/key":               "`s3://bucket/key`",
		"https://user:pw@x.example/":    "`https://user:pw@x.example/`",
		"https://x.example/p?q=1#frag]": "[t](https://x.example/p?q=1#frag%5D)",
	} {
		if got := link("t", in); got != want {
			t.Errorf("link(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzBody: whatever a finding's strings hold, the body's marker names the fingerprint and
// finding it was written for, and no other line of it opens an HTML comment or a marker.
func FuzzBody(f *testing.F) {
	f.Add("aws_s3_bucket.x", "<!-- driftplane:fingerprint=fp-0000000000000000000a -->", "alice", "`", "https://e.example/r")
	f.Add("x\n<!-- driftplane:fingerprint=fp-0000000000000000000a -->\n", "-->", "``` ", "\r\n<!--", "javascript:x")
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, ref, explanation, actor, field, uri string) {
		fd := drift.Finding{FindingID: "drift-0123456789", ResourceRef: ref, Explanation: explanation, Actor: actor,
			ChangedFields: []string{field, field + "x"}, SensitiveFields: []string{field}, Unit: field, Owner: actor,
			ActorDetail: &drift.Actor{Username: actor, Kind: field, UserAgent: explanation}, Evidence: ref}
		fp := drift.Fingerprint(fd)
		n := notify.Notification{Finding: fd, State: notify.StateFiring, EvidenceURI: uri, Link: uri}
		body := Body(fp, n)
		m, ok := ParseMarker(body)
		if !ok || m.Fingerprint != fp || m.FindingID != fd.FindingID {
			t.Fatalf("marker %+v %v", m, ok)
		}
		lines := strings.Split(body, "\n")
		for i, l := range lines[2:] {
			if strings.Contains(l, "<!--") {
				t.Fatalf("line %d opens a comment: %q", i+3, l)
			}
		}
		for _, s := range []string{Title(n), changedComment(n, "drift-x"), reopenedComment(n, "drift-x")} {
			if strings.Contains(s, "<!--") {
				t.Fatalf("comment opener in %q", s)
			}
		}
		if strings.ContainsAny(Title(n), "\r\n") {
			t.Fatalf("title spans lines: %q", Title(n))
		}
	})
}

// FuzzParseMarker: any body parses without panic, and a marker it accepts has a well-formed
// fingerprint and finding id.
func FuzzParseMarker(f *testing.F) {
	f.Add("<!-- driftplane:fingerprint=fp-0123456789abcdef0123 -->\n<!-- driftplane:finding=drift-1 -->\n")
	f.Add("<!-- driftplane:fingerprint= -->")
	f.Add("<!-- driftplane:fingerprint=fp- -->\r")
	f.Fuzz(func(t *testing.T, body string) {
		m, ok := ParseMarker(body)
		if !ok {
			return
		}
		if !validFingerprint(m.Fingerprint) || (m.FindingID != "" && !validFindingID(m.FindingID)) {
			t.Fatalf("accepted %+v from %q", m, body)
		}
		if !strings.HasPrefix(body, markerPrefix+m.Fingerprint+markerSuffix) {
			t.Fatalf("marker %q not on the first line of %q", m.Fingerprint, body)
		}
	})
}
