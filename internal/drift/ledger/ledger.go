// Package ledger keeps the lifecycle of findings across evaluations: when a drift was first and
// last seen, when it changed, and how it ended (reverted, healed, accepted, refreshed, deleted,
// reopened when its exception expired). It lives in the evidence store, local or S3, as
// append-only, content-addressed records: each evaluation of a unit writes one record carrying
// the unit's open findings forward, so the newest record is the unit's state and the sequence of
// records is its history. Records are never rewritten; two writers at once write two records,
// and readers take the newest by key.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// SchemaVersion identifies the record format.
const SchemaVersion = "driftplane.ledger/v1"

// Prefix is where the ledger lives in an evidence store: <Prefix>/<unit>/<record>.
const Prefix = "ledger"

// Store is where records are kept: create-only writes, reads and sorted listings (blob.Dir and
// blob.S3Store).
type Store interface {
	PutContext(ctx context.Context, key string, data []byte) (string, error)
	Get(ctx context.Context, key string) ([]byte, error)
	List(ctx context.Context, prefix string) ([]string, error)
}

// Resolutions: how a finding's life ended.
const (
	ResolutionReverted        = "reverted"          // the runtime is back to the desired state
	ResolutionHealed          = "healed"            // auto-heal synced it back
	ResolutionAccepted        = "accepted"          // an exception accepts it
	ResolutionAcceptedIntoGit = "accepted-into-git" // Git now declares what runs
	ResolutionStateRefreshed  = "state-refreshed"   // the recorded state caught up
	ResolutionResourceDeleted = "resource-deleted"  // the resource is gone
	EventAppeared             = "appeared"
	EventReopened             = "reopened" // its exception expired or no longer covers it
	EventResolved             = "resolved"
	EventChanged              = "changed" // same fields, new values
	statusUnknown             = "unknown"
)

// Entry is one open finding's life so far.
type Entry struct {
	Fingerprint string   `json:"fingerprint"`
	FindingID   string   `json:"finding_id"`
	ResourceRef string   `json:"resource_ref"`
	DriftClass  string   `json:"drift_class"`
	Risk        string   `json:"risk"`
	Domain      string   `json:"domain"`
	Owner       string   `json:"owner"`
	Environment string   `json:"environment"`
	Fields      []string `json:"changed_fields"`
	AcceptedBy  string   `json:"accepted_by,omitempty"`
	Blocking    bool     `json:"blocking,omitempty"`
	Deleted     bool     `json:"deleted,omitempty"`
	FirstSeen   string   `json:"first_seen"`
	LastSeen    string   `json:"last_seen"`
	// ChangedAt is when the audit source says the change was made ("" when unknown).
	ChangedAt string `json:"changed_at,omitempty"`
	// ActualDigest digests what actually ran at the changed fields (Outcome.Actual), so that when
	// the drift ends the ledger can tell Git adopting the runtime (actual unchanged) from the
	// runtime going back (actual changed).
	ActualDigest string `json:"actual_digest,omitempty"`
}

// Event is one transition in an evaluation.
type Event struct {
	Kind        string `json:"kind"`
	Fingerprint string `json:"fingerprint"`
	ResourceRef string `json:"resource_ref"`
	DriftClass  string `json:"drift_class"`
	Risk        string `json:"risk"`
	Domain      string `json:"domain"`
	Owner       string `json:"owner,omitempty"`
	Environment string `json:"environment,omitempty"`
	FirstSeen   string `json:"first_seen"`
	// ChangedAt is when the audit source says the change was made ("" when unknown).
	ChangedAt  string `json:"changed_at,omitempty"`
	At         string `json:"at"`
	Resolution string `json:"resolution,omitempty"`
}

