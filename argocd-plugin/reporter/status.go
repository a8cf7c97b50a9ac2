package reporter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// StatusFinding is a finding as the DriftReport status holds it: the core's finding with the
// object's group, kind, namespace and name.
type StatusFinding = drift.ObjectFinding

// Condition is a DriftReport status condition.
type Condition = metav1.Condition

// Status is the DriftReport status the reporter writes, with the core's findings; on the API it
// is a v1alpha1.DriftReportStatus (StatusToAPI, StatusFromAPI).
type Status struct {
	LastEvaluatedAt    string           `json:"lastEvaluatedAt,omitempty"`
	LastEvaluatedEpoch int64            `json:"lastEvaluatedEpoch,omitempty"`
	ObservedGeneration int64            `json:"observedGeneration,omitempty"`
	ObservedRevision   string           `json:"observedRevision,omitempty"`
	Gate               string           `json:"gate,omitempty"`
	WorstRisk          string           `json:"worstRisk,omitempty"`
	BlockingCount      int              `json:"blockingCount"`
	Summary            string           `json:"summary,omitempty"`
	CountsByRisk       map[string]int64 `json:"countsByRisk,omitempty"`
	CountsByClass      map[string]int64 `json:"countsByClass,omitempty"`
	Findings           []StatusFinding  `json:"findings"`
	Conditions         []Condition      `json:"conditions,omitempty"`
	// Budgets are the unit's drift budgets at the last evaluation.
	Budgets []drift.BudgetState `json:"budgets,omitempty"`
	// Inventory is what the application declares and what was found running (M7).
	Inventory *drift.Inventory `json:"inventory,omitempty"`
	// AutoHeal records the last bounded auto-heal: what was synced back to Git and why the rest
	// was not.
	AutoHeal *HealRecord `json:"autoHeal,omitempty"`
	// Images are the digests the workloads ran (live.RecordKey → digest), for the next evaluation.
	Images map[string]string `json:"images,omitempty"`
	// Warnings are what the evaluation could not judge.
	Warnings []string `json:"warnings,omitempty"`
	// Reconcile is the per-path history reconcile thrash is judged on (keyed digests, never values).
	Reconcile *drift.ReconcileTracking `json:"reconcile,omitempty"`
	// Reconciliations are the unit's pull requests accepting drift into Git (spec.pullRequests).
	Reconciliations []v1alpha1.Reconciliation `json:"reconciliations,omitempty"`
}

// HealRecord is one auto-heal decision and its outcome.
type HealRecord struct {
	At     string       `json:"at"`
	Healed []HealTarget `json:"healed,omitempty"`
	// Failed are the objects whose sync was asked for and failed (Error says why).
	Failed  []HealTarget `json:"failed,omitempty"`
	Skipped []string     `json:"skipped,omitempty"`
	Error   string       `json:"error,omitempty"`
}

// Condition types and reasons. Every reason but ReasonEvaluated comes with Evaluated=False: drift
// is unknown, and the health check says Unknown, never Healthy.
const (
	ConditionEvaluated = "Evaluated"
	ReasonEvaluated    = "Evaluated"
	ReasonFailed       = "EvaluationFailed"
	// ReasonComparisonError and ReasonInvalidSpec: Argo CD itself could not compare the
	// application (its ComparisonError or InvalidSpecError condition), so its answer is not Git's.
	ReasonComparisonError = "ComparisonError"
	ReasonInvalidSpec     = "InvalidSpecError"
	// ReasonSyncUnknown: Argo CD reports the application's sync status Unknown.
	ReasonSyncUnknown = "SyncStatusUnknown"
	// ReasonIncompleteAnswer: argocd-server's managed-resources answer is empty, has no target
	// state at all, or does not hold the application's own DriftReport.
	ReasonIncompleteAnswer = "IncompleteAnswer"
	// ReasonNotOwnReport: the DriftReport is not the application's own (spec.application, Argo
	// CD's tracking, or another application lists it too); its policy is not used.
	ReasonNotOwnReport = "NotOwnReport"
	// ReasonPanic: the evaluation panicked; the reporter recovered and carries on.
	ReasonPanic = "EvaluationPanicked"
)

// Failure is an evaluation that could not decide, with the condition reason saying why.
type Failure struct {
	Reason  string
	Message string
}

func (f *Failure) Error() string { return f.Message }

