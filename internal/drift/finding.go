package drift

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Finding is one resource's classified drift (DESIGN.md's finding schema).
type Finding struct {
	FindingID   string `json:"finding_id"`
	DetectedAt  string `json:"detected_at,omitempty"`
	Unit        string `json:"unit"`
	Owner       string `json:"owner"`
	Environment string `json:"environment"`
	Domain      string `json:"domain"`
	ResourceRef string `json:"resource_ref"`
	DriftClass  Class  `json:"drift_class"`
	Risk        Risk   `json:"risk"`
	// ChangedFields are JSON pointers into the resource; empty when the resource was deleted.
	ChangedFields []string `json:"changed_fields"`
	// SensitiveFields are the changed fields whose values were redacted (reported by path only).
	SensitiveFields   []string `json:"sensitive_fields,omitempty"`
	RecommendedAction Action   `json:"recommended_action"`
	AutoHealAllowed   bool     `json:"auto_heal_allowed"`
	AcceptedBy        string   `json:"accepted_by"`
	// Actor is the username of who made the change, when an audit source says so.
	Actor       string `json:"actor"`
	ActorDetail *Actor `json:"actor_detail,omitempty"`
	// Evidence digests the normalized before/after of the changed fields (sensitive values
	// enter only as their own digests).
	Evidence string `json:"evidence"`
	// Rule is the decision-table row that classified the finding.
	Rule string `json:"rule"`
	// PolicyRule is the id of the unit's policy rule the resource violates (or could not be
	// judged by); empty for drift between the planes.
	PolicyRule string `json:"policy_rule,omitempty"`
	// Deleted marks a resource that no longer exists outside IaC.
	Deleted bool `json:"deleted,omitempty"`
	// ProviderUpgrade marks drift seen while the resource's provider changed version between the
	// recorded state and the plan.
	ProviderUpgrade bool `json:"provider_upgrade,omitempty"`
	// Blocking is true when the finding is unaccepted and at or above the unit's gate.
	Blocking bool `json:"blocking"`
	// Explanation says why the finding was or was not accepted, and who owns expected drift.
	Explanation string `json:"explanation,omitempty"`
	// Fingerprint names the drift across evaluations (unit, resource, class and changed paths,
	// never values); FirstSeen is when the ledger first saw it and Age how long it has been open at
	// this evaluation. All three are empty when no ledger is kept.
	Fingerprint string `json:"fingerprint,omitempty"`
	FirstSeen   string `json:"first_seen,omitempty"`
	Age         string `json:"age,omitempty"`
	// Changes are the normalized before/after values behind the finding (sensitive ones as
	// digests). They go only into evidence records, never into attributes or diagnostics.
	Changes []Change `json:"-"`
}

// Report is the outcome of evaluating one unit.
type Report struct {
	Unit          string    `json:"unit"`
	Gate          string    `json:"gate"`
	Status        string    `json:"status"`
	Findings      []Finding `json:"findings"`
	BlockingCount int       `json:"blocking_count"`
	Summary       string    `json:"summary"`
	// Warnings are problems that do not change the result (e.g. an exception for another unit).
	Warnings []string `json:"warnings,omitempty"`
	// Budgets are the states of the unit's drift budgets (ApplyBudgets).
	Budgets []BudgetState `json:"budgets,omitempty"`
}

// Report statuses.
const (
	StatusClean   = "clean"
	StatusDrifted = "drifted"
)

// Blocking returns the blocking findings.
func (r *Report) Blocking() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Blocking {
			out = append(out, f)
		}
	}
	return out
}

// Describe renders a finding for a human without any value, only paths.
func (f *Finding) Describe() string {
	fields := "the whole resource (deleted outside IaC)"
	if f.PolicyRule != "" && len(f.ChangedFields) == 0 {
		fields = "nothing (policy rule " + f.PolicyRule + " judges the resource as it runs)"
	} else if !f.Deleted {
		fields = strings.Join(f.ChangedFields, ", ")
		if len(f.SensitiveFields) > 0 {
			fields += " (sensitive, values withheld: " + strings.Join(f.SensitiveFields, ", ") + ")"
		}
	}
	s := fmt.Sprintf("%s: %s, risk %s, changed %s; recommended action %s", f.ResourceRef, f.DriftClass, f.Risk, fields, f.RecommendedAction)
	if f.Explanation != "" {
		s += ". " + f.Explanation
	}
	return s
}

