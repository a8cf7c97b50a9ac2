package reporter

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// The reporter reads and writes DriftReports through the typed API (api/v1alpha1): the dynamic
// client's unstructured objects are converted to and from v1alpha1.DriftReport, and the status
// the reporter works with (Status, whose findings are the core's drift.Finding) to and from
// v1alpha1.DriftReportStatus.

// maxConditionMessage is metav1.Condition's bound on a message; the API server refuses a longer one.
const maxConditionMessage = 32768

// StatusToAPI is the status as the DriftReport API holds it.
func StatusToAPI(s Status) v1alpha1.DriftReportStatus {
	out := v1alpha1.DriftReportStatus{
		LastEvaluatedAt:    s.LastEvaluatedAt,
		LastEvaluatedEpoch: s.LastEvaluatedEpoch,
		ObservedGeneration: s.ObservedGeneration,
		ObservedRevision:   s.ObservedRevision,
		Gate:               s.Gate,
		WorstRisk:          s.WorstRisk,
		BlockingCount:      s.BlockingCount,
		Summary:            s.Summary,
		CountsByRisk:       s.CountsByRisk,
		CountsByClass:      s.CountsByClass,
		Budgets:            s.Budgets,
		Inventory:          s.Inventory,
		Reconcile:          s.Reconcile,
		Reconciliations:    s.Reconciliations,
		Images:             s.Images,
		Warnings:           s.Warnings,
	}
	if s.Findings != nil {
		out.Findings = make([]v1alpha1.Finding, 0, len(s.Findings))
	}
	for _, f := range s.Findings {
		out.Findings = append(out.Findings, f.ToAPI())
	}
	for _, c := range s.Conditions {
		c.Message = truncateUTF8(c.Message, maxConditionMessage)
		out.Conditions = append(out.Conditions, c)
	}
	if h := s.AutoHeal; h != nil {
		// HealTarget is the API's type.
		out.AutoHeal = &v1alpha1.AutoHealRecord{At: h.At, Skipped: h.Skipped, Error: h.Error, Healed: append([]HealTarget(nil), h.Healed...),
			Failed: append([]HealTarget(nil), h.Failed...)}
	}
	return out
}

// StatusFromAPI is the reporter's status of a DriftReport's.
func StatusFromAPI(a *v1alpha1.DriftReportStatus) Status {
	s := Status{
		LastEvaluatedAt:    a.LastEvaluatedAt,
		LastEvaluatedEpoch: a.LastEvaluatedEpoch,
		ObservedGeneration: a.ObservedGeneration,
		ObservedRevision:   a.ObservedRevision,
		Gate:               a.Gate,
		WorstRisk:          a.WorstRisk,
		BlockingCount:      a.BlockingCount,
		Summary:            a.Summary,
		CountsByRisk:       a.CountsByRisk,
		CountsByClass:      a.CountsByClass,
		Budgets:            a.Budgets,
		Inventory:          a.Inventory,
		Conditions:         a.Conditions,
		Reconcile:          a.Reconcile,
		Reconciliations:    a.Reconciliations,
		Images:             a.Images,
		Warnings:           a.Warnings,
	}
	if a.Findings != nil {
		s.Findings = make([]StatusFinding, 0, len(a.Findings))
	}
	for _, f := range a.Findings {
		s.Findings = append(s.Findings, drift.ObjectFindingFromAPI(f))
	}
	if h := a.AutoHeal; h != nil {
		s.AutoHeal = &HealRecord{At: h.At, Skipped: h.Skipped, Error: h.Error, Healed: append([]HealTarget(nil), h.Healed...),
			Failed: append([]HealTarget(nil), h.Failed...)}
	}
	return s
}

// truncateUTF8 cuts s to at most n bytes, never inside a UTF-8 sequence.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// PolicyFromAPI validates a DriftReport spec and returns the policy it carries.
func PolicyFromAPI(spec *v1alpha1.DriftReportSpec) (*Policy, error) {
	p := &Policy{FreshnessSeconds: spec.FreshnessSeconds, Revision: spec.Revision}
	if spec.Unit != nil {
		p.Unit = drift.UnitFromAPI(spec.Unit)
	}
	for _, e := range spec.Exceptions {
		var ce *drift.Exception
		if e != nil {
			ce = drift.ExceptionFromAPI(e)
		}
		p.Exceptions = append(p.Exceptions, ce)
	}
	for _, a := range spec.AutoHealPolicies {
		var ca *drift.AutoHealPolicy
		if a != nil {
			ca = drift.AutoHealPolicyFromAPI(a)
		}
		p.AutoHealPolicies = append(p.AutoHealPolicies, ca)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// validate refuses a policy edited by hand into an invalid one: it evaluates to an error, never
// to "clean".
func (p *Policy) validate() error {
	if p.Unit == nil {
		return fmt.Errorf("DriftReport spec has no unit")
	}
	if err := p.Unit.Validate(); err != nil {
		return fmt.Errorf("DriftReport spec.unit: %w", err)
	}
	for i, e := range p.Exceptions {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("DriftReport spec.exceptions[%d]: %w", i, err)
		}
	}
	for i, a := range p.AutoHealPolicies {
		if a == nil {
			return fmt.Errorf("DriftReport spec.autoHealPolicies[%d] is empty", i)
		}
		if err := a.Validate(); err != nil {
			return fmt.Errorf("DriftReport spec.autoHealPolicies[%d]: %w", i, err)
		}
	}
	return nil
}

// specFromMap decodes a DriftReport spec as Argo CD's answer carries it (JSON).
func specFromMap(spec map[string]any) (*v1alpha1.DriftReportSpec, error) {
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var s v1alpha1.DriftReportSpec
	if err := json.Unmarshal(js, &s); err != nil {
		return nil, fmt.Errorf("DriftReport spec: %w", err)
	}
	return &s, nil
}
