package drift

import (
	"strings"
	"testing"
)

// reconcileRow reports whether a row decides a kind a source marks beyond drift between the
// planes; TestReconcileRows exercises those.
func reconcileRow(r Rule) bool {
	for _, c := range r.When.Change {
		switch c {
		case ChangeDependency, ChangeMutableReference, ChangeProviderUpgrade, ChangeFailed:
			return true
		}
	}
	return false
}

func TestReconcileRows(t *testing.T) {
	upgrade := &ProviderUpgrade{Provider: "registry.opentofu.org/hashicorp/aws", From: "5.80.0", To: "6.2.0"}
	cases := []struct {
		name   string
		obs    Observation
		class  Class
		risk   Risk
		action Action
		rule   string
		fields string
		// explain is a fragment every finding's explanation must hold.
		explain string
		upgrade bool
	}{{
		name:  "a tainted resource is a failed reconciliation, never healed",
		obs:   Observation{Ref: "terraform_data.broken", Type: "terraform_data", Failure: &ReconcileFailure{Reason: FailureTainted}},
		class: ClassFailedReconciliation, risk: RiskMedium, action: ActionInvestigateControlLoop, rule: "failed-reconciliation",
		explain: "tainted",
	}, {
		name:  "a deposed object names its key",
		obs:   Observation{Ref: "aws_instance.web", Type: "aws_instance", Failure: &ReconcileFailure{Reason: FailureDeposed, Deposed: "00000001"}},
		class: ClassFailedReconciliation, risk: RiskHigh, action: ActionInvestigateControlLoop, rule: "failed-reconciliation",
		explain: "deposed object 00000001",
	}, {
		name: "a change only a data source explains is dependency drift naming it",
		obs: Observation{Ref: "aws_instance.web", Type: "aws_instance", Dependency: &DependencyChange{
			Sources: []string{"data.aws_ami.base"}, Paths: []Pointer{{"ami"}},
			Before: map[string]any{"ami": "ami-1", "instance_type": "t3.small"}, After: map[string]any{"ami": "ami-2", "instance_type": "t3.small"}}},
		class: ClassDependency, risk: RiskHigh, action: ActionReplanAndValidate, rule: "dependency-drift", fields: "/ami",
		explain: "data.aws_ami.base changed",
	}, {
		name: "an unpinned module source is a mutable reference",
		obs: Observation{Ref: "module.vpc", Type: "module", MutableRef: &MutableReference{Kind: RefModuleSource,
			Reference: "git::https://example.com/vpc.git", Why: "a repository source without ?ref= follows its default branch"}},
		class: ClassDependency, risk: RiskLow, action: ActionPinReference, rule: "mutable-reference",
		explain: "Module source git::https://example.com/vpc.git is mutable",
	}, {
		name: "an image tagged latest names the attribute",
		obs: Observation{Ref: "kubernetes_deployment.web", Type: "kubernetes_deployment", MutableRef: &MutableReference{Kind: RefImage,
			Reference: "nginx:latest", Path: MustPointer("/spec/0/template/0/spec/0/container/0/image"), Why: "the tag latest moves with every push"}},
		class: ClassDependency, risk: RiskLow, action: ActionPinReference, rule: "mutable-reference", fields: "/spec/0/template/0/spec/0/container/0/image",
	}, {
		name: "an attribute a provider upgrade starts reading is dependency drift naming both versions",
		obs: Observation{Ref: "aws_instance.web", Type: "aws_instance", ProviderUpgrade: upgrade,
			Recorded: map[string]any{"instance_type": "t3.small"},
			Actual:   map[string]any{"instance_type": "t3.small", "cpu_options": []any{map[string]any{"core_count": 2.0}}}},
		class: ClassDependency, risk: RiskHigh, action: ActionReplanAndValidate, rule: "provider-upgrade", fields: "/cpu_options",
		explain: "upgraded from 5.80.0 to 6.2.0", upgrade: true,
	}, {
		name: "what the noise rules explain during an upgrade stays noise, marked as the upgrade's",
		obs: Observation{Ref: "aws_iam_policy.p", Type: "aws_iam_policy", ProviderUpgrade: upgrade,
			Recorded: map[string]any{"policy": policyV1}, Actual: map[string]any{"policy": policyV1Reorder}},
		class: ClassProviderReadNoise, risk: RiskInfo, action: ActionIgnore, rule: "provider-read-noise", fields: "/policy",
		explain: "semantically equal", upgrade: true,
	}}
	hit := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			unit := testUnit(func(u *ManagedUnit) { u.Spec.AutoHeal = true })
			rep, err := Evaluate(unit, nil, []Observation{tc.obs}, atNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Findings) != 1 {
				t.Fatalf("got %d findings, want 1: %+v", len(rep.Findings), rep.Findings)
			}
			f := rep.Findings[0]
			hit[f.Rule] = true
			if f.DriftClass != tc.class || f.Risk != tc.risk || f.RecommendedAction != tc.action || f.Rule != tc.rule ||
				strings.Join(f.ChangedFields, ",") != tc.fields || f.ProviderUpgrade != tc.upgrade {
				t.Errorf("got %s %s %s %s %v upgrade=%v, want %s %s %s %s %s upgrade=%v", f.DriftClass, f.Risk, f.RecommendedAction, f.Rule, f.ChangedFields, f.ProviderUpgrade,
					tc.class, tc.risk, tc.action, tc.rule, tc.fields, tc.upgrade)
			}
			if f.AutoHealAllowed {
				t.Errorf("%s may heal itself; it never does", f.DriftClass)
			}
			if !strings.Contains(f.Explanation, tc.explain) {
				t.Errorf("explanation %q does not contain %q", f.Explanation, tc.explain)
			}
			if f.FindingID == "" || f.Evidence == "" {
				t.Errorf("finding without id or evidence: %+v", f)
			}
		})
	}
	for _, r := range DefaultTable().Rules {
		if reconcileRow(r) && !hit[r.ID] {
			t.Errorf("decision rule %q is not exercised by any case", r.ID)
		}
	}
}

