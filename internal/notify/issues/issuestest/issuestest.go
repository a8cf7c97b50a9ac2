// Package issuestest is the scenario every issue forge is tested with: a drift's lifecycle over
// several runs of a fresh receiver (open, changed, resolved, back again, each told twice), a
// finding whose text carries another drift's marker, and an issue another account forged with
// the label and an exact marker. A forge's test supplies a Repo: the receiver to run and a view
// of the repository as its owner sees it.
package issuestest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues"
)

// Repo is one empty repository on the forge under test.
type Repo struct {
	// Receiver builds a fresh receiver writing to the repository, as one evaluation does.
	Receiver func(t *testing.T) *issues.Receiver
	// Bot is the login the receiver's credential belongs to.
	Bot string
	// Issues lists every issue in the repository, open and closed, whatever its labels.
	Issues func(t *testing.T) []issues.Issue
	// Comments lists an issue's comments, oldest first, as (author, body) pairs.
	Comments func(t *testing.T, number int64) []Comment
	// Forge opens an issue as another account with write access.
	Forge func(t *testing.T, title, body string, labels []string) int64
	// Close closes an issue as its owner would by hand.
	Close func(t *testing.T, number int64)
}

// Comment is one comment on an issue.
type Comment struct{ Author, Body string }

// Finding is a finding with its fingerprint, as the ledger gives it.
func Finding(unit, ref, id string, fields ...string) drift.Finding {
	f := drift.Finding{
		FindingID: id, Unit: unit, Owner: "team-payments", Environment: "prod", Domain: "storage",
		ResourceRef: ref, DriftClass: drift.ClassUnauthorizedRuntime, Risk: drift.RiskHigh, ChangedFields: fields,
		RecommendedAction: drift.ActionRuntimeRevert, Actor: "alice", Evidence: "sha256:" + strings.Repeat("ab", 32),
		Rule: "unauthorized-high", Blocking: true, FirstSeen: "2026-12-01T10:00:00Z", Age: "2h0m0s", DetectedAt: "2026-12-01T12:00:00Z",
	}
	f.Fingerprint = drift.Fingerprint(f)
	return f
}

// Firing is a firing notification of f.
func Firing(f drift.Finding) notify.Notification {
	return notify.Notification{Finding: f, State: notify.StateFiring, EvidenceURI: "https://evidence.example/records/" + f.FindingID}
}

// Resolved is a resolved notification of f.
func Resolved(f drift.Finding, how string) notify.Notification {
	return notify.Notification{Finding: f, State: notify.StateResolved, Resolution: how, ResolvedAt: "2026-12-01T13:00:00Z"}
}

// Send runs a fresh receiver once over ns.
func (r Repo) Send(t *testing.T, ns ...notify.Notification) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.Receiver(t).Send(ctx, ns); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// One is the repository's only issue, failing the test when there is not exactly one.
func (r Repo) One(t *testing.T) issues.Issue {
	t.Helper()
	list := r.Issues(t)
	if len(list) != 1 {
		var titles []string
		for _, is := range list {
			titles = append(titles, fmt.Sprintf("#%d %s", is.Number, is.Title))
		}
		t.Fatalf("want exactly one issue, got %d: %v", len(list), titles)
	}
	return list[0]
}

func (r Repo) comments(t *testing.T, number int64) []string {
	t.Helper()
	var out []string
	for _, c := range r.Comments(t, number) {
		if !strings.EqualFold(c.Author, r.Bot) {
			t.Errorf("comment on #%d by %s, want the bot %s", number, c.Author, r.Bot)
		}
		out = append(out, c.Body)
	}
	return out
}

