package reporter

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// fullStatus sets every field of a status, so a field the conversion forgets shows.
func fullStatus() Status {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return Status{
		LastEvaluatedAt: at.Format(time.RFC3339), LastEvaluatedEpoch: at.Unix(), ObservedGeneration: 3, ObservedRevision: "0123abc",
		Gate: "high", WorstRisk: "HIGH", BlockingCount: 1, Summary: "1 finding(s)",
		CountsByRisk: map[string]int64{"HIGH": 1}, CountsByClass: map[string]int64{"UNAUTHORIZED_RUNTIME_DRIFT": 1},
		Findings: []StatusFinding{{Finding: drift.Finding{
			FindingID: "drift-1", DetectedAt: at.Format(time.RFC3339), Unit: "web", Owner: "team", Environment: "prod", Domain: "workload",
			ResourceRef: "apps/v1/Deployment/web/web", DriftClass: drift.ClassUnauthorizedRuntime, Risk: drift.RiskHigh,
			ChangedFields: []string{"/spec/replicas"}, SensitiveFields: []string{"/data/x"}, RecommendedAction: drift.ActionIncidentAndRevert,
			AutoHealAllowed: true, AcceptedBy: "EXC-1", Actor: "alice",
			ActorDetail: &drift.Actor{Username: "alice", Groups: []string{"devs"}, UserAgent: "kubectl", Time: at.Format(time.RFC3339), Manager: "kubectl-edit", Kind: "human"},
			Evidence:    "sha256:00", Rule: "r1", Deleted: true, Blocking: true, Explanation: "x",
			Fingerprint: "fp-1", FirstSeen: at.Format(time.RFC3339), Age: "1h0m0s",
		}, Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web", FirstObservedAt: at.Format(time.RFC3339)}},
		Budgets: []drift.BudgetState{{Name: "identity-zero", State: drift.BudgetExhausted, Open: 1, Reason: "1 open, at most 0 allowed", Since: at.Format(time.RFC3339)}},
		Conditions: []Condition{{Type: ConditionEvaluated, Status: metav1.ConditionTrue, Reason: ReasonEvaluated, Message: "ok",
			LastTransitionTime: metav1.NewTime(at), ObservedGeneration: 3}},
		AutoHeal: &HealRecord{At: at.Format(time.RFC3339), Skipped: []string{"y"}, Error: "e",
			Healed: []HealTarget{{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web", Findings: []string{"drift-1"}, Paths: []string{"/metadata/labels/a"}, Policy: "p"}}},
	}
}

// TestStatusThroughTheAPI: the status the reporter works with and the API's DriftReportStatus are
// the same JSON, and convert into each other without loss.
func TestStatusThroughTheAPI(t *testing.T) {
	s := fullStatus()
	want, _ := json.Marshal(s)
	got, _ := json.Marshal(StatusToAPI(s))
	var w, g any
	_ = json.Unmarshal(want, &w)
	_ = json.Unmarshal(got, &g)
	if !reflect.DeepEqual(w, g) {
		t.Errorf("API status JSON differs:\n reporter %s\n api      %s", want, got)
	}
	api := StatusToAPI(s)
	if back := StatusFromAPI(&api); !reflect.DeepEqual(back, s) {
		t.Errorf("round trip:\n got  %+v\n want %+v", back, s)
	}
	m, err := toUnstructured(s)
	if err != nil {
		t.Fatal(err)
	}
	prev := currentStatus(&unstructured.Unstructured{Object: map[string]any{"status": m}})
	if prev == nil {
		t.Fatal("no status read back")
	}
	// Times come back in the local zone: compare as JSON.
	if back, _ := json.Marshal(prev); string(back) != string(want) {
		t.Errorf("read back through the unstructured object:\n got  %s\n want %s", back, want)
	}
}

// TestConditionMessageBounded: a message longer than metav1.Condition allows is cut (at a UTF-8
// boundary) so the API server still takes the status.
func TestConditionMessageBounded(t *testing.T) {
	s := fullStatus()
	s.Conditions[0].Message = strings.Repeat("é", maxConditionMessage)
	msg := StatusToAPI(s).Conditions[0].Message
	if len(msg) > maxConditionMessage || !strings.HasPrefix(s.Conditions[0].Message, msg) || len(msg) < maxConditionMessage-1 {
		t.Errorf("message of %d bytes", len(msg))
	}
}