// An out-of-band edit made while a provider is upgraded must not pass as the upgrade: a value
// changed from one value to another, a path an ownership rule gives the runtime and a change a
// detector flags keep their own classes.
func TestProviderUpgradeCannotHideAnEdit(t *testing.T) {
	upgrade := &ProviderUpgrade{Provider: "registry.opentofu.org/hashicorp/aws", From: "5.80.0", To: "6.2.0"}
	obs := []Observation{{
		Ref: "aws_instance.web", Type: "aws_instance", ProviderUpgrade: upgrade,
		Recorded: map[string]any{"instance_type": "t3.small", "tags": map[string]any{"Owner": "a"}},
		Actual: map[string]any{"instance_type": "t3.2xlarge", "tags": map[string]any{"Owner": "a", "x": "y"},
			"metadata_options": []any{map[string]any{"http_tokens": "optional"}}},
	}, {
		Ref: "aws_security_group.sg", Type: "aws_security_group", ProviderUpgrade: upgrade,
		Recorded: map[string]any{"ingress": []any{map[string]any{"cidr_blocks": []any{"10.0.0.0/8"}}}},
		Actual: map[string]any{"ingress": []any{map[string]any{"cidr_blocks": []any{"10.0.0.0/8"}},
			map[string]any{"cidr_blocks": []any{"203.0.113.7/32"}}}},
	}, {
		Ref: "aws_iam_role_policy.p", Type: "aws_iam_role_policy", ProviderUpgrade: upgrade,
		Recorded: map[string]any{}, Actual: map[string]any{"policy": policyWider},
	}, {
		Ref: "aws_security_group_rule.r", Type: "aws_security_group_rule", ProviderUpgrade: upgrade,
		Recorded: map[string]any{"from_port": 443.0}, Actual: map[string]any{"from_port": 443.0, "cidr_blocks": []any{"0.0.0.0/0"}},
	}}
	rep, err := Evaluate(testUnit(), nil, obs, atNow)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		got[f.ResourceRef+" "+strings.Join(f.ChangedFields, ",")] = string(f.DriftClass) + " " + f.Rule
	}
	want := map[string]string{
		"aws_instance.web /instance_type":        "UNAUTHORIZED_RUNTIME_DRIFT unexplained",
		"aws_instance.web /tags/x":               "CONTROLLER_OWNED_DRIFT runtime-owned",
		"aws_instance.web /metadata_options":     "DEPENDENCY_DRIFT provider-upgrade",
		"aws_iam_role_policy.p /policy":          "UNAUTHORIZED_RUNTIME_DRIFT identity-widened",
		"aws_security_group.sg /ingress/1":       "UNAUTHORIZED_RUNTIME_DRIFT sensitive-domain",
		"aws_security_group_rule.r /cidr_blocks": "UNAUTHORIZED_RUNTIME_DRIFT network-exposure",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}

