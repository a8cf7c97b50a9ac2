package reconcile_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forge/gitea"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/giteatest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// botScopes are what reconciliation's token needs: push a branch, open pull requests, know itself.
const botScopes = "write:repository,write:issue,read:user"

const mainTF = `# The application's settings.
resource "local_file" "conf" {
  filename = "${path.module}/app.conf"
  content  = "replicas=3\n" # raised by hand during INC-1 if needed
}

resource "local_file" "other" {
  filename = "${path.module}/other.conf"
  content  = "mode=strict\n"
}
`

// fixture is one repository on the real Gitea with a stack in stacks/app, a bot collaborator and
// an evidence store.
type fixture struct {
	srv         *giteatest.Server
	team, bot   giteatest.User
	repo        string
	f           *gitea.Forge
	store       blob.Store
	unit        *drift.ManagedUnit
	exception   *drift.Exception
	now         time.Time
	evaluations int
	tofu        string
}

func newFixture(t *testing.T, srv *giteatest.Server) *fixture {
	t.Helper()
	x := &fixture{srv: srv, team: srv.NewUser(t, "team", botScopes), bot: srv.NewUser(t, "drift-bot", botScopes)}
	x.repo = srv.NewRepo(t, x.team.Name)
	srv.AddCollaborator(t, x.team.Name, x.repo, x.bot.Name)
	c := srv.Client(t, x.team.Token)
	if _, _, err := c.CreateFile(x.team.Name, x.repo, "stacks/app/main.tf", sdk.CreateFileOptions{Content: base64.StdEncoding.EncodeToString([]byte(mainTF))}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.CreateFile(x.team.Name, x.repo, "CODEOWNERS", sdk.CreateFileOptions{Content: base64.StdEncoding.EncodeToString([]byte("* @" + x.team.Name + "\n"))}); err != nil {
		t.Fatal(err)
	}
	f, err := gitea.New(gitea.Config{URL: srv.URL, Token: x.bot.Token, Owner: x.team.Name, Repo: x.repo})
	if err != nil {
		t.Fatal(err)
	}
	x.f = f
	store, err := blob.OpenStore(context.Background(), t.TempDir(), blob.S3Options{})
	if err != nil {
		t.Fatal(err)
	}
	x.store = store
	x.unit = &drift.ManagedUnit{Metadata: drift.Metadata{Name: "payments-app"}}
	x.unit.Spec.Kind, x.unit.Spec.Owner, x.unit.Spec.Environment = drift.UnitOpenTofuStack, "payments-team", "prod"
	x.exception = &drift.Exception{Metadata: drift.Metadata{Name: "EXC-1"}}
	x.exception.Spec = drift.ExceptionSpec{Unit: "payments-app", Resource: "local_file.conf", Paths: []string{"/content"}, DriftClass: "EMERGENCY_DRIFT",
		Reason: "capacity during INC-1", Ticket: "INC-1", ApprovedBy: "oncall-lead", ExpiresAt: "2027-01-01T00:00:00Z"}
	x.now = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return x
}

// finding is an emergency change of local_file.conf's content, accepted by EXC-1.
func emergency(value string) drift.Finding {
	f := drift.Finding{FindingID: "drift-" + strings.Repeat("a", 23) + string(value[len(value)-2]), Unit: "payments-app", Owner: "payments-team", Environment: "prod",
		Domain: "other", ResourceRef: "local_file.conf", DriftClass: drift.ClassEmergency, Risk: "MEDIUM", ChangedFields: []string{"/content"},
		RecommendedAction: drift.ActionGitUpdatePR, AcceptedBy: "EXC-1", Actor: "alice", Rule: "emergency", Evidence: "hmac-sha256:00",
		ActorDetail: &drift.Actor{Username: "alice", Kind: "human", Time: "2026-12-01T09:00:00Z", UserAgent: "kubectl"},
		Explanation: "accepted by EXC-1: capacity during INC-1",
		Changes:     []drift.Change{{Path: drift.Pointer{"content"}, Before: "replicas=3\n", After: value}}}
	f.Fingerprint = drift.Fingerprint(f)
	return f
}

// run evaluates (a ledger record, as the pipeline writes one) and reconciles.
func (x *fixture) run(t *testing.T, findings ...drift.Finding) *reconcile.Report {
	t.Helper()
	return x.runWith(t, "stacks/app", reconcile.GroupFingerprint, findings...)
}

func (x *fixture) runWith(t *testing.T, dir, grouping string, findings ...drift.Finding) *reconcile.Report {
	t.Helper()
	return x.runObserved(t, dir, grouping, nil, findings...)
}

func (x *fixture) runObserved(t *testing.T, dir, grouping string, observations []drift.Observation, findings ...drift.Finding) *reconcile.Report {
	t.Helper()
	x.evaluations++
	at := x.now.Add(time.Duration(x.evaluations) * time.Hour)
	rep := &drift.Report{Unit: x.unit.Metadata.Name, Status: drift.StatusClean, Findings: findings}
	if len(findings) > 0 {
		rep.Status = drift.StatusDrifted
	}
	prev, prevKey, err := ledger.Latest(t.Context(), x.store, x.unit.Metadata.Name)
	if err != nil {
		t.Fatal(err)
	}
	rec := ledger.Next(prev, prevKey, rep, at, ledger.Outcome{})
	lkey, _, err := ledger.Append(t.Context(), x.store, rec, prev)
	if err != nil {
		t.Fatal(err)
	}
	res := &pipeline.Result{Report: rep, At: at, Observations: observations, EvidenceLocation: "https://evidence.example/records/" + lkey, LedgerLocation: lkey}
	out, err := reconcile.Run(t.Context(), []reconcile.Unit{{Policy: x.unit, Exceptions: []*drift.Exception{x.exception}, Dir: dir, Result: res}},
		reconcile.Options{Forge: x.f, Remote: reconcile.Remote{URL: x.srv.URL + "/" + x.team.Name + "/" + x.repo + ".git", Username: x.bot.Name, Token: x.bot.Token},
			Store: x.store, Group: grouping, Tofu: x.tofu, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(out); strings.Contains(string(b), x.bot.Token) {
		t.Fatalf("the report holds the token: %s", b)
	}
	return out
}

func (x *fixture) pulls(t *testing.T) []*sdk.PullRequest {
	t.Helper()
	return giteatest.Pulls(t, x.srv.Client(t, x.team.Token), x.team.Name, x.repo)
}

func one(t *testing.T, rep *reconcile.Report) reconcile.Outcome {
	t.Helper()
	if len(rep.Outcomes) != 1 {
		t.Fatalf("outcomes %+v, want one", rep.Outcomes)
	}
	return rep.Outcomes[0]
}

// TestGitea runs reconciliation against one real Gitea: each subtest has its own repository.
func TestGitea(t *testing.T) {
	srv := giteatest.Start(t)

	// Proposed, re-run (one pull request), merged but still drifting (pending), gone (verified).
	t.Run("Lifecycle", func(t *testing.T) {
		x := newFixture(t, srv)
		f := emergency("replicas=5\n")
		first := x.run(t, f)
		o := one(t, first)
		if len(first.Warnings) != 0 {
			t.Errorf("warnings: %v", first.Warnings)
		}
		if o.Status != reconcile.StatusProposed || o.PR <= 0 || o.Branch != "driftplane/reconcile/"+f.Fingerprint {
			t.Fatalf("first run: %+v", o)
		}
		c := srv.Client(t, x.team.Token)
		pr, _, err := c.GetPullRequest(x.team.Name, x.repo, o.PR)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"<!-- driftplane:reconcile=" + f.Fingerprint + " -->", "`" + f.FindingID + "`", "`prod`", "`payments-team`",
			"`local_file.conf`", "`/content`", "`alice`", "`2026-12-01T09:00:00Z`", "`EMERGENCY_DRIFT`", "capacity during INC-1",
			"This rule expires on `2027-01-01T00:00:00Z`", "-  content  = \"replicas=3\\n\"", "+  content  = \"replicas=5\\n\"", "Rollback plan", "`" + x.team.Name + "`"} {
			if !strings.Contains(pr.Body, want) {
				t.Errorf("body lacks %q:\n%s", want, pr.Body)
			}
		}
		// CODEOWNERS names the team for every file: asked to review.
		if len(pr.RequestedReviewers) != 1 || pr.RequestedReviewers[0].UserName != x.team.Name {
			t.Errorf("requested reviewers %+v", pr.RequestedReviewers)
		}
		diff, _, err := c.GetPullRequestDiff(x.team.Name, x.repo, o.PR, sdk.PullRequestDiffOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(diff), "stacks/app/main.tf") || !strings.Contains(string(diff), "+  content  = \"replicas=5\\n\" # raised by hand during INC-1 if needed") {
			t.Errorf("diff:\n%s", diff)
		}
		// Re-running changes nothing and opens nothing.
		if o2 := one(t, x.run(t, f)); o2.PR != o.PR || o2.Status != reconcile.StatusProposed {
			t.Errorf("second run: %+v", o2)
		}
		// A new value at the same fields: the same pull request, its branch updated.
		f2 := emergency("replicas=7\n")
		if o3 := one(t, x.run(t, f2)); o3.PR != o.PR {
			t.Errorf("changed value: %+v", o3)
		}
		if n := len(x.pulls(t)); n != 1 {
			t.Fatalf("%d pull requests, want 1", n)
		}
		diff, _, _ = c.GetPullRequestDiff(x.team.Name, x.repo, o.PR, sdk.PullRequestDiffOptions{})
		if !strings.Contains(string(diff), "replicas=7") {
			t.Errorf("the branch was not updated:\n%s", diff)
		}
		giteatest.Merge(t, c, x.team.Name, x.repo, o.PR)
		// Merged, not yet applied: the drift is still found. Pending, never resolved.
		o4 := one(t, x.run(t, f2))
		if o4.Status != reconcile.StatusPending || !strings.Contains(o4.Summary, "pending") {
			t.Errorf("merged, still drifting: %+v", o4)
		}
		// Applied: the next evaluation finds nothing.
		o5 := one(t, x.run(t))
		if o5.Status != reconcile.StatusVerified || !strings.Contains(o5.Summary, "accepted into Git by PR #") || !strings.Contains(o5.Summary, "verified at") {
			t.Errorf("verified: %+v", o5)
		}
		// Verified: the branch is no longer needed and is deleted on the remote.
		if !o5.BranchDeleted || !strings.Contains(strings.Join(o5.Notes, "\n"), "branch "+o.Branch+" deleted") || x.branchExists(t, o.Branch) {
			t.Errorf("verified, the branch is not deleted: %+v", o5)
		}
		var kinds []string
		if err := reconcile.Records(t.Context(), x.store, "payments-app", func(_ string, r *reconcile.Record) error {
			for _, e := range r.Events {
				kinds = append(kinds, e.Kind)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(kinds, ","); got != "proposed,updated,merged,verified,branch_deleted" { // updated: the new value
			t.Errorf("record events %s", got)
		}
		if n := len(x.pulls(t)); n != 1 {
			t.Errorf("%d pull requests after closure, want 1", n)
		}
	})

	// A drift that ends another way (the runtime reverted) closes its open pull request with
	// the ledger's reason.
	t.Run("ResolvedCloses", func(t *testing.T) {
		x := newFixture(t, srv)
		o := one(t, x.run(t, emergency("replicas=5\n")))
		o2 := one(t, x.run(t))
		// The ledger ends an accepted drift as "accepted"; the closing reason is the ledger's.
		if o2.Status != reconcile.StatusClosed || !strings.Contains(o2.Summary, "the ledger records it resolved (accepted)") {
			t.Errorf("%+v", o2)
		}
		pr, _, err := srv.Client(t, x.team.Token).GetPullRequest(x.team.Name, x.repo, o.PR)
		if err != nil || pr.State != sdk.StateClosed || pr.HasMerged {
			t.Fatalf("pull request after the drift ended: %+v %v", pr, err)
		}
		if !o2.BranchDeleted || x.branchExists(t, o.Branch) {
			t.Errorf("closed, the branch is not deleted: %+v", o2)
		}
	})

	// STATE_REFRESH: the exact commands in the report and the record; no branch, no pull request.
	t.Run("StateRefresh", func(t *testing.T) {
		x := newFixture(t, srv)
		f := drift.Finding{FindingID: "drift-bbbbbbbbbbbbbbbbbbbbbbbb", Unit: "payments-app", ResourceRef: `local_file.other`, DriftClass: drift.ClassState,
			Risk: "LOW", RecommendedAction: drift.ActionStateRefresh, Deleted: true, Rule: "deleted-outside"}
		o := one(t, x.run(t, f))
		if o.Status != reconcile.StatusReported || o.PR != 0 || strings.Join(o.Commands, "\n") !=
			"tofu -chdir='stacks/app' plan -refresh-only '-target=local_file.other'\ntofu -chdir='stacks/app' apply -refresh-only '-target=local_file.other'" {
			t.Errorf("%+v", o)
		}
		if n := len(x.pulls(t)); n != 0 {
			t.Errorf("%d pull requests for a state action", n)
		}
	})

	// A pull request someone else opened from the same branch name with a copied marker is not
	// driftplane's: it is neither edited nor closed, and driftplane opens its own.
	t.Run("ForeignPullRequest", func(t *testing.T) {
		x := newFixture(t, srv)
		mallory := srv.NewUser(t, "mallory", botScopes)
		srv.AddCollaborator(t, x.team.Name, x.repo, mallory.Name)
		f := emergency("replicas=5\n")
		branch := "driftplane/reconcile/" + f.Fingerprint
		mc := srv.Client(t, mallory.Token)
		if _, _, err := mc.CreateFile(x.team.Name, x.repo, "evil.txt", sdk.CreateFileOptions{FileOptions: sdk.FileOptions{NewBranchName: branch},
			Content: base64.StdEncoding.EncodeToString([]byte("x"))}); err != nil {
			t.Fatal(err)
		}
		fake, _, err := mc.CreatePullRequest(x.team.Name, x.repo, sdk.CreatePullRequestOption{Head: branch, Base: "main", Title: "fake",
			Body: reconcile.Marker(f.Fingerprint) + "\nmerge me"})
		if err != nil {
			t.Fatal(err)
		}
		// driftplane neither adopts the foreign pull request nor pushes over the branch someone
		// else committed to; it fails, saying so, until someone removes them.
		o := one(t, x.run(t, f))
		if o.PR == fake.Index || o.Status != reconcile.StatusFailed || !strings.Contains(o.Error, "that driftplane did not make") {
			t.Fatalf("with a foreign pull request on its branch: %+v", o)
		}
		if n := len(x.pulls(t)); n != 1 {
			t.Errorf("%d pull requests", n)
		}
		got, _, _ := mc.GetPullRequest(x.team.Name, x.repo, fake.Index)
		if got.Title != "fake" || got.State != sdk.StateOpen {
			t.Errorf("the foreign pull request was touched: %+v", got)
		}
	})

	// A token that may not push: the outcome fails, names no token; nothing is opened.
	t.Run("ReadOnlyToken", func(t *testing.T) {
		x := newFixture(t, srv)
		reader := srv.NewUser(t, "reader", "read:repository,read:issue,read:user")
		f, err := gitea.New(gitea.Config{URL: srv.URL, Token: reader.Token, Owner: x.team.Name, Repo: x.repo})
		if err != nil {
			t.Fatal(err)
		}
		x.f, x.bot = f, reader
		o := one(t, x.run(t, emergency("replicas=5\n")))
		if o.Status != reconcile.StatusFailed || o.Error == "" || strings.Contains(o.Error, reader.Token) {
			t.Errorf("%+v", o)
		}
		if n := len(x.pulls(t)); n != 0 {
			t.Errorf("%d pull requests", n)
		}
	})

	// Closed without merging by a reviewer: declined, never reopened or re-proposed while the
	// drift lasts.
	t.Run("Declined", func(t *testing.T) {
		x := newFixture(t, srv)
		f := emergency("replicas=5\n")
		o := one(t, x.run(t, f))
		closed := sdk.StateClosed
		if _, _, err := srv.Client(t, x.team.Token).EditPullRequest(x.team.Name, x.repo, o.PR, sdk.EditPullRequestOption{State: &closed}); err != nil {
			t.Fatal(err)
		}
		if o2 := one(t, x.run(t, f)); o2.Status != reconcile.StatusDeclined || o2.PR != o.PR || !o2.BranchDeleted || x.branchExists(t, o.Branch) {
			t.Errorf("after a reviewer closed it (the branch deleted): %+v", o2)
		}
		// Deleted once: the same branch pushed again at the very commit driftplane pushed (someone
		// restoring it to reopen the pull request) is not deleted a second time.
		x.pushAt(t, o.PR, o.Branch)
		if o3 := one(t, x.run(t, emergency("replicas=9\n"))); o3.Status != reconcile.StatusDeclined || o3.BranchDeleted || !x.branchExists(t, o.Branch) {
			t.Errorf("declined drift with a new value: %+v", o3)
		}
		if n := len(x.pulls(t)); n != 1 {
			t.Errorf("%d pull requests", n)
		}
		if got := strings.Join(x.events(t), ","); got != "proposed,declined,branch_deleted" {
			t.Errorf("record events %s", got)
		}
	})

	// A reviewer's commit on the branch: merged and verified, the branch is still kept, for good,
	// saying why; whether the commit names the reviewer or forges driftplane's own identity (the
	// tip is not the commit driftplane pushed).
	for _, who := range []sdk.Identity{{Name: "Rita Reviewer", Email: "rita@example.com"}, {Name: "driftplane", Email: "driftplane@users.noreply.invalid"}} {
		t.Run("ForeignTipKept/"+who.Email, func(t *testing.T) {
			x := newFixture(t, srv)
			o := one(t, x.run(t, emergency("replicas=5\n")))
			c := srv.Client(t, x.team.Token)
			if _, _, err := c.CreateFile(x.team.Name, x.repo, "stacks/app/NOTES.md", sdk.CreateFileOptions{FileOptions: sdk.FileOptions{BranchName: o.Branch, Message: "reviewer's note",
				Author: who, Committer: who}, Content: base64.StdEncoding.EncodeToString([]byte("why 5\n"))}); err != nil {
				t.Fatal(err)
			}
			giteatest.Merge(t, c, x.team.Name, x.repo, o.PR)
			rep := x.run(t)
			o2 := one(t, rep)
			if o2.Status != reconcile.StatusVerified || o2.BranchDeleted || !strings.Contains(strings.Join(o2.Notes, "\n"), "branch "+o.Branch+" kept: its tip") ||
				len(rep.Warnings) != 0 || !x.branchExists(t, o.Branch) {
				t.Errorf("a branch someone else pushed to: %+v, warnings %v", o2, rep.Warnings)
			}
			if got := strings.Join(x.events(t), ","); got != "proposed,verified,branch_kept" {
				t.Errorf("record events %s", got)
			}
			if rep := x.run(t); len(rep.Outcomes) != 0 || !x.branchExists(t, o.Branch) {
				t.Errorf("after: %+v", rep)
			}
		})
	}

	// A record that names someone else's commit as driftplane's (the evidence store tampered
	// with): the tip is the recorded commit, but not driftplane's, so the branch is kept.
	t.Run("TamperedRecordKept", func(t *testing.T) {
		x := newFixture(t, srv)
		f := emergency("replicas=5\n")
		o := one(t, x.run(t, f))
		c := srv.Client(t, x.team.Token)
		if _, _, err := c.CreateFile(x.team.Name, x.repo, "stacks/app/NOTES.md", sdk.CreateFileOptions{FileOptions: sdk.FileOptions{BranchName: o.Branch, Message: "reviewer's note"},
			Content: base64.StdEncoding.EncodeToString([]byte("why 5\n"))}); err != nil {
			t.Fatal(err)
		}
		b, _, err := c.GetRepoBranch(x.team.Name, x.repo, o.Branch)
		if err != nil {
			t.Fatal(err)
		}
		rec, key, err := reconcile.Latest(t.Context(), x.store, "payments-app")
		if err != nil || len(rec.State) != 1 || rec.State[0].Commit == "" {
			t.Fatalf("record %+v %v", rec, err)
		}
		rec.State[0].Commit = b.Commit.ID
		rec.Previous, rec.Sequence, rec.Events = key, rec.Sequence+1, []reconcile.Event{}
		rec.At = x.now.Add(time.Duration(x.evaluations)*time.Hour + time.Minute).Format(time.RFC3339)
		k, data, err := rec.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.store.PutContext(t.Context(), k, data); err != nil {
			t.Fatal(err)
		}
		closed := sdk.StateClosed
		if _, _, err := c.EditPullRequest(x.team.Name, x.repo, o.PR, sdk.EditPullRequestOption{State: &closed}); err != nil {
			t.Fatal(err)
		}
		rep := x.run(t, f)
		o2 := one(t, rep)
		if o2.Status != reconcile.StatusDeclined || o2.BranchDeleted || !strings.Contains(strings.Join(o2.Notes, "\n"), "that driftplane did not make") ||
			len(rep.Warnings) != 0 || !x.branchExists(t, o.Branch) {
			t.Errorf("a recorded commit that is not driftplane's: %+v, warnings %v", o2, rep.Warnings)
		}
	})

	// The repository's default branch is never deleted, whatever its name: here the proposal's
	// own branch was made the default before its pull request was declined.
	t.Run("DefaultBranchKept", func(t *testing.T) {
		x := newFixture(t, srv)
		f := emergency("replicas=5\n")
		o := one(t, x.run(t, f))
		c := srv.Client(t, x.team.Token)
		// Gitea may answer 500 ("already in queue") while it still indexes the pushes, having
		// changed the default branch or not: retried until it says it did.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(300 * time.Millisecond) {
			_, _, err := c.EditRepo(x.team.Name, x.repo, sdk.EditRepoOption{DefaultBranch: &o.Branch})
			if r, _, gerr := c.GetRepo(x.team.Name, x.repo); gerr == nil && r.DefaultBranch == o.Branch {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the default branch is not %s: %v", o.Branch, err)
			}
		}
		closed := sdk.StateClosed
		if _, _, err := c.EditPullRequest(x.team.Name, x.repo, o.PR, sdk.EditPullRequestOption{State: &closed}); err != nil {
			t.Fatal(err)
		}
		rep := x.run(t, f)
		o2 := one(t, rep)
		// Gitea would refuse too, but as a failed push retried every run: driftplane never asks.
		if o2.Status != reconcile.StatusDeclined || o2.BranchDeleted || !strings.Contains(strings.Join(o2.Notes, "\n"), "default or base branch") ||
			len(rep.Warnings) != 0 || !x.branchExists(t, o.Branch) {
			t.Errorf("the default branch: %+v, warnings %v", o2, rep.Warnings)
		}
	})

	// A deletion the forge refuses (a protected branch) is a warning, not a failure; the ended
	// reconciliation is carried until the next run deletes the branch, without verifying again.
	t.Run("DeletionRetried", func(t *testing.T) {
		x := newFixture(t, srv)
		o := one(t, x.run(t, emergency("replicas=5\n")))
		c := srv.Client(t, x.team.Token)
		if _, _, err := c.CreateBranchProtection(x.team.Name, x.repo, sdk.CreateBranchProtectionOption{RuleName: o.Branch, EnablePush: true}); err != nil {
			t.Fatal(err)
		}
		giteatest.Merge(t, c, x.team.Name, x.repo, o.PR)
		rep := x.run(t)
		o2 := one(t, rep)
		if o2.Status != reconcile.StatusVerified || o2.BranchDeleted || rep.Failed() != 0 || len(rep.Warnings) != 1 ||
			!strings.Contains(rep.Warnings[0], "deleting branch "+o.Branch) || strings.Contains(rep.Warnings[0], x.bot.Token) || !x.branchExists(t, o.Branch) {
			t.Fatalf("a refused deletion: %+v, warnings %v", o2, rep.Warnings)
		}
		if _, err := c.DeleteBranchProtection(x.team.Name, x.repo, o.Branch); err != nil {
			t.Fatal(err)
		}
		rep = x.run(t)
		if o3 := one(t, rep); o3.Status != reconcile.StatusVerified || !o3.BranchDeleted || len(rep.Warnings) != 0 || x.branchExists(t, o.Branch) {
			t.Errorf("retried: %+v, warnings %v", o3, rep.Warnings)
		}
		if got := strings.Join(x.events(t), ","); got != "proposed,verified,branch_deleted" {
			t.Errorf("record events %s", got)
		}
		if rep := x.run(t); len(rep.Outcomes) != 0 || len(rep.Records) != 0 {
			t.Errorf("after the deletion: %+v", rep)
		}
	})

	// Grouped by unit: two drifts, one pull request editing both.
	t.Run("GroupByUnit", func(t *testing.T) {
		x := newFixture(t, srv)
		other := drift.Finding{FindingID: "drift-cccccccccccccccccccccccc", Unit: "payments-app", ResourceRef: "local_file.other", DriftClass: drift.ClassEmergency,
			Risk: "LOW", ChangedFields: []string{"/content"}, RecommendedAction: drift.ActionGitUpdatePR, Rule: "emergency",
			Changes: []drift.Change{{Path: drift.Pointer{"content"}, Before: "mode=strict\n", After: "mode=relaxed\n"}}}
		o := one(t, x.runWith(t, "stacks/app", reconcile.GroupUnit, emergency("replicas=5\n"), other))
		if o.Status != reconcile.StatusProposed || !strings.HasPrefix(o.Key, "g-") {
			t.Fatalf("%+v", o)
		}
		diff, _, err := srv.Client(t, x.team.Token).GetPullRequestDiff(x.team.Name, x.repo, o.PR, sdk.PullRequestDiffOptions{})
		if err != nil || !strings.Contains(string(diff), "replicas=5") || !strings.Contains(string(diff), "mode=relaxed") {
			t.Errorf("diff %v:\n%s", err, diff)
		}
	})

	// A Kubernetes unit: the manifest that defines the field is edited (kyaml), comments kept.
	t.Run("KubernetesManifest", func(t *testing.T) {
		x := newFixture(t, srv)
		manifest := `# The web tier.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2 # autoscaled in prod
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1.0 # pinned
`
		if _, _, err := srv.Client(t, x.team.Token).CreateFile(x.team.Name, x.repo, "apps/web/deploy.yaml", sdk.CreateFileOptions{Content: base64.StdEncoding.EncodeToString([]byte(manifest))}); err != nil {
			t.Fatal(err)
		}
		x.unit.Spec.Kind = drift.UnitKubernetes
		f := drift.Finding{FindingID: "drift-dddddddddddddddddddddddd", Unit: "payments-app", ResourceRef: "apps/v1/Deployment/shop/web", DriftClass: drift.ClassEmergency,
			Risk: "HIGH", ChangedFields: []string{"/spec/template/spec/containers/0/image"}, RecommendedAction: drift.ActionGitUpdatePR, Rule: "emergency",
			Changes: []drift.Change{{Path: drift.Pointer{"spec", "template", "spec", "containers", "0", "image"}, Before: "registry.example/web:1.0", After: "registry.example/web:1.0.1"}}}
		o := one(t, x.runWith(t, "apps/web", reconcile.GroupFingerprint, f))
		if o.Status != reconcile.StatusProposed {
			t.Fatalf("%+v", o)
		}
		diff, _, err := srv.Client(t, x.team.Token).GetPullRequestDiff(x.team.Name, x.repo, o.PR, sdk.PullRequestDiffOptions{})
		if err != nil || !strings.Contains(string(diff), "+        image: registry.example/web:1.0.1 # pinned") {
			t.Errorf("diff %v:\n%s", err, diff)
		}
	})

	// The forge client's listing drops pull requests of other branches.
	// A reviewer pushed a fix onto the proposal: the next run does not overwrite it; it fails for
	// that key, saying why, and the pull request keeps the reviewer's commit.
	t.Run("ReviewerCommitKept", func(t *testing.T) {
		x := newFixture(t, srv)
		o := one(t, x.run(t, emergency("replicas=5\n")))
		c := srv.Client(t, x.team.Token)
		if _, _, err := c.CreateFile(x.team.Name, x.repo, "stacks/app/NOTES.md", sdk.CreateFileOptions{FileOptions: sdk.FileOptions{BranchName: o.Branch, Message: "reviewer's note"},
			Content: base64.StdEncoding.EncodeToString([]byte("why 5\n"))}); err != nil {
			t.Fatal(err)
		}
		o2 := one(t, x.run(t, emergency("replicas=6\n")))
		if o2.Status != reconcile.StatusFailed || !strings.Contains(o2.Error, "that driftplane did not make") {
			t.Errorf("%+v", o2)
		}
		if _, _, err := c.GetFile(x.team.Name, x.repo, o.Branch, "stacks/app/NOTES.md"); err != nil {
			t.Errorf("the reviewer's commit is gone: %v", err)
		}
		if n := len(x.pulls(t)); n != 1 {
			t.Errorf("%d pull requests", n)
		}
	})

	// IMPORT: a resource that runs but is in neither state nor configuration gets an import block
	// and the configuration real `tofu plan -generate-config-out` writes, in one pull request.
	t.Run("Import", func(t *testing.T) {
		x := newFixture(t, srv)
		x.tofu = testtools.Require(t, "TOFU")
		t.Setenv("CHECKPOINT_DISABLE", "1")
		t.Setenv("TF_CLI_CONFIG_FILE", filepath.Join(t.TempDir(), "none.tfrc")) // terraform_data needs no provider
		if _, _, err := srv.Client(t, x.team.Token).CreateFile(x.team.Name, x.repo, "stacks/orphans/main.tf",
			sdk.CreateFileOptions{Content: base64.StdEncoding.EncodeToString([]byte("# Resources found running, adopted here.\n"))}); err != nil {
			t.Fatal(err)
		}
		f := drift.Finding{FindingID: "drift-eeeeeeeeeeeeeeeeeeeeeeee", Unit: "payments-app", ResourceRef: "terraform_data.orphan", DriftClass: drift.ClassUnmanaged,
			Risk: "LOW", RecommendedAction: drift.ActionImport, Rule: "unmanaged"}
		obs := []drift.Observation{{Ref: "terraform_data.orphan", Type: "terraform_data", Actual: map[string]any{"id": "orphan-1"}}}
		o := one(t, x.runObserved(t, "stacks/orphans", reconcile.GroupFingerprint, obs, f))
		if o.Status != reconcile.StatusProposed {
			t.Fatalf("%+v", o)
		}
		diff, _, err := srv.Client(t, x.team.Token).GetPullRequestDiff(x.team.Name, x.repo, o.PR, sdk.PullRequestDiffOptions{})
		if err != nil || !strings.Contains(string(diff), "stacks/orphans/imports.tf") || !strings.Contains(string(diff), "+  to = terraform_data.orphan") ||
			!strings.Contains(string(diff), `resource "terraform_data" "orphan"`) {
			t.Errorf("diff %v:\n%s", err, diff)
		}
	})

	// Gitea's list has no head filter: every page is read (more pull requests than a page of the
	// server's) and only the branch's are kept.
	t.Run("ListingByHead", func(t *testing.T) {
		x := newFixture(t, srv)
		c := srv.Client(t, x.team.Token)
		n := giteatest.PageSize + 2
		for i := 0; i < n; i++ {
			branch := fmt.Sprintf("feature-%d", i)
			if _, _, err := c.CreateFile(x.team.Name, x.repo, branch+".txt", sdk.CreateFileOptions{FileOptions: sdk.FileOptions{NewBranchName: branch},
				Content: base64.StdEncoding.EncodeToString([]byte(branch))}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.CreatePullRequest(x.team.Name, x.repo, sdk.CreatePullRequestOption{Head: branch, Base: "main", Title: branch}); err != nil {
				t.Fatal(err)
			}
		}
		for _, branch := range []string{"feature-0", fmt.Sprintf("feature-%d", n-1)} {
			prs, err := x.f.PullRequests(t.Context(), branch)
			if err != nil || len(prs) != 1 || prs[0].Title != branch || !forge.Keep(prs[0], x.f.Repo(), branch) || prs[0].Author != x.team.Name {
				t.Errorf("%s: %+v %v", branch, prs, err)
			}
		}
		if prs, err := x.f.PullRequests(t.Context(), "no-such-branch"); err != nil || len(prs) != 0 {
			t.Errorf("%v %v", prs, err)
		}
	})
}

// branchExists says whether the repository has branch.
func (x *fixture) branchExists(t *testing.T, branch string) bool {
	t.Helper()
	_, resp, err := x.srv.Client(t, x.team.Token).GetRepoBranch(x.team.Name, x.repo, branch)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// events are the kinds of every event of the unit's reconciliation records, in order.
func (x *fixture) events(t *testing.T) []string {
	t.Helper()
	var kinds []string
	if err := reconcile.Records(t.Context(), x.store, "payments-app", func(_ string, r *reconcile.Record) error {
		for _, e := range r.Events {
			kinds = append(kinds, e.Kind)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return kinds
}

// pushAt pushes, as the bot, the head commit of pull request pr (which Gitea keeps at
// refs/pull/<pr>/head) to branch.
func (x *fixture) pushAt(t *testing.T, pr int64, branch string) {
	t.Helper()
	repo, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rem, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{x.srv.URL + "/" + x.team.Name + "/" + x.repo + ".git"}})
	if err != nil {
		t.Fatal(err)
	}
	auth := &githttp.BasicAuth{Username: x.bot.Name, Password: x.bot.Token}
	head := fmt.Sprintf("refs/pull/%d/head", pr)
	if err := rem.FetchContext(t.Context(), &git.FetchOptions{Auth: auth, RefSpecs: []config.RefSpec{config.RefSpec("+" + head + ":refs/heads/restore")}}); err != nil {
		t.Fatal(err)
	}
	if err := rem.PushContext(t.Context(), &git.PushOptions{Auth: auth, RefSpecs: []config.RefSpec{config.RefSpec("refs/heads/restore:refs/heads/" + branch)}}); err != nil {
		t.Fatal(err)
	}
}
