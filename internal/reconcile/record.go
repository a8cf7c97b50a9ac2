package reconcile

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

// SchemaVersion identifies the reconciliation record format.
const SchemaVersion = "driftplane.reconciliations/v1"

// Prefix is where reconciliation records live in an evidence store: <Prefix>/<unit>/<record>,
// beside the ledger (ledger/<unit>/) and the notifications (notifications/<unit>/).
const Prefix = "reconciliations"

// MaxRecordBytes bounds a reconciliation record read back.
const MaxRecordBytes = 64 << 20

// Statuses of a tracked reconciliation.
const (
	// StatusProposed: a pull request is open.
	StatusProposed = "proposed"
	// StatusPending: the pull request is merged but the next evaluation still finds the drift
	// (not yet applied or synced): not resolved.
	StatusPending = "pending"
	// StatusVerified: merged, and an evaluation after the merge no longer finds the drift.
	StatusVerified = "verified"
	// StatusClosed: the drift ended another way; its open pull request was closed with the reason.
	StatusClosed = "closed"
	// StatusDeclined: someone closed the pull request without merging it; it is not reopened
	// while the drift lasts.
	StatusDeclined = "declined"
	// StatusReported: nothing to commit (state commands, or fields that cannot be rewritten
	// safely): the report and this record say what to do.
	StatusReported = "reported"
	// StatusResolved: a reported drift ended.
	StatusResolved = "resolved"
	// StatusFailed: the branch or the pull request could not be written this run; retried by the
	// next.
	StatusFailed = "failed"
)

// Event kinds.
const (
	EventProposed = "proposed" // pull request opened
	EventUpdated  = "updated"  // branch or body updated
	EventMerged   = "merged"   // seen merged, drift still present: pending
	EventVerified = "verified" // merged and the drift is gone
	EventClosed   = "closed"   // drift ended; open pull request closed
	EventDeclined = "declined" // closed unmerged by someone else
	EventReported = "reported" // commands or notes reported, nothing committed
	EventResolved = "resolved" // a reported drift ended
	EventFailed   = "failed"
	// EventBranchDeleted: the pull request's branch was deleted (or found already gone) once it
	// was no longer needed.
	EventBranchDeleted = "branch_deleted"
	// EventBranchKept: the branch is not driftplane's to delete (someone pushed to it, or it is
	// the default branch): it is left as it is, for good.
	EventBranchKept = "branch_kept"
)

