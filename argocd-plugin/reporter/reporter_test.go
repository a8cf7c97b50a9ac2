package reporter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/generate"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

func reportSpec(t *testing.T, dir string) map[string]any {
	t.Helper()
	out, err := generate.Generate(dir, generate.Options{Env: map[string]string{generate.EnvAppName: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(out), "\n---\n")
	var report map[string]any
	if err := yaml.Unmarshal([]byte(docs[len(docs)-1]), &report); err != nil {
		t.Fatal(err)
	}
	return report["spec"].(map[string]any)
}

func TestPolicyFromSpec(t *testing.T) {
	p, err := PolicyFromSpec(reportSpec(t, "../generate/testdata/plain"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Unit.Metadata.Name != "payments-web" || len(p.Exceptions) != 1 || len(p.AutoHealPolicies) != 1 || p.FreshnessSeconds != 900 {
		t.Errorf("policy %+v", p)
	}
	spec := reportSpec(t, "../generate/testdata/plain")
	spec["unit"].(map[string]any)["spec"].(map[string]any)["gate"] = "sometimes"
	if _, err := PolicyFromSpec(spec); err == nil || !strings.Contains(err.Error(), `spec.gate: "sometimes"`) {
		t.Errorf("a hand-edited invalid policy must not evaluate: %v", err)
	}
	if _, err := PolicyFromSpec(map[string]any{}); err == nil {
		t.Error("a spec without a unit must not evaluate")
	}
}

// TestEvaluateLiveCluster builds Argo CD's managed-resources answer from a real kube-apiserver
// (target = the manifests, live = the objects as the API serves them) after a human, a controller,
// an injector and a break-glass engineer changed them, and checks findings, status and events.
func TestEvaluateLiveCluster(t *testing.T) {
	c := kubetest.Start(t)
	sc := kubetest.SetUpScenario(t, c)
	manifests, err := kube.LoadManifests(sc.GateDir)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.RESTConfig("admin", "system:masters"))
	if err != nil {
		t.Fatal(err)
	}
	var resources []ResourceDiff
	for _, m := range manifests {
		gvk := m.Object.GroupVersionKind()
		gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: kube.Resource(gvk.Group, gvk.Kind)}
		target, _ := json.Marshal(m.Object.Object)
		rd := ResourceDiff{Group: gvk.Group, Kind: gvk.Kind, Namespace: m.Object.GetNamespace(), Name: m.Object.GetName(), TargetState: string(target), LiveState: "null"}
		if live, err := dyn.Resource(gvr).Namespace(rd.Namespace).Get(context.Background(), rd.Name, metav1.GetOptions{}); err == nil {
			b, _ := json.Marshal(live.Object)
			rd.LiveState = string(b)
		}
		resources = append(resources, rd)
	}
	resources = append(resources, ResourceDiff{Group: drift.GroupName, Kind: "DriftReport", Name: "web", TargetState: `{"kind":"DriftReport"}`},
		ResourceDiff{Kind: "Job", Name: "pre-sync", Hook: true, TargetState: `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pre-sync"}}`})

	policy := &Policy{Unit: &drift.ManagedUnit{Metadata: drift.Metadata{Name: "web-prod"}, Spec: drift.UnitSpec{
		Kind: drift.UnitKubernetes, Owner: "team-web", Environment: "prod", RiskTier: "high", Gate: "high",
		BreakGlassGroups: []string{kubetest.BreakGlass},
		OwnershipRules: []drift.OwnershipRule{{Resource: drift.ResourceMatch{Group: "apps", Kind: "Deployment"},
			ControllerOwned: []drift.ControllerPath{{Path: "/spec/replicas", Owner: "horizontal-pod-autoscaler"}}}},
	}}}
	audit, err := kube.ReadAuditLogFile(c.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rep, obs, err := Evaluate(policy, resources, audit, now)
	if err != nil {
		t.Fatal(err)
	}
	st := StatusFromReport(rep, obs, 3, "0123abc", now, nil)
	if st.BlockingCount != 1 || st.WorstRisk != "HIGH" || st.Gate != "high" || st.ObservedGeneration != 3 || st.LastEvaluatedEpoch != now.Unix() {
		t.Errorf("status: %+v", st)
	}
	first := st.Findings[0]
	if !first.Blocking || first.Kind != "Deployment" || first.Name != "web" || first.Actor != "alice" ||
		strings.Join(first.ChangedFields, ",") != "/spec/template/spec/containers/name=app/image" {
		t.Errorf("first finding must be the blocking image change by alice: %+v", first)
	}
	if st.CountsByClass["CONTROLLER_OWNED_DRIFT"] != 2 || st.CountsByClass["UNAUTHORIZED_RUNTIME_DRIFT"] != 1 || st.CountsByClass["EMERGENCY_DRIFT"] != 1 || st.CountsByClass["STATE_DRIFT"] != 1 {
		t.Errorf("counts by class %v", st.CountsByClass)
	}
	tr := Transitions(nil, st)
	if len(tr) != 1 || tr[0].Reason != "DriftBlocking" || !strings.Contains(tr[0].Message, "Deployment/web UNAUTHORIZED_RUNTIME_DRIFT HIGH /spec/template/spec/containers/name=app/image") {
		t.Errorf("transitions %+v", tr)
	}
	if again := Transitions(&st, st); len(again) != 0 {
		t.Errorf("an unchanged status raised events: %+v", again)
	}

	// The human's image change accepted: blocking clears, and one event says so.
	policy.Exceptions = []*drift.Exception{{Metadata: drift.Metadata{Name: "EXC-78"}, Spec: drift.ExceptionSpec{
		Unit: "web-prod", Resource: "apps/v1/Deployment/web/web", Paths: []string{"/spec/template/spec/containers/name=app/image"},
		DriftClass: "UNAUTHORIZED_RUNTIME_DRIFT", Reason: "hotfix", Ticket: "CHG-1", ApprovedBy: "lead",
		ExpiresAt: now.Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}}} // within the 90-day lifetime (issue 9 class 2)
	rep2, obs2, err := Evaluate(policy, resources, audit, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	st2 := StatusFromReport(rep2, obs2, 3, "0123abc", now.Add(time.Minute), &st)
	if st2.BlockingCount != 0 {
		t.Errorf("blocking %d after the exception", st2.BlockingCount)
	}
	tr = Transitions(&st, st2)
	if len(tr) != 1 || tr[0].Reason != "DriftCleared" {
		t.Errorf("transitions %+v", tr)
	}
	if st2.Conditions[0].LastTransitionTime != st.Conditions[0].LastTransitionTime {
		t.Error("a condition that stays True must keep its transition time")
	}

	// A failed evaluation keeps the findings and says drift is unknown.
	failed := StatusFromError(context.DeadlineExceeded, 4, now.Add(2*time.Minute), &st2)
	if failed.Conditions[0].Status != "False" || failed.Conditions[0].Reason != ReasonFailed || len(failed.Findings) != len(st2.Findings) ||
		failed.LastEvaluatedEpoch != st2.LastEvaluatedEpoch {
		t.Errorf("failed status %+v", failed)
	}
}

func TestArgoClient(t *testing.T) {
	var gotAuth, gotPath, gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath, gotQuery = r.Header.Get("Authorization"), r.URL.Path, r.URL.RawQuery
		if strings.Contains(r.URL.Path, "forbidden") {
			http.Error(w, `{"error":"permission denied","code":7}`, http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(`{"items":[{"kind":"ConfigMap","namespace":"web","name":"cfg","targetState":"{}","liveState":"null"}]}`))
	}))
	defer srv.Close()
	c := NewArgoClient(srv.URL+"/", "tok", false)
	items, err := c.ManagedResources(context.Background(), "web app", "argocd")
	if err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer tok" || gotPath != "/api/v1/applications/web app/managed-resources" || gotQuery != "appNamespace=argocd" || len(items) != 1 || items[0].Name != "cfg" {
		t.Errorf("request %q %q %q -> %+v", gotAuth, gotPath, gotQuery, items)
	}
	if _, err := c.ManagedResources(context.Background(), "forbidden", ""); err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("error %v should carry the status and the server's message", err)
	}
}

