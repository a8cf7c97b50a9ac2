package reconcile_test

import (
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile"
)

// A status keeps an ended reconciliation for a week, then lets it go; what the record
// holds always wins over what the previous status said.
func TestShown(t *testing.T) {
	now := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := &reconcile.Record{
		State:  []reconcile.Tracked{{Key: "fp-a", Status: reconcile.StatusProposed, PR: 3}},
		Events: []reconcile.Event{{Kind: reconcile.EventVerified, Key: "fp-b", PR: 4, At: now.Format(time.RFC3339), Detail: "accepted into Git by PR #4"}, {Kind: reconcile.EventUpdated, Key: "fp-x", PR: 9}},
	}
	prev := []v1alpha1.Reconciliation{
		{Key: "fp-a", Status: reconcile.StatusFailed},
		{Key: "fp-c", Status: reconcile.StatusVerified, VerifiedAt: now.Add(-6 * 24 * time.Hour).Format(time.RFC3339)},
		{Key: "fp-d", Status: reconcile.StatusClosed, ClosedAt: now.Add(-8 * 24 * time.Hour).Format(time.RFC3339)},
		{Key: "fp-e", Status: reconcile.StatusProposed},
		{Key: "fp-f", Status: reconcile.StatusVerified, VerifiedAt: "not a time"},
	}
	var got []string
	for _, r := range reconcile.Shown(rec, prev, now) {
		got = append(got, r.Key+"="+r.Status)
	}
	want := "fp-a=proposed fp-b=verified fp-c=verified"
	if strings.Join(got, " ") != want {
		t.Fatalf("shown %v, want %s", got, want)
	}
}

// Only findings reconciliation acts on are in the signature, with their actions, in a stable
// order; a record with only ended entries is not open.
func TestSignatureAndOpen(t *testing.T) {
	rep := &drift.Report{Findings: []drift.Finding{
		{Fingerprint: "fp-b", RecommendedAction: drift.ActionGitUpdatePR},
		{Fingerprint: "fp-a", RecommendedAction: drift.ActionStateRefresh},
		{Fingerprint: "fp-c", RecommendedAction: drift.ActionRuntimeRevert},
	}}
	if got := reconcile.Signature(rep); got != "fp-a=STATE_REFRESH,fp-b=GIT_UPDATE_PR" {
		t.Fatalf("signature %q", got)
	}
	var none *reconcile.Record
	if none.Open() {
		t.Fatal("no record is open")
	}
	ended := &reconcile.Record{State: []reconcile.Tracked{{Status: reconcile.StatusVerified}, {Status: reconcile.StatusResolved}}}
	if ended.Open() {
		t.Fatal("ended entries keep runs going")
	}
	ended.State = append(ended.State, reconcile.Tracked{Status: reconcile.StatusPending})
	if !ended.Open() {
		t.Fatal("a merged pull request waiting for its verification is not open")
	}
}

// A verified entry whose branch is still to delete keeps runs going; one deleted or kept does not.
func TestOpenWhileABranchIsToDelete(t *testing.T) {
	rec := &reconcile.Record{State: []reconcile.Tracked{{Status: reconcile.StatusVerified, Branch: "driftplane/reconcile/fp-1"}}}
	if !rec.Open() {
		t.Fatal("a branch whose deletion failed is never retried")
	}
	rec.State[0].BranchDeletedAt = "2026-12-01T10:00:00Z"
	if rec.Open() {
		t.Fatal("a deleted branch keeps runs going")
	}
	rec.State[0].BranchDeletedAt, rec.State[0].BranchKept = "", "someone pushed to it"
	if rec.Open() {
		t.Fatal("a kept branch keeps runs going")
	}
}
