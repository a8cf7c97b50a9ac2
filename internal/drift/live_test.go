package drift

import (
	"strings"
	"testing"
	"time"
)

// liveRow says whether a decision row decides what live-object detectors mark (TestLiveRows
// covers those rows).
func liveRow(r Rule) bool {
	for _, c := range r.When.Change {
		switch c {
		case ChangeImageDigest, ChangeSecretSync, ChangeSecretConsumer, ChangeUnmanaged, ChangeUnobserved:
			return true
		}
	}
	return false
}

func liveUnit(mut ...func(*ManagedUnit)) *ManagedUnit {
	return testUnit(append([]func(*ManagedUnit){func(u *ManagedUnit) {
		u.Spec.Kind = UnitKubernetes
		u.Spec.OwnershipRules = nil
		u.Spec.AutoHeal = true
	}}, mut...)...)
}

// TestLiveRows: every live change kind is decided by its row of the table, never heals, keeps
// the detector's explanation and names its fields.
func TestLiveRows(t *testing.T) {
	cases := []struct {
		name   string
		obs    Observation
		class  Class
		risk   Risk
		action Action
		rule   string
		fields string
	}{{
		name: "two digests for one tag",
		obs: Observation{Ref: "apps/v1/Deployment/web/web", Type: "apps/Deployment", Group: "apps", Kind: "Deployment", Live: &LiveCheck{
			Change:      ChangeImageDigest,
			Changes:     []Change{{Path: MustPointer("/spec/template/spec/containers/0/image"), Before: "sha256:aa", After: "sha256:bb"}},
			Explanation: "image web:1 runs as sha256:aa and sha256:bb"}},
		class: ClassDependency, risk: RiskHigh, action: ActionPinReference, rule: "image-digest-moved", fields: "/spec/template/spec/containers/0/image",
	}, {
		name: "an ExternalSecret not ready",
		obs: Observation{Ref: "external-secrets.io/v1/ExternalSecret/web/db", Type: "external-secrets.io/ExternalSecret", Group: "external-secrets.io", Kind: "ExternalSecret", Live: &LiveCheck{
			Change: ChangeSecretSync, Changes: []Change{{Path: MustPointer("/status/conditions/Ready"), Before: "True", After: "False"}}, Explanation: "not ready"}},
		class: ClassSecretDelivery, risk: RiskCritical, action: ActionFixSecretSync, rule: "secret-sync-failing", fields: "/status/conditions/Ready",
	}, {
		name: "consumers on an old Secret",
		obs: Observation{Ref: "/v1/Secret/web/db", Type: "/Secret", Kind: "Secret", Live: &LiveCheck{
			Change: ChangeSecretConsumer, Changes: []Change{{Path: MustPointer("/metadata/resourceVersion"), Before: "10", After: "12"}}, Explanation: "pods web-1 started before"}},
		class: ClassSecretDelivery, risk: RiskCritical, action: ActionRestartConsumers, rule: "secret-consumers-stale", fields: "/metadata/resourceVersion",
	}, {
		name: "an unmanaged ConfigMap",
		obs: Observation{Ref: "/v1/ConfigMap/web/stray", Type: "/ConfigMap", Kind: "ConfigMap", Live: &LiveCheck{
			Change: ChangeUnmanaged, Explanation: "nothing declares it", Facts: map[string]string{"uid": "u1"}}},
		class: ClassUnmanaged, risk: RiskHigh, action: ActionImport, rule: "unmanaged-object",
	}, {
		name: "a running Pod without statuses",
		obs: Observation{Ref: "/v1/Pod/web/web-1", Type: "/Pod", Kind: "Pod", Live: &LiveCheck{
			Change: ChangeUnobserved, Changes: []Change{{Path: MustPointer("/status/containerStatuses")}}, Explanation: "no container statuses"}},
		class: ClassUnknown, risk: RiskHigh, action: ActionIncident, rule: "live-unobserved", fields: "/status/containerStatuses",
	}}
	hit := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Evaluate(liveUnit(), nil, []Observation{tc.obs}, atNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Findings) != 1 {
				t.Fatalf("findings %+v", rep.Findings)
			}
			f := rep.Findings[0]
			hit[f.Rule] = true
			if f.DriftClass != tc.class || f.Risk != tc.risk || f.RecommendedAction != tc.action || f.Rule != tc.rule ||
				strings.Join(f.ChangedFields, ",") != tc.fields || f.AutoHealAllowed {
				t.Errorf("got %s %s %s %s %v heal=%v", f.DriftClass, f.Risk, f.RecommendedAction, f.Rule, f.ChangedFields, f.AutoHealAllowed)
			}
			if !strings.HasPrefix(f.Explanation, tc.obs.Live.Explanation) {
				t.Errorf("explanation %q", f.Explanation)
			}
			if rep.Status != StatusDrifted {
				t.Errorf("status %s", rep.Status)
			}
		})
	}
	for _, r := range DefaultTable().Rules {
		if liveRow(r) && !hit[r.ID] {
			t.Errorf("row %s not exercised", r.ID)
		}
	}
	// The same fact with another digest is another finding (the id follows the evidence); the
	// same fact seen again is the same finding.
	a := cases[0].obs
	b := a
	lb := *a.Live
	lb.Changes = []Change{{Path: lb.Changes[0].Path, Before: "sha256:aa", After: "sha256:cc"}}
	b.Live = &lb
	ra, _ := Evaluate(liveUnit(), nil, []Observation{a}, atNow)
	ra2, _ := Evaluate(liveUnit(), nil, []Observation{a}, atNow)
	rb, _ := Evaluate(liveUnit(), nil, []Observation{b}, atNow)
	if ra.Findings[0].FindingID != ra2.Findings[0].FindingID || ra.Findings[0].FindingID == rb.Findings[0].FindingID {
		t.Errorf("finding ids: %s %s %s", ra.Findings[0].FindingID, ra2.Findings[0].FindingID, rb.Findings[0].FindingID)
	}
	// An exception of the class accepts the finding on its paths, like any other drift.
	e := exception("EXC-9", "/v1/Secret/web/db", string(ClassSecretDelivery), "2026-12-01T00:00:00Z", "/metadata/resourceVersion")
	e.Spec.Ticket = "INC-1"
	rep, err := Evaluate(liveUnit(), []*Exception{e}, []Observation{cases[2].obs}, atNow)
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Findings[0]; f.AcceptedBy != "EXC-9" || f.Blocking {
		t.Errorf("exception: %+v", f)
	}
}

