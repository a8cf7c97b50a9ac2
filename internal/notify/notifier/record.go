package notifier

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

// SchemaVersion identifies the notification record format.
const SchemaVersion = "driftplane.notifications/v1"

// Prefix is where notification records live in an evidence store: <Prefix>/<unit>/<record>,
// beside the ledger (ledger/<unit>/), never inside it.
const Prefix = "notifications"

// MaxRecordBytes bounds a notification record read back.
const MaxRecordBytes = 64 << 20

// Outcomes recorded besides the dispatcher's sent and failed.
const (
	// OutcomeSilenced: an active silence held a notification that was due; nothing was sent.
	OutcomeSilenced = "silenced"
	// OutcomeSuperseded: a notification that never got through was replaced by a newer state of
	// the same drift (it resolved before its firing notification was delivered).
	OutcomeSuperseded = "superseded"
)

// Delivery is what became of one notification at one receiver in one run.
type Delivery struct {
	Receiver    string `json:"receiver"`
	Fingerprint string `json:"fingerprint"`
	FindingID   string `json:"finding_id,omitempty"`
	State       string `json:"state"`
	// Reason says why it was due: new, changed, repeat, retry (or why it was held).
	Reason     string `json:"reason"`
	Resolution string `json:"resolution,omitempty"`
	Route      string `json:"route,omitempty"`
	GroupKey   string `json:"group_key,omitempty"`
	At         string `json:"at"`
	// Outcome is sent, failed, silenced or superseded.
	Outcome string `json:"outcome"`
	// Attempts counts the runs that tried this transition at this receiver (this one included).
	Attempts int    `json:"attempts,omitempty"`
	Error    string `json:"error,omitempty"`
	// GaveUp is true on the failure after which this transition is no longer retried.
	GaveUp bool `json:"gave_up,omitempty"`
}

// Told is what a receiver was last told about one drift, and what is still owed to it.
type Told struct {
	Receiver    string `json:"receiver"`
	Fingerprint string `json:"fingerprint"`
	// State and FindingID are what the receiver was last told ("" when it was never told), At
	// when.
	State     string `json:"state,omitempty"`
	FindingID string `json:"finding_id,omitempty"`
	At        string `json:"at,omitempty"`
	// Pending is a transition not yet delivered: retried by the next runs until it is sent, a
	// newer state replaces it, or it gives up.
	Pending *Pending `json:"pending,omitempty"`
	// Silenced is the finding a silence held (recorded once, not on every run).
	Silenced string `json:"silenced,omitempty"`
}

// Pending is an undelivered transition.
type Pending struct {
	State      string `json:"state"`
	FindingID  string `json:"finding_id,omitempty"`
	Resolution string `json:"resolution,omitempty"`
	ResolvedAt string `json:"resolved_at,omitempty"`
	Attempts   int    `json:"attempts"`
	Since      string `json:"since"`
	Error      string `json:"error,omitempty"`
	GaveUp     bool   `json:"gave_up,omitempty"`
}

// Seen is what a resolved notification says about a drift no longer in the report: the
// finding as last told firing.
type Seen struct {
	Fingerprint string   `json:"fingerprint"`
	FindingID   string   `json:"finding_id"`
	Unit        string   `json:"unit"`
	ResourceRef string   `json:"resource_ref"`
	DriftClass  string   `json:"drift_class"`
	Risk        string   `json:"risk"`
	Domain      string   `json:"domain"`
	Owner       string   `json:"owner,omitempty"`
	Environment string   `json:"environment,omitempty"`
	Fields      []string `json:"changed_fields,omitempty"`
	FirstSeen   string   `json:"first_seen,omitempty"`
}

// State is a unit's notification state: the newest record carries it forward.
type State struct {
	// Told is sorted by receiver, then fingerprint.
	Told []Told `json:"told"`
	// Findings are the drifts some receiver was told firing, sorted by fingerprint.
	Findings []Seen `json:"findings,omitempty"`
}

// Record is one run's notifications for one unit: what was done, and the state after it.
type Record struct {
	SchemaVersion string `json:"schema_version"`
	Unit          string `json:"unit"`
	At            string `json:"at"`
	Sequence      int64  `json:"sequence"`
	// Previous is the key of the record this one continues ("" for the unit's first).
	Previous string `json:"previous,omitempty"`
	// Ledger is the key of the ledger record whose evaluation was notified.
	Ledger     string     `json:"ledger,omitempty"`
	Deliveries []Delivery `json:"deliveries"`
	State      State      `json:"state"`
}

// Encode serialises a record canonically with its content-addressed key,
// notifications/<unit>/<sequence>-<at>-<digest>.json (the ledger's conventions).
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

// Decode reads a record, refusing oversized or hostile nesting and other schemas.
func Decode(name string, data []byte) (*Record, error) {
	var r Record
	if err := drift.DecodeRecord("notification record", name, data, MaxRecordBytes, SchemaVersion, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Latest returns a unit's newest notification record and its key (nil and "" when it has none).
// A key in the unit's folder that is not a record's is an error, as in the ledger: skipping it
// could hide the state that says what is owed.
func Latest(ctx context.Context, s ledger.Store, unit string) (*Record, string, error) {
	keys, err := ledger.SideKeys(ctx, s, Prefix, unit, "notification")
	if err != nil {
		return nil, "", err
	}
	last, lastSeq, lastAt := ledger.NewestSideKey(keys)
	if last == "" {
		return nil, "", nil
	}
	data, err := s.Get(ctx, last)
	if err != nil {
		return nil, "", fmt.Errorf("notifications of %s: %w", unit, err)
	}
	r, err := Decode(last, data)
	if err != nil {
		return nil, "", err
	}
	at, err := time.Parse(time.RFC3339, r.At)
	if r.Unit != unit || err != nil || !at.Equal(lastAt) || r.Sequence != lastSeq {
		return nil, "", fmt.Errorf("notification record %s: its unit, sequence or time differs from its key", last)
	}
	return r, last, nil
}

// Records calls fn with each of a unit's notification records in key order (an audit of who was
// told what, and when).
func Records(ctx context.Context, s ledger.Store, unit string, fn func(key string, r *Record) error) error {
	keys, err := ledger.SideKeys(ctx, s, Prefix, unit, "notification")
	if err != nil {
		return err
	}
	for _, k := range keys {
		data, err := s.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("notifications of %s: %w", unit, err)
		}
		r, err := Decode(k, data)
		if err != nil {
			return err
		}
		if r.Unit != unit {
			return fmt.Errorf("notification record %s belongs to unit %q", k, r.Unit)
		}
		if err := fn(k, r); err != nil {
			return err
		}
	}
	return nil
}

// checkUnit refuses a unit name that would leave the unit's folder.
func checkUnit(unit string) error {
	if unit == "" || unit == "." || unit == ".." || strings.ContainsAny(unit, "/\\\x00") {
		return fmt.Errorf("unit name %q cannot name a notifications folder", unit)
	}
	return nil
}