// A source cannot hand over a dependency change whose paths the values do not bear out.
func TestDependencyChangeIsCheckedAgainstItsValues(t *testing.T) {
	for name, dep := range map[string]*DependencyChange{
		"no change at the named path": {Sources: []string{"data.x.y"}, Paths: []Pointer{{"ami"}},
			Before: map[string]any{"ami": "a", "user_data": "1"}, After: map[string]any{"ami": "a", "user_data": "2"}},
		"no source": {Paths: []Pointer{{"ami"}}, Before: map[string]any{"ami": "a"}, After: map[string]any{"ami": "b"}},
	} {
		rep, err := Evaluate(testUnit(), nil, []Observation{{Ref: "aws_instance.web", Type: "aws_instance", Dependency: dep}}, atNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Findings) != 0 {
			t.Errorf("%s: %+v", name, rep.Findings)
		}
	}
	dep := &DependencyChange{Sources: []string{"data.x.y"}, Paths: []Pointer{{"ami"}},
		Before: map[string]any{"ami": "a", "user_data": "1"}, After: map[string]any{"ami": "b", "user_data": "2"}}
	rep, _ := Evaluate(testUnit(), nil, []Observation{{Ref: "aws_instance.web", Type: "aws_instance", Dependency: dep}}, atNow)
	if len(rep.Findings) != 1 || strings.Join(rep.Findings[0].ChangedFields, ",") != "/ami" {
		t.Errorf("only the explained path may be reported: %+v", rep.Findings)
	}
}

func TestRepeatedFailureRaisesRisk(t *testing.T) {
	unit := testUnit(func(u *ManagedUnit) { u.Spec.Gate = "high"; u.Spec.RiskTier = "low"; u.Spec.Environment = "dev" })
	obs := []Observation{{Ref: "terraform_data.broken", Type: "terraform_data", Failure: &ReconcileFailure{Reason: FailureTainted}}}
	eval := func() *Report {
		rep, err := Evaluate(unit, nil, obs, atNow)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rep.Findings {
			rep.Findings[i].Fingerprint = Fingerprint(rep.Findings[i])
		}
		return rep
	}
	first := eval()
	f := first.Findings[0]
	if f.Risk != RiskMedium || f.Blocking {
		t.Fatalf("first failure: %s blocking=%v, want MEDIUM (risk_min) not blocking", f.Risk, f.Blocking)
	}
	EscalateRepeatedFailures(first, unit, nil, nil)
	if first.Findings[0].Risk != RiskMedium {
		t.Fatal("no previous record must change nothing")
	}
	prev := map[string]Class{f.Fingerprint: ClassFailedReconciliation}
	again := eval()
	EscalateRepeatedFailures(again, unit, nil, prev)
	g := again.Findings[0]
	if g.Risk != RiskHigh || !g.Blocking || again.BlockingCount != 1 || !strings.Contains(g.Explanation, "raised to HIGH") {
		t.Fatalf("repeated failure: %s blocking=%v count=%d %q", g.Risk, g.Blocking, again.BlockingCount, g.Explanation)
	}
	third := eval()
	third.Findings[0].Risk = RiskHigh
	EscalateRepeatedFailures(third, unit, nil, prev)
	if third.Findings[0].Risk != RiskHigh {
		t.Errorf("escalation is capped at %s, got %s", MaxFailureRiskEscalation, third.Findings[0].Risk)
	}
	other := eval()
	EscalateRepeatedFailures(other, unit, nil, map[string]Class{f.Fingerprint: ClassUnauthorizedRuntime})
	if other.Findings[0].Risk != RiskMedium {
		t.Errorf("a previous entry of another class must not escalate")
	}
}

func TestUnknownChangeKindRefused(t *testing.T) {
	data := strings.Replace(string(decisionsYAML), "when: {change: dependency}", "when: {change: dependncy}", 1)
	if _, err := LoadTable([]byte(data)); err == nil || !strings.Contains(err.Error(), "dependncy") {
		t.Fatalf("a misspelt change kind must be refused, got %v", err)
	}
}
