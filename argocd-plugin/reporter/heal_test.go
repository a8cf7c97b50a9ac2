package reporter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

func healFinding(id, kind, name, domain string, fields ...string) StatusFinding {
	return StatusFinding{Finding: drift.Finding{FindingID: id, ResourceRef: "apps/v1/" + kind + "/web/" + name, Domain: domain,
		DriftClass: drift.ClassUnauthorizedRuntime, Risk: drift.RiskLow, ChangedFields: fields, AutoHealAllowed: true, Rule: "labels-and-tags"},
		Group: "apps", Kind: kind, Namespace: "web", Name: name}
}

func TestPlanHeal(t *testing.T) {
	policy := &Policy{AutoHealPolicies: []*drift.AutoHealPolicy{{Metadata: drift.Metadata{Name: "labels-only"}, Spec: drift.AutoHealPolicySpec{
		AppliesTo: drift.AutoHealScope{Kinds: []string{"Deployment"}}, AllowedPaths: []string{"/metadata/labels", "/spec/template/metadata/labels"},
		DeniedPaths: []string{"/metadata/labels/team"}, MaxObjectsPerReconcile: 2}}}}
	accepted := healFinding("f4", "Deployment", "d", drift.DomainWorkload, "/metadata/labels/x")
	accepted.AcceptedBy = "EXC-1"
	notAllowed := healFinding("f5", "Deployment", "e", drift.DomainWorkload, "/metadata/labels/x")
	notAllowed.AutoHealAllowed = false
	controller := healFinding("f9", "Deployment", "a", drift.DomainWorkload, "/spec/replicas")
	controller.DriftClass = drift.ClassControllerOwned
	st := Status{Findings: []StatusFinding{
		healFinding("f1", "Deployment", "a", drift.DomainWorkload, "/metadata/labels/tier"),
		healFinding("f2", "Deployment", "a", drift.DomainWorkload, "/spec/template/metadata/labels/tier"),
		healFinding("f3", "Deployment", "b", drift.DomainWorkload, "/metadata/labels/tier", "/spec/template/spec/containers/name=app/image"),
		accepted, notAllowed, controller,
		healFinding("f6", "Deployment", "c", drift.DomainWorkload, "/metadata/labels/team"),
		healFinding("f7", "ConfigMap", "cfg", drift.DomainWorkload, "/metadata/labels/tier"),
		healFinding("f8", "Role", "r", drift.DomainIdentity, "/metadata/labels/tier"),
	}}
	plan := PlanHeal(policy, st, true)
	if len(plan.Targets) != 1 || plan.Targets[0].Name != "a" || strings.Join(plan.Targets[0].Findings, ",") != "f1,f2" || plan.Targets[0].Policy != "labels-only" {
		t.Errorf("targets %+v", plan.Targets)
	}
	for _, want := range []string{
		"AutoHealPolicy labels-only does not allow /spec/template/spec/containers/name=app/image",
		"accepted by EXC-1",
		"the decision does not allow auto-heal",
		"AutoHealPolicy labels-only denies /metadata/labels/team",
		"no AutoHealPolicy applies to ConfigMap",
		"identity drift is never auto-healed",
	} {
		if !strings.Contains(strings.Join(plan.Skipped, "\n"), want) {
			t.Errorf("skipped reasons lack %q:\n%s", want, strings.Join(plan.Skipped, "\n"))
		}
	}
	if p := PlanHeal(policy, st, false); len(p.Targets) != 0 || !strings.Contains(strings.Join(p.Skipped, "\n"), "the application is not Healthy") {
		t.Errorf("an unhealthy application must not heal: %+v", p)
	}
	// Three objects drifted under a policy that allows two per reconcile: none heal.
	policy.AutoHealPolicies[0].Spec.MaxObjectsPerReconcile = 1
	st.Findings = append(st.Findings, healFinding("f10", "Deployment", "z", drift.DomainWorkload, "/metadata/labels/tier"))
	if p := PlanHeal(policy, st, true); len(p.Targets) != 0 || !strings.Contains(strings.Join(p.Skipped, "\n"), "allows 1 objects per reconcile, 2 drifted") {
		t.Errorf("the object bound was not enforced: %+v", p)
	}
}

func TestSyncResourcesRequest(t *testing.T) {
	var body map[string]any
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.Method + " " + r.URL.Path
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	err := NewArgoClient(srv.URL, "tok", false).SyncResources(context.Background(), "web", "argocd",
		[]HealTarget{{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(body)
	if path != "POST /api/v1/applications/web/sync" ||
		string(got) != `{"appNamespace":"argocd","name":"web","prune":false,"resources":[{"group":"apps","kind":"Deployment","name":"a","namespace":"web"}]}` {
		t.Errorf("%s %s", path, got)
	}
}