func findingID(unit, ref string, paths []string, evidence string) string {
	h := sha256.New()
	for _, part := range append([]string{unit, ref, evidence}, paths...) {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "drift-" + hex.EncodeToString(h.Sum(nil))[:24]
}

func evidenceDigest(ref string, deleted bool, changes []Change) string {
	type entry struct {
		Path   string `json:"path"`
		Before any    `json:"before"`
		After  any    `json:"after"`
	}
	doc := struct {
		Ref     string  `json:"ref"`
		Deleted bool    `json:"deleted,omitempty"`
		Changes []entry `json:"changes"`
	}{Ref: ref, Deleted: deleted}
	for _, c := range changes {
		doc.Changes = append(doc.Changes, entry{c.Path.String(), normalizeForEvidence(c.Before), normalizeForEvidence(c.After)})
	}
	return ContentDigest(doc)
}

// normalizeForEvidence makes JSON-document strings canonical so re-serialisation does not change
// the evidence digest.
func normalizeForEvidence(v any) any {
	if s, ok := v.(string); ok {
		if d, ok := parseJSONDocument(s); ok {
			if isPolicyDocument(d) {
				d = normalizePolicy(d)
			}
			return numbersNormalized(d)
		}
	}
	return v
}

func summarize(r *Report, t *Table) string {
	if len(r.Findings) == 0 {
		return "no drift"
	}
	byRisk := map[Risk]int{}
	expected, accepted := 0, 0
	for _, f := range r.Findings {
		switch {
		case t.Expected(f.DriftClass):
			expected++
		case f.AcceptedBy != "":
			accepted++
		default:
			byRisk[f.Risk]++
		}
	}
	var parts []string
	for i := len(Risks) - 1; i >= 0; i-- {
		if n := byRisk[Risks[i]]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, Risks[i]))
		}
	}
	s := fmt.Sprintf("%d finding(s)", len(r.Findings))
	if len(parts) > 0 {
		s += ", unaccepted: " + strings.Join(parts, ", ")
	}
	if accepted > 0 {
		s += fmt.Sprintf(", %d accepted by exception", accepted)
	}
	if expected > 0 {
		s += fmt.Sprintf(", %d expected (controller-owned or provider read noise)", expected)
	}
	gate := r.Gate
	if gate == "" {
		gate = GateNone
	}
	s += fmt.Sprintf("; %d blocking at gate %s", r.BlockingCount, gate)
	for _, b := range r.Budgets {
		if b.State == BudgetExhausted {
			s += fmt.Sprintf("; budget %s exhausted since %s", b.Name, b.Since)
		}
	}
	return s
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].ResourceRef != fs[j].ResourceRef {
			return fs[i].ResourceRef < fs[j].ResourceRef
		}
		return fs[i].FindingID < fs[j].FindingID
	})
}

// Tally is a report's findings counted by risk and by class, with the worst risk among the
// unaccepted findings of unexpected classes ("" when there is none).
type Tally struct {
	ByRisk    map[string]int64
	ByClass   map[string]int64
	WorstRisk Risk
}

// TallyOf counts fs.
func TallyOf(fs []Finding) Tally {
	t := Tally{ByRisk: map[string]int64{}, ByClass: map[string]int64{}}
	worst := -1
	for _, f := range fs {
		t.ByRisk[string(f.Risk)]++
		t.ByClass[string(f.DriftClass)]++
		if !f.DriftClass.Expected() && f.AcceptedBy == "" && f.Risk.Level() > worst {
			worst, t.WorstRisk = f.Risk.Level(), f.Risk
		}
	}
	return t
}

// Fingerprint identifies a finding across evaluations: unit, resource, class and the changed
// paths, never the values, so a drift that keeps changing value stays one drift.
func Fingerprint(f Finding) string {
	fields := append([]string(nil), f.ChangedFields...)
	sort.Strings(fields)
	if f.PolicyRule != "" {
		// One drift per violated rule; the prefix cannot be a JSON pointer, so no path collides.
		fields = append(fields, "policy_rule:"+f.PolicyRule)
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Unit, f.ResourceRef, string(f.DriftClass), strings.Join(fields, "\x00")}, "\x01")))
	return "fp-" + hex.EncodeToString(sum[:10])
}