func failf(reason, format string, args ...any) error {
	return &Failure{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// reasonOf is the condition reason of a failed evaluation.
func reasonOf(err error) string {
	var f *Failure
	if errors.As(err, &f) && f.Reason != "" {
		return f.Reason
	}
	return ReasonFailed
}

// StatusFromReport builds the status of a successful evaluation.
func StatusFromReport(rep *drift.Report, obs []drift.Observation, generation int64, revision string, now time.Time, prev *Status) Status {
	tally := drift.TallyOf(rep.Findings)
	s := Status{
		LastEvaluatedAt:    now.UTC().Format(time.RFC3339),
		LastEvaluatedEpoch: now.Unix(),
		ObservedGeneration: generation,
		ObservedRevision:   revision,
		Gate:               rep.Gate,
		WorstRisk:          string(tally.WorstRisk),
		BlockingCount:      rep.BlockingCount,
		Summary:            rep.Summary,
		CountsByRisk:       tally.ByRisk,
		CountsByClass:      tally.ByClass,
		Findings:           drift.ObjectFindings(rep.Findings, obs),
		Budgets:            rep.Budgets,
	}
	if len(obs) > 0 {
		inv := drift.InventoryOf(obs)
		s.Inventory = &inv
	}
	carryFirstObserved(s.Findings, prev, now)
	s.Conditions = setCondition(prevConditions(prev), Condition{
		Type: ConditionEvaluated, Status: metav1.ConditionTrue, Reason: ReasonEvaluated, Message: rep.Summary, ObservedGeneration: generation,
	}, now)
	return s
}

// StatusFromError keeps the last findings but marks the evaluation failed, so health turns
// Unknown ("drift is unknown") instead of keeping a stale Healthy.
func StatusFromError(err error, generation int64, now time.Time, prev *Status) Status {
	s := Status{Findings: []StatusFinding{}}
	if prev != nil {
		s = *prev
	}
	if s.LastEvaluatedEpoch == 0 {
		// Never evaluated: the health check needs a time to report the failure against.
		s.LastEvaluatedAt, s.LastEvaluatedEpoch = now.UTC().Format(time.RFC3339), now.Unix()
	}
	s.Conditions = setCondition(prevConditions(prev), Condition{
		Type: ConditionEvaluated, Status: metav1.ConditionFalse, Reason: reasonOf(err), Message: err.Error(), ObservedGeneration: generation,
	}, now)
	return s
}

func prevConditions(prev *Status) []Condition {
	if prev == nil {
		return nil
	}
	return prev.Conditions
}

// setCondition sets c among a copy of conds (meta.SetStatusCondition: the transition time moves
// only when the status changes), stamped with now in whole seconds, as the API serializes it.
func setCondition(conds []Condition, c Condition, now time.Time) []Condition {
	out := append([]Condition(nil), conds...)
	c.LastTransitionTime = metav1.NewTime(now.UTC().Truncate(time.Second))
	meta.SetStatusCondition(&out, c)
	return out
}

// Transition is an event-worthy change of an application's blocking drift.
type Transition struct {
	Type    string // Warning or Normal
	Reason  string
	Message string
}

// Transitions compares two statuses: new blocking findings raise a warning naming them, and the
// last blocking finding clearing raises a normal event.
func Transitions(prev *Status, next Status) []Transition {
	before := map[string]bool{}
	if prev != nil {
		for _, f := range prev.Findings {
			if f.Blocking {
				before[f.FindingID] = true
			}
		}
	}
	var appeared []string
	for _, f := range next.Findings {
		if f.Blocking && !before[f.FindingID] {
			what := f.ResourceRef
			if f.Kind != "" {
				what = f.Kind + "/" + f.Name
			}
			appeared = append(appeared, what+" "+string(f.DriftClass)+" "+string(f.Risk)+" "+strings.Join(f.ChangedFields, ","))
		}
	}
	var out []Transition
	// Drift turning unknown is news too: say why, once per reason.
	if c := conditionOf(&next, ConditionEvaluated); c != nil && c.Status != metav1.ConditionTrue {
		if p := conditionOf(prev, ConditionEvaluated); p == nil || p.Status != c.Status || p.Reason != c.Reason {
			out = append(out, Transition{Type: "Warning", Reason: "DriftUnknown", Message: "Drift is unknown (" + c.Reason + "): " + c.Message})
		}
	}
	if len(appeared) > 0 {
		out = append(out, Transition{Type: "Warning", Reason: "DriftBlocking",
			Message: "Unaccepted drift at or above gate " + next.Gate + ": " + strings.Join(appeared, "; ")})
	}
	if len(before) > 0 && next.BlockingCount == 0 {
		out = append(out, Transition{Type: "Normal", Reason: "DriftCleared", Message: "No unaccepted drift at or above gate " + next.Gate})
	}
	return out
}

func conditionOf(s *Status, typ string) *Condition {
	if s == nil {
		return nil
	}
	return meta.FindStatusCondition(s.Conditions, typ)
}

// carryFirstObserved stamps each finding with when this report first showed it: the earliest of
// the ledger's first sighting and the previous status's, by fingerprint, else now. It needs no
// ledger, so an application's drift has an age from its second evaluation on.
func carryFirstObserved(fs []StatusFinding, prev *Status, now time.Time) {
	before := map[string]string{}
	if prev != nil {
		for _, f := range prev.Findings {
			if f.Fingerprint != "" && f.FirstObservedAt != "" {
				before[f.Fingerprint] = f.FirstObservedAt
			}
		}
	}
	stamp := now.UTC().Format(time.RFC3339)
	for i := range fs {
		f := &fs[i]
		if f.Fingerprint == "" {
			f.Fingerprint = drift.Fingerprint(f.Finding)
		}
		f.FirstObservedAt = stamp
		for _, t := range []string{f.FirstSeen, before[f.Fingerprint]} {
			if t != "" && t < f.FirstObservedAt {
				f.FirstObservedAt = t
			}
		}
	}
}