// Record is one evaluation of one unit.
type Record struct {
	SchemaVersion string `json:"schema_version"`
	Unit          string `json:"unit"`
	EvaluatedAt   string `json:"evaluated_at"`
	// Status is the report's status, or "unknown" when the evaluation could not observe the unit
	// (its open findings are carried unchanged: unknown never resolves anything).
	Status string `json:"status"`
	// Sequence counts the unit's evaluations: the previous record's plus one. Keys begin with it,
	// so the newest record is the last key even when two evaluations share a second.
	Sequence int64 `json:"sequence"`
	// Previous is the key of the record this one continues ("" for a unit's first).
	Previous string  `json:"previous,omitempty"`
	Open     []Entry `json:"open"`
	Events   []Event `json:"events,omitempty"`
	// Budgets are the unit's drift budgets as this evaluation judged them.
	Budgets []drift.BudgetState `json:"budgets,omitempty"`
	// StaleAfter is how long the unit may go without a successful evaluation, from its
	// schedule (empty: no schedule); readers judge staleness with it.
	StaleAfter string `json:"stale_after,omitempty"`
	// Reconciles counts the reconciliations (auto-heal syncs) asked for since the previous
	// evaluation, by finding, and how many failed: the reconcile failure rate (M6).
	Reconciles *Reconciles `json:"reconciles,omitempty"`
	// Inventory is what the unit declares and what the evaluation found running (M7).
	Inventory *drift.Inventory `json:"inventory,omitempty"`
	// Owner and Environment are the unit's, so readers can group unit-level SLIs (M6, M7).
	Owner       string `json:"owner,omitempty"`
	Environment string `json:"environment,omitempty"`
}

// Reconciles counts reconciliation attempts and failures.
type Reconciles struct {
	Attempted int `json:"attempted"`
	Failed    int `json:"failed"`
}

// Outcome is what the pipeline knows besides the report about how findings ended.
type Outcome struct {
	// Healed are the finding IDs auto-heal synced back since the previous evaluation, and
	// HealFailed those whose sync it asked for and that failed.
	Healed, HealFailed map[string]bool
	// Actual digests what actually runs at the given fields of a resource in this evaluation
	// (false when the source did not observe it: a plan lists only drifted resources).
	Actual func(ref string, fields []string) (digest string, ok bool)
}

// Next is the record that follows prev (nil for a unit's first) after an evaluation at at. It is
// a pure function of its inputs, so replaying a ledger gives the same records.
func Next(prev *Record, prevKey string, rep *drift.Report, at time.Time, out Outcome) *Record {
	stamp := at.UTC().Format(time.RFC3339)
	rec := &Record{SchemaVersion: SchemaVersion, Unit: rep.Unit, EvaluatedAt: stamp, Status: rep.Status, Previous: prevKey, Open: []Entry{}, Sequence: sequence(prev)}
	before := map[string]Entry{}
	if prev != nil {
		for _, e := range prev.Open {
			before[e.Fingerprint] = e
		}
	}
	seen := map[string]bool{}
	deletedRefs := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Deleted {
			deletedRefs[f.ResourceRef] = true
		}
	}
	for _, f := range rep.Findings {
		fp := drift.Fingerprint(f)
		if seen[fp] {
			continue
		}
		seen[fp] = true
		e := Entry{Fingerprint: fp, FindingID: f.FindingID, ResourceRef: f.ResourceRef, DriftClass: string(f.DriftClass),
			Risk: string(f.Risk), Domain: f.Domain, Owner: f.Owner, Environment: f.Environment,
			Fields: append([]string{}, f.ChangedFields...), AcceptedBy: f.AcceptedBy, Blocking: f.Blocking, Deleted: f.Deleted,
			FirstSeen: stamp, LastSeen: stamp}
		if f.ActorDetail != nil {
			e.ChangedAt = f.ActorDetail.Time
		}
		if out.Actual != nil {
			e.ActualDigest, _ = out.Actual(f.ResourceRef, e.Fields)
		}
		old, had := before[fp]
		switch {
		case !had:
			rec.Events = append(rec.Events, event(EventAppeared, e, stamp, ""))
		default:
			e.FirstSeen = old.FirstSeen
			if e.ChangedAt == "" {
				e.ChangedAt = old.ChangedAt
			}
			switch {
			case old.AcceptedBy != "" && e.AcceptedBy == "":
				rec.Events = append(rec.Events, event(EventReopened, e, stamp, ""))
			case old.AcceptedBy == "" && e.AcceptedBy != "":
				rec.Events = append(rec.Events, event(EventResolved, e, stamp, ResolutionAccepted))
			case old.FindingID != e.FindingID:
				rec.Events = append(rec.Events, event(EventChanged, e, stamp, ""))
			}
		}
		rec.Open = append(rec.Open, e)
	}
	for _, fp := range sortedKeys(before) {
		if seen[fp] {
			continue
		}
		old := before[fp]
		rec.Events = append(rec.Events, event(EventResolved, old, stamp, resolution(old, deletedRefs, out)))
	}
	sort.Slice(rec.Open, func(i, j int) bool { return rec.Open[i].Fingerprint < rec.Open[j].Fingerprint })
	if n := len(out.Healed) + len(out.HealFailed); n > 0 {
		rec.Reconciles = &Reconciles{Attempted: n, Failed: len(out.HealFailed)}
	}
	return rec
}