// TestRecordedArgoAnswer evaluates a managed-resources answer recorded from a real argocd-server
// (the end-to-end test writes it with DRIFTPLANE_RECORD_ARGO_DIR): alice patched the image after
// the Deployment was scaled to 0 through its scale subresource. Only the image is drift; the
// replicas Git does not declare (the plugin stripped them) and no manager owns are not.
func TestRecordedArgoAnswer(t *testing.T) {
	raw, err := os.ReadFile("testdata/managed-resources-image-patched.json")
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Items []ResourceDiff `json:"items"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	for _, r := range answer.Items {
		if r.Kind == "DriftReport" {
			var report map[string]any
			if err := json.Unmarshal([]byte(r.TargetState), &report); err != nil {
				t.Fatal(err)
			}
			spec = report["spec"].(map[string]any)
		}
	}
	policy, err := PolicyFromSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	rep, obs, err := Evaluate(policy, answer.Items, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st := StatusFromReport(rep, obs, 1, "", time.Now(), nil)
	var got []string
	for _, f := range st.Findings {
		manager := ""
		if f.ActorDetail != nil {
			manager = f.ActorDetail.Manager
		}
		got = append(got, fmt.Sprintf("%s %s %s %s blocking=%v manager=%s", f.Kind, f.DriftClass, f.Risk, strings.Join(f.ChangedFields, ","), f.Blocking, manager))
	}
	want := []string{
		"Deployment UNAUTHORIZED_RUNTIME_DRIFT HIGH /spec/template/spec/containers/name=app/image blocking=true manager=kubectl-set",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings from the recorded answer:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