// Lifecycle: three runs (open, changed, resolved), each told twice as a retried delivery would,
// then the same drift comes back, is closed by hand while still there, and a resolution arrives
// for a drift that never had an issue. Exactly one issue throughout.
func Lifecycle(t *testing.T, r Repo) {
	t.Helper()
	v1 := Finding("payments", "aws_s3_bucket.logs", "drift-000000000000000000000001", "/acl", "/tags/env")

	r.Send(t, Firing(v1))
	r.Send(t, Firing(v1))
	is := r.One(t)
	if !is.Open || !strings.EqualFold(is.Author, r.Bot) {
		t.Fatalf("issue #%d open=%v by %s, want open by the bot", is.Number, is.Open, is.Author)
	}
	if m, ok := issues.ParseMarker(is.Body); !ok || m.Fingerprint != v1.Fingerprint || m.FindingID != v1.FindingID {
		t.Fatalf("body marker %+v %v; body:\n%s", m, ok, is.Body)
	}
	if len(is.Labels) != 1 || is.Labels[0] != issues.DefaultLabel {
		t.Errorf("labels %v, want [%s]", is.Labels, issues.DefaultLabel)
	}
	for _, want := range []string{"`aws_s3_bucket.logs`", "`/acl`", "`/tags/env`", "`team-payments`", "`HIGH`", "`RUNTIME_REVERT`", "`alice`",
		"`UNAUTHORIZED_RUNTIME_DRIFT`", "`2026-12-01T10:00:00Z`", "`2h0m0s`", "(https://evidence.example/records/" + v1.FindingID + ")", "`prod`", "`storage`", "`payments`"} {
		if !strings.Contains(is.Body, want) {
			t.Errorf("body lacks %s:\n%s", want, is.Body)
		}
	}
	if c := r.comments(t, is.Number); len(c) != 0 {
		t.Fatalf("comments after the first run: %q", c)
	}

	// The values changed (same paths, new finding id): one comment however often it is told.
	v2 := v1
	v2.FindingID, v2.Actor, v2.Age = "drift-000000000000000000000002", "bob", "3h0m0s"
	changed := Firing(v2)
	changed.Changed = true
	r.Send(t, changed)
	r.Send(t, changed)
	is = r.One(t)
	c := r.comments(t, is.Number)
	if len(c) != 1 || !strings.Contains(c[0], "The drift changed") || !strings.Contains(c[0], "`"+v2.FindingID+"`") || !strings.Contains(c[0], "`bob`") {
		t.Fatalf("comments after the change: %q", c)
	}
	if m, _ := issues.ParseMarker(is.Body); m.FindingID != v2.FindingID || !is.Open {
		t.Fatalf("after the change: marker %+v, open %v", m, is.Open)
	}

	r.Send(t, Resolved(v2, "reverted"))
	r.Send(t, Resolved(v2, "reverted"))
	is = r.One(t)
	c = r.comments(t, is.Number)
	if is.Open || len(c) != 2 || !strings.Contains(c[1], "**Resolved**: `reverted`") {
		t.Fatalf("after resolution: open %v, comments %q", is.Open, c)
	}

	// The same drift comes back: the same issue reopens with a comment.
	v3 := v1
	v3.FindingID = "drift-000000000000000000000003"
	r.Send(t, Firing(v3))
	r.Send(t, Firing(v3))
	is = r.One(t)
	c = r.comments(t, is.Number)
	if !is.Open || len(c) != 3 || !strings.Contains(c[2], "The drift is back") {
		t.Fatalf("after the drift came back: open %v, comments %q", is.Open, c)
	}
	if m, _ := issues.ParseMarker(is.Body); m.FindingID != v3.FindingID {
		t.Fatalf("after reopening the body describes %s", m.FindingID)
	}

	// Closed by hand while the drift is still there: the next evaluation reopens it.
	r.Close(t, is.Number)
	r.Send(t, Firing(v3))
	if is = r.One(t); !is.Open || len(r.comments(t, is.Number)) != 4 {
		t.Fatalf("a hand-closed issue of a live drift: open %v", is.Open)
	}

	// A resolution for a drift that never had an issue opens none.
	other := Finding("payments", "aws_iam_role.ci", "drift-000000000000000000000009", "/assume_role_policy")
	r.Send(t, Resolved(other, "accepted"))
	r.One(t)
}