// Unknown is the record of an evaluation that could not observe the unit: prev's open findings
// carried unchanged, no transitions.
func Unknown(prev *Record, prevKey, unit string, at time.Time) *Record {
	rec := &Record{SchemaVersion: SchemaVersion, Unit: unit, EvaluatedAt: at.UTC().Format(time.RFC3339), Status: statusUnknown, Previous: prevKey, Open: []Entry{}, Sequence: sequence(prev)}
	if prev != nil {
		rec.Open = append(rec.Open, prev.Open...)
	}
	return rec
}

func sequence(prev *Record) int64 {
	if prev == nil {
		return 1
	}
	return prev.Sequence + 1
}

func resolution(old Entry, deletedRefs map[string]bool, out Outcome) string {
	switch {
	case old.AcceptedBy != "":
		// An accepted drift that ends was either ported into Git (what runs is unchanged: the usual
		// end of an emergency change) or undone; where the source cannot tell, it stays accepted.
		if old.ActualDigest != "" && out.Actual != nil && !out.Healed[old.FindingID] {
			if d, ok := out.Actual(old.ResourceRef, old.Fields); ok {
				if d == old.ActualDigest {
					return ResolutionAcceptedIntoGit
				}
				return ResolutionReverted
			}
		}
		return ResolutionAccepted
	case out.Healed[old.FindingID]:
		return ResolutionHealed
	case deletedRefs[old.ResourceRef] && !old.Deleted:
		return ResolutionResourceDeleted
	case old.DriftClass == string(drift.ClassState):
		return ResolutionStateRefreshed
	case old.ActualDigest != "" && out.Actual != nil:
		// The runtime still runs what it ran while drifted: Git changed to match it.
		if d, ok := out.Actual(old.ResourceRef, old.Fields); ok && d == old.ActualDigest {
			return ResolutionAcceptedIntoGit
		}
	}
	return ResolutionReverted
}

func event(kind string, e Entry, at, resolution string) Event {
	return Event{Kind: kind, Fingerprint: e.Fingerprint, ResourceRef: e.ResourceRef, DriftClass: e.DriftClass, Risk: e.Risk,
		Domain: e.Domain, Owner: e.Owner, Environment: e.Environment, FirstSeen: e.FirstSeen, ChangedAt: e.ChangedAt, At: at, Resolution: resolution}
}

func sortedKeys(m map[string]Entry) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Encode serialises a record canonically with its content-addressed key,
// ledger/<unit>/<sequence>-<evaluated_at>-<kind>-<digest>.json: keys sort in evaluation order,
// a record can never replace a different one, and the kind (KindQuiet, KindEvents,
// KindUnknown) lets a reader that needs only transitions or freshness skip the rest unread.
func (r *Record) Encode() (key string, data []byte, err error) {
	data, err = drift.CanonicalJSON(r)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(data)
	stamp := strings.NewReplacer(":", "", "-", "").Replace(r.EvaluatedAt)
	return fmt.Sprintf("%s/%s/%012d-%s-%s-%s.json", Prefix, r.Unit, r.Sequence, stamp, r.Kind(), hex.EncodeToString(sum[:12])), data, nil
}