// TestPolicyOverLiveObjects: rules read the object as `object` (like a ValidatingAdmissionPolicy)
// as well as resource.values; an object created before since gets the migration window, one
// created after it none, and missing values are an evaluation error, never compliance.
func TestPolicyOverLiveObjects(t *testing.T) {
	since := "2026-06-01T00:00:00Z"
	rules := []PolicyRule{{
		ID: "no-privileged", AppliesTo: []string{"/Pod"}, Since: since, MigrationWindow: "4380h", Message: "no privileged containers",
		Expression: `!object.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true)`,
	}, {
		ID: "run-as-non-root", AppliesTo: []string{"/Pod"}, Since: since, MigrationWindow: "4380h",
		Expression: `object.spec.securityContext.runAsNonRoot == true`,
	}, {
		ID: "resources-set", AppliesTo: []string{"apps/Deployment"}, Since: since,
		Expression: `resource.values.spec.template.spec.containers.all(c, has(c.resources) && has(c.resources.limits))`,
	}}
	unit := liveUnit(func(u *ManagedUnit) { u.Spec.PolicyRules = rules })
	pod := func(name string, created time.Time, privileged bool, nonRoot any) Observation {
		v := map[string]any{"spec": map[string]any{
			"securityContext": map[string]any{},
			"containers":      []any{map[string]any{"name": "app", "securityContext": map[string]any{"privileged": privileged}}},
		}}
		if nonRoot != nil {
			v["spec"].(map[string]any)["securityContext"] = map[string]any{"runAsNonRoot": nonRoot}
		}
		return Observation{Ref: "/v1/Pod/web/" + name, Type: "/Pod", Kind: "Pod", Namespace: "web", Name: name,
			Recorded: v, Actual: v, Created: created}
	}
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fresh := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	deploy := Observation{Ref: "apps/v1/Deployment/web/web", Type: "apps/Deployment", Group: "apps", Kind: "Deployment", Created: old,
		Recorded: js(`{"spec":{"template":{"spec":{"containers":[{"name":"app"}]}}}}`), Actual: js(`{"spec":{"template":{"spec":{"containers":[{"name":"app"}]}}}}`)}
	resources := []Observation{pod("old-priv", old, true, true), pod("new-priv", fresh, true, true), pod("ok", fresh, false, true), pod("unknown-root", fresh, false, nil), deploy}
	// Within the window: the old privileged Pod migrates; the new one is overdue at once.
	inWindow := WithClock(func() time.Time { return time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC) })
	rep, err := Evaluate(unit, nil, nil, WithResources(resources), inWindow)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Finding{}
	for _, f := range rep.Findings {
		got[f.ResourceRef+" "+f.PolicyRule] = f
	}
	check := func(key string, class Class, blocking bool, rule, explain string) {
		t.Helper()
		f, ok := got[key]
		if !ok {
			t.Errorf("no finding %s; have %v", key, keys(got))
			return
		}
		if f.DriftClass != class || f.Blocking != blocking || f.Rule != rule || !strings.Contains(f.Explanation, explain) {
			t.Errorf("%s: %s blocking=%v %s %q", key, f.DriftClass, f.Blocking, f.Rule, f.Explanation)
		}
	}
	check("/v1/Pod/web/old-priv no-privileged", ClassPolicy, false, "policy-migration-window", "migrate it before 2026-11-30T12:00:00Z")
	check("/v1/Pod/web/new-priv no-privileged", ClassPolicy, true, "policy-migration-overdue", "created at 2026-07-01T00:00:00Z, after the rule took effect")
	check("/v1/Pod/web/unknown-root run-as-non-root", ClassUnknown, false, "policy-evaluation-error", "could not be evaluated")
	check("apps/v1/Deployment/web/web resources-set", ClassPolicy, true, "policy-migration-overdue", "migration window ended at 2026-06-01T00:00:00Z")
	if _, ok := got["/v1/Pod/web/ok no-privileged"]; ok {
		t.Error("a complying Pod has a finding")
	}
	if len(rep.Findings) != 4 {
		t.Errorf("findings %v", keys(got))
	}
	// After the window the old one blocks too.
	late := WithClock(func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) })
	rep, _ = Evaluate(unit, nil, nil, WithResources(resources), late)
	for _, f := range rep.Findings {
		if f.ResourceRef == "/v1/Pod/web/old-priv" && (!f.Blocking || !strings.Contains(f.Explanation, "migration window ended")) {
			t.Errorf("after the window: %+v", f)
		}
	}
}