// Tracked is one grouping key's reconciliation, carried from record to record while it lasts (and,
// once ended, only while its branch's deletion is to be retried).
type Tracked struct {
	// Key is the grouping key: a finding fingerprint (fp-…) or a group's digest (g-…).
	Key          string   `json:"key"`
	Fingerprints []string `json:"fingerprints"`
	FindingIDs   []string `json:"finding_ids"`
	Resources    []string `json:"resources"`
	Actions      []string `json:"actions"`
	Branch       string   `json:"branch,omitempty"`
	PR           int64    `json:"pull_request,omitempty"`
	URL          string   `json:"url,omitempty"`
	Status       string   `json:"status"`
	ProposedAt   string   `json:"proposed_at,omitempty"`
	MergedAt     string   `json:"merged_at,omitempty"`
	VerifiedAt   string   `json:"verified_at,omitempty"`
	ClosedAt     string   `json:"closed_at,omitempty"`
	// Commit is the commit driftplane last pushed to Branch: the branch is deleted only while its
	// tip is still this one.
	Commit string `json:"commit,omitempty"`
	// BranchDeletedAt is when the branch was deleted (or found already gone) after its pull request
	// was verified, closed or declined; BranchKept says why it never will be. Either makes the
	// deletion happen once.
	BranchDeletedAt string `json:"branch_deleted_at,omitempty"`
	BranchKept      string `json:"branch_kept,omitempty"`
	// Commands are the explicit state commands (STATE_REFRESH, STATE_MOVE) for a person to run;
	// driftplane never runs them.
	Commands []string `json:"commands,omitempty"`
	// Notes say what could not be rewritten and why (never a value).
	Notes []string `json:"notes,omitempty"`
	// Evidence are the evidence records of the evaluations that proposed and verified.
	Evidence []string `json:"evidence,omitempty"`
	// Ledger is the key of the ledger record of the evaluation that proposed.
	Ledger string `json:"ledger,omitempty"`
	// Summary is the closure in words: "accepted into Git by PR #N, verified at …".
	Summary string `json:"summary,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Event is one step of a reconciliation.
type Event struct {
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	PR     int64  `json:"pull_request,omitempty"`
	URL    string `json:"url,omitempty"`
	At     string `json:"at"`
	Detail string `json:"detail,omitempty"`
}

// Record is one reconcile run for one unit: what it did, and the state after it.
type Record struct {
	SchemaVersion string `json:"schema_version"`
	Unit          string `json:"unit"`
	At            string `json:"at"`
	Sequence      int64  `json:"sequence"`
	Previous      string `json:"previous,omitempty"`
	// Ledger is the key of the ledger record of the evaluation reconciled, Evidence its evidence
	// record's location.
	Ledger   string `json:"ledger,omitempty"`
	Evidence string `json:"evidence,omitempty"`
	// Source is the repository and folder the unit's pull requests go to (URL//dir): a unit's
	// records belong to one source, so two applications or stacks that declare the same unit name
	// cannot close or verify each other's pull requests.
	Source string    `json:"source,omitempty"`
	Events []Event   `json:"events"`
	State  []Tracked `json:"state"`
}

// Encode serialises a record canonically with its content-addressed key,
// reconciliations/<unit>/<sequence>-<at>-<digest>.json (the ledger's conventions).
func (r *Record) Encode() (key string, data []byte, err error) {
	if err := checkUnit(r.Unit); err != nil {
		return "", nil, err
	}
	data, err = drift.CanonicalJSON(r)
	if err != nil {
		return "", nil, err
	}
	return ledger.SideKey(Prefix, r.Unit, r.Sequence, r.At, data), data, nil
}

// parseKey reads a record key's sequence and time (false when it is not one).
func parseKey(key string) (int64, time.Time, bool) { return ledger.ParseSideKey(key) }

// Decode reads a record, refusing oversized or hostile nesting and other schemas.
func Decode(name string, data []byte) (*Record, error) {
	var r Record
	if err := drift.DecodeRecord("reconciliation record", name, data, MaxRecordBytes, SchemaVersion, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Records calls fn with each of a unit's reconciliation records in key order. A key in the unit's
// folder that is not a record's is an error, as in the ledger.
func Records(ctx context.Context, s ledger.Store, unit string, fn func(key string, r *Record) error) error {
	keys, err := ledger.SideKeys(ctx, s, Prefix, unit, "reconciliation")
	if err != nil {
		return err
	}
	for _, k := range keys {
		r, err := read(ctx, s, unit, k)
		if err != nil {
			return err
		}
		if err := fn(k, r); err != nil {
			return err
		}
	}
	return nil
}

// Latest returns a unit's newest reconciliation record and its key (nil, "" when none).
func Latest(ctx context.Context, s ledger.Store, unit string) (*Record, string, error) {
	keys, err := ledger.SideKeys(ctx, s, Prefix, unit, "reconciliation")
	if err != nil {
		return nil, "", err
	}
	last, _, _ := ledger.NewestSideKey(keys)
	if last == "" {
		return nil, "", nil
	}
	r, err := read(ctx, s, unit, last)
	return r, last, err
}

func read(ctx context.Context, s ledger.Store, unit, key string) (*Record, error) {
	seq, at, ok := parseKey(key)
	if !ok {
		return nil, fmt.Errorf("reconciliations of %s: %s is not a reconciliation record's key", unit, key)
	}
	data, err := s.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("reconciliations of %s: %w", unit, err)
	}
	r, err := Decode(key, data)
	if err != nil {
		return nil, err
	}
	rat, err := time.Parse(time.RFC3339, r.At)
	if r.Unit != unit || err != nil || !rat.Equal(at) || r.Sequence != seq {
		return nil, fmt.Errorf("reconciliation record %s: its unit, sequence or time differs from its key", key)
	}
	return r, nil
}

// checkUnit refuses a unit name that would leave the unit's folder.
func checkUnit(unit string) error {
	if unit == "" || unit == "." || unit == ".." || strings.ContainsAny(unit, "/\\\x00") {
		return fmt.Errorf("unit name %q cannot name a reconciliations folder", unit)
	}
	return nil
}
