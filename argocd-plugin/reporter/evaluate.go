package reporter

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
)

// Policy is what a DriftReport's spec carries.
type Policy struct {
	Unit             *drift.ManagedUnit      `json:"unit"`
	Exceptions       []*drift.Exception      `json:"exceptions,omitempty"`
	AutoHealPolicies []*drift.AutoHealPolicy `json:"autoHealPolicies,omitempty"`
	FreshnessSeconds int64                   `json:"freshnessSeconds,omitempty"`
	Revision         string                  `json:"revision,omitempty"`
}

// PolicyFromSpec decodes and validates a DriftReport spec: a report edited by hand into an
// invalid policy evaluates to an error, never to "clean".
func PolicyFromSpec(spec map[string]any) (*Policy, error) {
	s, err := specFromMap(spec)
	if err != nil {
		return nil, err
	}
	return PolicyFromAPI(s)
}

// Evaluate classifies an application's managed resources against its policy. Hooks and the
// DriftReport itself are not drift; a resource Argo CD does not target (extraneous) is left to
// Argo CD's own pruning; a targeted resource missing live is a finding. An answer with no
// resources, or with no target state at all, is what Argo CD returns when it could not render or
// compare the application: that is an error (drift unknown), never "clean". Objects are compared
// with the unit's options (kube.UnitOptions), the audit log when given (who changed what, and
// whether a field manager's name can be believed) and extra (kube.WithDigester: the
// installation's key for Secret data).
func Evaluate(p *Policy, resources []ResourceDiff, audit *kube.AuditLog, now time.Time, extra ...kube.CompareOption) (*drift.Report, []drift.Observation, error) {
	req, err := evaluationRequest(p, resources, audit, now, "", extra...)
	if err != nil {
		return nil, nil, err
	}
	res, err := pipeline.Run(context.Background(), req)
	if err != nil {
		return nil, nil, err
	}
	return res.Report, res.Observations, nil
}

// evaluationRequest translates an application's managed resources into the pipeline's request;
// label names them in the evidence record.
func evaluationRequest(p *Policy, resources []ResourceDiff, audit *kube.AuditLog, now time.Time, label string, extra ...kube.CompareOption) (pipeline.Request, error) {
	if err := checkTargets(resources); err != nil {
		return pipeline.Request{}, err
	}
	var pairs []pipeline.ObjectPair
	for _, r := range resources {
		if r.Hook || (r.Group == drift.GroupName && r.Kind == drift.KindDriftReport) {
			continue
		}
		target, err := decodeState(r.TargetState)
		if err != nil {
			return pipeline.Request{}, fmt.Errorf("%s %s/%s target state: %w", r.Kind, r.Namespace, r.Name, err)
		}
		if target == nil {
			continue
		}
		live, err := decodeState(r.LiveState)
		if err != nil {
			return pipeline.Request{}, fmt.Errorf("%s %s/%s live state: %w", r.Kind, r.Namespace, r.Name, err)
		}
		pairs = append(pairs, pipeline.ObjectPair{Desired: target, Live: live})
	}
	return pipeline.Request{
		Unit: p.Unit, Exceptions: p.Exceptions, At: now, Tool: "argocd-driftplane report",
		Source: pipeline.KubernetesObjects{Pairs: pairs, Audit: audit, Options: extra, Label: label},
	}, nil
}

func decodeState(s string) (map[string]any, error) {
	if s == "" || s == "null" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkTargets refuses an answer that cannot stand for Git: empty, or with every target state
// null (hooks aside).
func checkTargets(resources []ResourceDiff) error {
	if len(resources) == 0 {
		return failf(ReasonIncompleteAnswer, "argocd-server returned no managed resources: Argo CD has not compared the application, so drift is unknown")
	}
	targets, considered := 0, 0
	for _, r := range resources {
		if r.Hook {
			continue
		}
		considered++
		if r.TargetState != "" && r.TargetState != "null" {
			targets++
		}
	}
	if targets == 0 {
		return failf(ReasonIncompleteAnswer, "argocd-server returned no target state for any of the %d managed resources: Argo CD could not render the application from Git, so drift is unknown", considered)
	}
	return nil
}