// Record kinds, as their keys name them.
const (
	KindQuiet   = "q" // a successful evaluation with no transition
	KindEvents  = "e" // a successful evaluation with transitions
	KindUnknown = "u" // an evaluation that could not observe the unit
)

// Kind is the record's kind from its content (KindQuiet, KindEvents or KindUnknown), as its
// key names it.
func (r *Record) Kind() string { return kindOf(r.Status, len(r.Events) > 0 || r.Reconciles != nil) }

func kindOf(status string, transitions bool) string {
	switch {
	case status == statusUnknown:
		return KindUnknown
	case transitions:
		return KindEvents
	}
	return KindQuiet
}

// KeyInfo is what a record's key says about it.
type KeyInfo struct {
	Key         string
	Sequence    int64
	EvaluatedAt time.Time
	// Kind is KindQuiet, KindEvents or KindUnknown; "" for a key written before kinds were
	// named, which a reader must open to know.
	Kind string
}

// ParseKey reads a record key (false when it is not one). It trusts nothing it cannot check
// later: a reader that opens the record compares it with the key (Decode after ParseKey).
func ParseKey(key string) (KeyInfo, bool) {
	if info, ok := parseKeyFast(key); ok {
		return info, true
	}
	return parseKeySlow(key)
}

// parseKeyFast reads the key Encode writes, <sequence:12>-<YYYYMMDDTHHMMSSZ>-<kind>-<hex>.json,
// without splitting or time.Parse: listing a ledger parses one key per evaluation. Anything it
// does not recognise goes to parseKeySlow, which decides; FuzzParseKey holds the two to the
// same answers.
func parseKeyFast(key string) (KeyInfo, bool) {
	base := key[strings.LastIndexByte(key, '/')+1:]
	const head = 12 + 1 + 16 + 1 + 1 + 1 // sequence-stamp-kind-
	if len(base) <= head+len(".json") || !strings.HasSuffix(base, ".json") || base[12] != '-' || base[29] != '-' || base[31] != '-' {
		return KeyInfo{}, false
	}
	seq, ok := digits(base[:12])
	if !ok {
		return KeyInfo{}, false
	}
	st := base[13:29]
	if st[8] != 'T' || st[15] != 'Z' {
		return KeyInfo{}, false
	}
	year, ok1 := digits(st[0:4])
	month, ok2 := digits(st[4:6])
	day, ok3 := digits(st[6:8])
	hour, ok4 := digits(st[9:11])
	minute, ok5 := digits(st[11:13])
	sec, ok6 := digits(st[13:15])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return KeyInfo{}, false
	}
	at := time.Date(int(year), time.Month(month), int(day), int(hour), int(minute), int(sec), 0, time.UTC)
	if at.Day() != int(day) { // 31 November: time.Parse refuses what time.Date would normalise
		return KeyInfo{}, false
	}
	kind := base[30:31]
	switch kind {
	case KindQuiet, KindEvents, KindUnknown:
	default:
		return KeyInfo{}, false
	}
	if strings.IndexByte(base[head:len(base)-len(".json")], '-') >= 0 {
		return KeyInfo{}, false
	}
	return KeyInfo{Key: key, Sequence: seq, EvaluatedAt: at, Kind: kind}, true
}

// digits reads a run of ASCII digits (false for anything else or nothing).
func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseKeySlow reads any key ParseKey accepts, the keys of records written before kinds were
// named included.
func parseKeySlow(key string) (KeyInfo, bool) {
	base := key[strings.LastIndexByte(key, '/')+1:]
	name, ok := strings.CutSuffix(base, ".json")
	if !ok {
		return KeyInfo{}, false
	}
	parts := strings.Split(name, "-")
	if len(parts) != 3 && len(parts) != 4 {
		return KeyInfo{}, false
	}
	seq, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || len(parts[0]) != 12 {
		return KeyInfo{}, false
	}
	at, err := time.Parse("20060102T150405Z", parts[1])
	if err != nil {
		return KeyInfo{}, false
	}
	info := KeyInfo{Key: key, Sequence: seq, EvaluatedAt: at}
	if len(parts) == 4 {
		switch parts[2] {
		case KindQuiet, KindEvents, KindUnknown:
			info.Kind = parts[2]
		default:
			return KeyInfo{}, false
		}
	}
	return info, true
}