func keys(m map[string]Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A detector's fact about an object (a LiveCheck, an image reference without the object's
// values) is not the object: policy rules judge the object's own entry, never the fact's empty
// values (which would read as an evaluation error).
func TestPolicySkipsLiveFacts(t *testing.T) {
	u := liveUnit(func(u *ManagedUnit) {
		u.Spec.PolicyRules = []PolicyRule{{ID: "non-root", AppliesTo: []string{"/Pod"}, Expression: `object.spec.securityContext.runAsNonRoot == true`}}
	})
	v := js(`{"spec":{"securityContext":{"runAsNonRoot":true}}}`)
	fact := Observation{Ref: "/v1/Pod/web/p", Type: "/Pod", Kind: "Pod", Live: &LiveCheck{Change: ChangeUnobserved, Explanation: "no status"}}
	res := Observation{Ref: "/v1/Pod/web/p", Type: "/Pod", Kind: "Pod", Recorded: v, Actual: v}
	rep, err := Evaluate(u, nil, []Observation{fact}, WithResources([]Observation{res}), atNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Rule != "live-unobserved" {
		t.Errorf("%+v", rep.Findings)
	}
}

// Facts a live detector adds are not declared objects: inventory coverage counts the objects.
func TestInventorySkipsLiveFacts(t *testing.T) {
	inv := InventoryOf([]Observation{
		{Ref: "/v1/ConfigMap/web/a"}, {Ref: "/v1/ConfigMap/web/b", Deleted: true},
		{Ref: "/v1/ConfigMap/web/stray", Live: &LiveCheck{Change: ChangeUnmanaged}},
		{Ref: "apps/v1/Deployment/web/web", MutableRef: &MutableReference{Kind: RefImage, Reference: "web:1"}},
	})
	if inv.Expected != 2 || inv.Observed != 1 {
		t.Errorf("%+v", inv)
	}
}