// FakeMarkers: a finding whose every string carries another drift's marker gets its own issue,
// the victim's lifecycle is untouched by it, and no body holds a marker opener but its own two.
func FakeMarkers(t *testing.T, r Repo) {
	t.Helper()
	victim := Finding("payments", "aws_s3_bucket.victim", "drift-00000000000000000000000a", "/acl")
	fake := "<!-- driftplane:fingerprint=" + victim.Fingerprint + " -->"
	inject := "x\n" + fake + "\n<!-- driftplane:finding=drift-00000000000000000000000a -->\n`` " + fake + " ``-->"
	evil := Finding("payments", "aws_s3_bucket.evil"+inject, "drift-00000000000000000000000b", "/tags/"+inject)
	evil.Explanation, evil.Actor, evil.Owner, evil.Unit = inject, inject, inject, inject
	evil.ActorDetail = &drift.Actor{Username: inject, Kind: inject, UserAgent: inject}
	evil.Fingerprint = drift.Fingerprint(evil)

	// The adversarial issue exists first, so a search of bodies would find it for the victim.
	r.Send(t, Firing(evil))
	r.Send(t, Firing(victim))
	list := r.Issues(t)
	if len(list) != 2 {
		t.Fatalf("want 2 issues (the evil one and the victim's), got %d", len(list))
	}
	byFP := map[string]issues.Issue{}
	for _, is := range list {
		m, ok := issues.ParseMarker(is.Body)
		if !ok {
			t.Fatalf("issue #%d has no marker:\n%s", is.Number, is.Body)
		}
		byFP[m.Fingerprint] = is
		if n := strings.Count(is.Body, "<!-- driftplane:"); n != 2 {
			t.Errorf("issue #%d body holds %d marker openers, want exactly its own 2:\n%s", is.Number, n, is.Body)
		}
		if strings.Contains(is.Title, "\n") {
			t.Errorf("issue #%d title spans lines: %q", is.Number, is.Title)
		}
	}
	if _, ok := byFP[evil.Fingerprint]; !ok {
		t.Fatalf("no issue for the evil drift")
	}
	v, ok := byFP[victim.Fingerprint]
	if !ok {
		t.Fatalf("no issue for the victim drift")
	}
	r.Send(t, Resolved(evil, "healed"))
	for _, is := range r.Issues(t) {
		m, _ := issues.ParseMarker(is.Body)
		if want := m.Fingerprint != evil.Fingerprint; is.Open != want {
			t.Errorf("issue #%d (%s) open=%v, want %v", is.Number, m.Fingerprint, is.Open, want)
		}
	}
	if c := r.comments(t, v.Number); len(c) != 0 {
		t.Errorf("the victim's issue got comments: %q", c)
	}
}

// ForeignIssue: an issue another account opened with the label and an exact marker is not the
// receiver's: it opens its own and never comments on or closes the impostor.
func ForeignIssue(t *testing.T, r Repo) {
	t.Helper()
	// The receiver's first issue creates the label, which the forger then uses.
	r.Send(t, Firing(Finding("payments", "aws_s3_bucket.seed", "drift-00000000000000000000000d", "/acl")))
	f := Finding("payments", "aws_s3_bucket.logs", "drift-00000000000000000000000c", "/acl")
	imp := r.Forge(t, "forged", issues.Body(f.Fingerprint, Firing(f)), []string{issues.DefaultLabel})
	r.Send(t, Firing(f))
	r.Send(t, Resolved(f, "reverted"))
	var mine *issues.Issue
	for _, is := range r.Issues(t) {
		if m, _ := issues.ParseMarker(is.Body); m.Fingerprint == f.Fingerprint && is.Number != imp {
			mine = &is
		}
		if is.Number == imp && !is.Open {
			t.Errorf("the receiver closed the forged issue #%d", imp)
		}
	}
	if mine == nil || !strings.EqualFold(mine.Author, r.Bot) || mine.Open {
		t.Fatalf("the receiver's own issue: %+v", mine)
	}
	if c := r.Comments(t, imp); len(c) != 0 {
		t.Errorf("the receiver commented on the forged issue: %q", c)
	}
}

// Many: more drifts than fit in a page, in one group and again in a second run: every one has
// exactly one issue, and every one closes on resolution (the listing went through every page).
func Many(t *testing.T, r Repo, n int) {
	t.Helper()
	var ns, res []notify.Notification
	for i := range n {
		f := Finding("payments", fmt.Sprintf("aws_s3_bucket.b%d", i), fmt.Sprintf("drift-%024x", 0x100+i), "/acl")
		ns = append(ns, Firing(f))
		res = append(res, Resolved(f, "reverted"))
	}
	r.Send(t, ns...)
	r.Send(t, ns...)
	if got := len(r.Issues(t)); got != n {
		t.Fatalf("%d issues for %d drifts", got, n)
	}
	r.Send(t, res...)
	for _, is := range r.Issues(t) {
		if is.Open {
			t.Errorf("issue #%d still open", is.Number)
		}
	}
}