// Keys lists a unit's records by key, in order, without reading them. A key that is not a
// record's is an error: a ledger folder holds nothing else, and skipping it could hide one.
func Keys(ctx context.Context, s Store, unit string) ([]KeyInfo, error) {
	if err := checkUnit(unit); err != nil {
		return nil, err
	}
	keys, err := s.List(ctx, Prefix+"/"+unit+"/")
	if err != nil {
		return nil, fmt.Errorf("ledger of %s: %w", unit, err)
	}
	infos := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		info, ok := ParseKey(k)
		if !ok {
			return nil, fmt.Errorf("ledger of %s: %s is not a ledger record's key", unit, k)
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// Read opens the record a key names and checks that it is what the key says: its unit, time
// and kind (a record whose key hid its transitions could hide drift from readers that skip by
// kind).
func Read(ctx context.Context, s Store, unit string, info KeyInfo) (*Record, error) {
	var r Record
	if err := read(ctx, s, unit, info, &r); err != nil {
		return nil, err
	}
	if err := info.check(unit, r.Unit, r.EvaluatedAt, r.Sequence, r.Kind()); err != nil {
		return nil, err
	}
	return &r, nil
}

// Transitions is what a record says happened at its evaluation, without its open findings,
// budgets and inventory: readers of history (slo, History) open many records and need only this.
type Transitions struct {
	SchemaVersion string      `json:"schema_version"`
	Unit          string      `json:"unit"`
	EvaluatedAt   string      `json:"evaluated_at"`
	Status        string      `json:"status"`
	Sequence      int64       `json:"sequence"`
	Events        []Event     `json:"events,omitempty"`
	Reconciles    *Reconciles `json:"reconciles,omitempty"`
	Owner         string      `json:"owner,omitempty"`
	Environment   string      `json:"environment,omitempty"`
}

// Kind is the record's kind, as Record.Kind says it.
func (t *Transitions) Kind() string {
	return kindOf(t.Status, len(t.Events) > 0 || t.Reconciles != nil)
}

// ReadTransitions is Read for a reader of history: the same checks against the key, without
// decoding what Transitions leaves out (the JSON is still checked whole).
func ReadTransitions(ctx context.Context, s Store, unit string, info KeyInfo) (*Transitions, error) {
	var t Transitions
	if err := read(ctx, s, unit, info, &t); err != nil {
		return nil, err
	}
	if err := info.check(unit, t.Unit, t.EvaluatedAt, t.Sequence, t.Kind()); err != nil {
		return nil, err
	}
	return &t, nil
}

func read(ctx context.Context, s Store, unit string, info KeyInfo, v any) error {
	data, err := s.Get(ctx, info.Key)
	if err != nil {
		return fmt.Errorf("ledger of %s: %w", unit, err)
	}
	return drift.DecodeRecord("ledger record", info.Key, data, MaxRecordBytes, SchemaVersion, v)
}

// check compares what a record says of itself with its key.
func (info KeyInfo) check(unit, recUnit, evaluatedAt string, sequence int64, kind string) error {
	at, err := time.Parse(time.RFC3339, evaluatedAt)
	switch {
	case recUnit != unit:
		return fmt.Errorf("ledger record %s belongs to unit %q, not %q", info.Key, recUnit, unit)
	case err != nil || !at.Equal(info.EvaluatedAt) || sequence != info.Sequence:
		return fmt.Errorf("ledger record %s: its sequence or evaluated_at differs from its key", info.Key)
	case info.Kind != "" && info.Kind != kind:
		return fmt.Errorf("ledger record %s: its key says kind %q, its content %q", info.Key, info.Kind, kind)
	}
	return nil
}

// MaxRecordBytes bounds a record read back.
const MaxRecordBytes = 64 << 20

// Decode reads a record, refusing oversized or hostile nesting and other schemas. name is used in
// messages.
func Decode(name string, data []byte) (*Record, error) {
	var r Record
	if err := drift.DecodeRecord("ledger record", name, data, MaxRecordBytes, SchemaVersion, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Latest returns a unit's newest record and its key (nil and "" when the unit has none). The
// newest is the last key: keys begin with the sequence. Of two records two writers added after
// the same predecessor, the one with the greater key wins and the other stays in the history as
// a branch; both carry the same lifecycle up to their common predecessor.
func Latest(ctx context.Context, s Store, unit string) (*Record, string, error) {
	infos, err := Keys(ctx, s, unit)
	if err != nil || len(infos) == 0 {
		return nil, "", err
	}
	last := infos[len(infos)-1]
	rec, err := Read(ctx, s, unit, last)
	if err != nil {
		return nil, "", err
	}
	return rec, last.Key, nil
}

// Append writes rec, create-only, and returns its key and location. A re-read of the same
// evaluation (prev at the same instant with the same status and open findings, and nothing new)
// is not a new evaluation: it writes nothing and returns prev's key. OpenTofu reads a data source
// several times per run.
func Append(ctx context.Context, s Store, rec *Record, prev *Record) (key, location string, err error) {
	if err := checkUnit(rec.Unit); err != nil {
		return "", "", err
	}
	if prev != nil && len(rec.Events) == 0 && rec.Reconciles == nil && prev.EvaluatedAt == rec.EvaluatedAt && prev.Status == rec.Status && sameOpen(prev.Open, rec.Open) {
		return rec.Previous, "", nil
	}
	key, data, err := rec.Encode()
	if err != nil {
		return "", "", err
	}
	location, err = s.PutContext(ctx, key, data)
	return key, location, err
}

// checkUnit refuses a unit name that would leave the unit's folder of the ledger.
func checkUnit(unit string) error {
	if unit == "" || unit == "." || unit == ".." || strings.ContainsAny(unit, "/\\\x00") {
		return fmt.Errorf("unit name %q cannot name a ledger folder", unit)
	}
	return nil
}

// Age is how long a finding has been open at at (0 when first_seen does not parse).
func (e Entry) Age(at time.Time) time.Duration {
	t, err := time.Parse(time.RFC3339, e.FirstSeen)
	if err != nil || at.Before(t) {
		return 0
	}
	return at.Sub(t).Truncate(time.Second)
}

func sameOpen(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Fingerprint != b[i].Fingerprint || a[i].FindingID != b[i].FindingID || a[i].AcceptedBy != b[i].AcceptedBy {
			return false
		}
	}
	return true
}

// Walk calls fn with each of a unit's records in order, reading one at a time.
func Walk(ctx context.Context, s Store, unit string, fn func(key string, r *Record) error) error {
	infos, err := Keys(ctx, s, unit)
	if err != nil {
		return err
	}
	for _, info := range infos {
		r, err := Read(ctx, s, unit, info)
		if err != nil {
			return err
		}
		if err := fn(info.Key, r); err != nil {
			return err
		}
	}
	return nil
}

// folderLister is a store that lists the folders under a prefix without every key in them
// (blob.Dir, blob.S3Store): Units then reads one name per unit, not one per record.
type folderLister interface {
	ListFolders(ctx context.Context, prefix string) ([]string, error)
}

// Units lists the units that have a ledger in s.
func Units(ctx context.Context, s Store) ([]string, error) {
	if fl, ok := s.(folderLister); ok {
		units, err := fl.ListFolders(ctx, Prefix+"/")
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		return units, nil
	}
	keys, err := s.List(ctx, Prefix+"/")
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	var units []string
	for _, k := range keys {
		rest := strings.TrimPrefix(k, Prefix+"/")
		unit, _, ok := strings.Cut(rest, "/")
		if ok && (len(units) == 0 || units[len(units)-1] != unit) {
			units = append(units, unit)
		}
	}
	return units, nil
}
