package reporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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
		DeniedPaths: []string{"/metadata/labels/team"}, MaxObjectsPerReconcile: intp(2)}}}}
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
	plan := PlanHeal(policy, st, AppState{Healthy: true})
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
	if p := PlanHeal(policy, st, AppState{Healthy: false}); len(p.Targets) != 0 || !strings.Contains(strings.Join(p.Skipped, "\n"), "the application is not Healthy") {
		t.Errorf("an unhealthy application must not heal: %+v", p)
	}
	// Three objects drifted under a policy that allows two per reconcile: none heal.
	policy.AutoHealPolicies[0].Spec.MaxObjectsPerReconcile = intp(1)
	st.Findings = append(st.Findings, healFinding("f10", "Deployment", "z", drift.DomainWorkload, "/metadata/labels/tier"))
	if p := PlanHeal(policy, st, AppState{Healthy: true}); len(p.Targets) != 0 || !strings.Contains(strings.Join(p.Skipped, "\n"), "allows 1 objects per reconcile, 2 drifted") {
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

func intp(n int) *int { return &n }

func skippedHas(p HealPlan, want string) bool {
	return strings.Contains(strings.Join(p.Skipped, "\n"), want)
}

func healPolicy(max *int, allowed, denied []string) *Policy {
	return &Policy{AutoHealPolicies: []*drift.AutoHealPolicy{{Metadata: drift.Metadata{Name: "p"}, Spec: drift.AutoHealPolicySpec{
		AllowedPaths: allowed, DeniedPaths: denied, MaxObjectsPerReconcile: max}}}}
}

// Issue 9 class 7: an unset bound is 5, never unlimited; 0 heals nothing.
func TestPlanHealObjectBound(t *testing.T) {
	objects := func(n int) Status {
		var st Status
		for i := 0; i < n; i++ {
			st.Findings = append(st.Findings, healFinding(fmt.Sprintf("f%d", i), "Deployment", fmt.Sprintf("d%d", i), drift.DomainWorkload, "/metadata/labels/tier"))
		}
		return st
	}
	unset := healPolicy(nil, []string{"/metadata/labels"}, nil)
	if p := PlanHeal(unset, objects(5), AppState{Healthy: true}); len(p.Targets) != 5 {
		t.Errorf("unset bound, 5 objects: %+v", p)
	}
	if p := PlanHeal(unset, objects(6), AppState{Healthy: true}); len(p.Targets) != 0 || !skippedHas(p, "allows 5 objects per reconcile, 6 drifted; healing none") {
		t.Errorf("unset bound must be 5, not unlimited: %+v", p)
	}
	if p := PlanHeal(unset, objects(40), AppState{Healthy: true}); len(p.Targets) != 0 {
		t.Errorf("unset bound healed %d objects", len(p.Targets))
	}
	zero := healPolicy(intp(0), []string{"/metadata/labels"}, nil)
	if p := PlanHeal(zero, objects(1), AppState{Healthy: true}); len(p.Targets) != 0 || !skippedHas(p, "allows 0 objects per reconcile, 1 drifted") {
		t.Errorf("maxObjectsPerReconcile 0 must heal nothing: %+v", p)
	}
}

// Issue 9 class 7: a deny covers the fields above it too. Healing a whole container rewrites its
// image, so /…/containers/*/image denies a changed /…/containers/name=x.
func TestPlanHealDenyCoversAncestors(t *testing.T) {
	pol := healPolicy(nil, []string{"/spec/template/spec/containers", "/metadata/labels"}, []string{"/spec/template/spec/containers/*/image", "/metadata/labels/team"})
	for _, c := range []struct {
		field string
		heal  bool
	}{
		{"/spec/template/spec/containers/name=x", false},       // above the deny
		{"/spec/template/spec/containers/name=x/image", false}, // the deny itself
		{"/spec/template/spec/containers", false},              // further above
		{"/spec/template/spec/containers/name=x/env", true},    // beside it
		{"/metadata/labels", false},                            // the whole map holds team
		{"/metadata/labels/tier", true},
	} {
		st := Status{Findings: []StatusFinding{healFinding("f", "Deployment", "web", drift.DomainWorkload, c.field)}}
		p := PlanHeal(pol, st, AppState{Healthy: true})
		if healed := len(p.Targets) == 1; healed != c.heal {
			t.Errorf("%s: healed=%v, want %v (%v)", c.field, healed, c.heal, p.Skipped)
		}
		if !c.heal && !skippedHas(p, "denies "+c.field) {
			t.Errorf("%s: reason %v", c.field, p.Skipped)
		}
	}
}

// Issue 9 class 7: a policy path that cannot be read heals nothing; it is never skipped as if it
// were not there.
func TestPlanHealMalformedPaths(t *testing.T) {
	st := Status{Findings: []StatusFinding{healFinding("f", "Deployment", "web", drift.DomainWorkload, "/metadata/labels/team")}}
	for _, pol := range []*Policy{
		healPolicy(nil, []string{"/metadata/labels"}, []string{"metadata/labels/team"}),    // no leading slash
		healPolicy(nil, []string{"/metadata/labels"}, []string{"/metadata/labels/te~2am"}), // bad escape
		healPolicy(nil, []string{"metadata/labels"}, nil),
		healPolicy(nil, []string{""}, nil), // the whole object
	} {
		p := PlanHeal(pol, st, AppState{Healthy: true})
		if len(p.Targets) != 0 || !skippedHas(p, "malformed") && !skippedHas(p, "the whole object") {
			t.Errorf("allowed %q denied %q: %+v", pol.AutoHealPolicies[0].Spec.AllowedPaths, pol.AutoHealPolicies[0].Spec.DeniedPaths, p)
		}
	}
}

// Issue 9 class 7: never-healed domains come from the built-in table; a unit that maps Secrets
// or Roles to a harmless domain does not make them heal.
func TestPlanHealNeverHealedByBuiltinTable(t *testing.T) {
	pol := healPolicy(nil, []string{"/metadata/labels", "/data"}, nil)
	secret := healFinding("s", "Secret", "db", drift.DomainOther, "/data/password") // the unit said "other"
	secret.Group = ""
	role := healFinding("r", "Role", "ops", drift.DomainWorkload, "/metadata/labels/tier")
	role.Group = "rbac.authorization.k8s.io"
	svc := healFinding("n", "Service", "web", drift.DomainCost, "/metadata/labels/tier")
	svc.Group = ""
	for _, c := range []struct {
		f    StatusFinding
		want string
	}{{secret, "secrets drift is never auto-healed"}, {role, "identity drift is never auto-healed"}, {svc, "network drift is never auto-healed"}} {
		p := PlanHeal(pol, Status{Findings: []StatusFinding{c.f}}, AppState{Healthy: true})
		if len(p.Targets) != 0 || !skippedHas(p, c.want) {
			t.Errorf("%s: %+v", c.f.Kind, p)
		}
	}
}

// Issue 9 class 7: a pending sync heals only on an application that syncs itself.
func TestPlanHealPendingSyncNeedsAutomatedSync(t *testing.T) {
	pol := healPolicy(nil, []string{"/metadata/labels"}, nil)
	f := healFinding("f", "Deployment", "web", drift.DomainWorkload, "/metadata/labels/tier")
	f.DriftClass, f.Rule = drift.ClassStaleDesiredState, "pending-sync"
	st := Status{Findings: []StatusFinding{f}}
	if p := PlanHeal(pol, st, AppState{Healthy: true}); len(p.Targets) != 0 || !skippedHas(p, "spec.syncPolicy.automated") {
		t.Errorf("pending sync healed on a manually synced application: %+v", p)
	}
	if p := PlanHeal(pol, st, AppState{Healthy: true, AutomatedSync: true}); len(p.Targets) != 1 {
		t.Errorf("pending sync on an automated application: %+v", p)
	}
	for doc, want := range map[string]bool{
		`{}`:                         false,
		`{"spec":{"syncPolicy":{}}}`: false,
		`{"spec":{"syncPolicy":{"automated":null}}}`:                       false,
		`{"spec":{"syncPolicy":{"automated":{}}}}`:                         true,
		`{"spec":{"syncPolicy":{"automated":{"selfHeal":true}}}}`:          true,
		`{"spec":{"syncPolicy":{"automated":{"enabled":false}}}}`:          false,
		`{"spec":{"syncPolicy":{"automated":{"enabled":true}}}}`:           true,
		`{"spec":{"syncPolicy":{"automated":"yes"}}}`:                      false,
		`{"spec":{"syncPolicy":{"syncOptions":["CreateNamespace=true"]}}}`: false,
	} {
		u := &unstructured.Unstructured{}
		if err := json.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		if got := automatedSync(u); got != want {
			t.Errorf("automatedSync(%s) = %v", doc, got)
		}
	}
}
