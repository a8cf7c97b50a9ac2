package drift

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func testUnit(mod ...func(*ManagedUnit)) *ManagedUnit {
	u := &ManagedUnit{
		Metadata: Metadata{Name: "payments-prod-network"},
		Spec: UnitSpec{
			Kind: UnitOpenTofuStack, Owner: "platform-network", Environment: "prod", RiskTier: "critical", Gate: "critical",
			OwnershipRules: []OwnershipRule{{
				Resource:        ResourceMatch{Type: "aws_autoscaling_group"},
				ControllerOwned: []ControllerPath{{Path: "/desired_capacity", Owner: "aws-autoscaling"}},
			}, {
				Resource:     ResourceMatch{Type: "aws_instance"},
				RuntimeOwned: []string{"/tags"},
				GitOwned:     []string{"/tags/Owner"},
			}},
		},
	}
	for _, m := range mod {
		m(u)
	}
	return u
}

func exception(id, resource, class, expires string, paths ...string) *Exception {
	return &Exception{
		Metadata: Metadata{Name: id},
		Spec: ExceptionSpec{
			Unit: "payments-prod-network", Resource: resource, Paths: paths, DriftClass: class,
			Reason: "debug access during INC-9127", Ticket: "INC-9127", ApprovedBy: "oncall-lead", ExpiresAt: expires,
		},
	}
}

func js(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

const (
	policyV1        = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}]}`
	policyV1Reorder = "{\n  \"Statement\": {\"Resource\": [\"arn:aws:s3:::b/*\"], \"Action\": \"s3:GetObject\", \"Effect\": \"Allow\"},\n  \"Version\": \"2012-10-17\"\n}"
	policyWider     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:*"],"Resource":"arn:aws:s3:::b/*"}]}`
	policyNarrower  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/x"}]}`
)

func sg(cidrs ...string) any {
	list := make([]any, len(cidrs))
	for i, c := range cidrs {
		list[i] = c
	}
	return map[string]any{"id": "sg-1", "ingress": []any{map[string]any{"from_port": 443.0, "to_port": 443.0, "cidr_blocks": list}}}
}

func TestEvaluateDecisionTable(t *testing.T) {
	type want struct {
		class    Class
		risk     Risk
		action   Action
		rule     string
		fields   string
		blocking bool
		heal     bool
		accepted string
		explain  string
	}
	cases := []struct {
		name  string
		unit  *ManagedUnit
		exc   []*Exception
		obs   Observation
		wants []want
	}{{
		name: "iam policy widened is critical incident and never heals",
		unit: testUnit(func(u *ManagedUnit) { u.Spec.AutoHeal = true }),
		obs: Observation{Ref: "aws_iam_role_policy.p", Type: "aws_iam_role_policy", DesiredKnown: true,
			Recorded: map[string]any{"policy": policyV1}, Actual: map[string]any{"policy": policyWider}, Desired: map[string]any{"policy": policyV1}},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskCritical, action: ActionIncident, rule: "identity-widened", fields: "/policy", blocking: true}},
	}, {
		name: "iam policy narrowed still reverts with an alert",
		unit: testUnit(func(u *ManagedUnit) { u.Spec.RiskTier = "standard" }),
		obs: Observation{Ref: "aws_iam_role_policy.p", Type: "aws_iam_role_policy",
			Recorded: map[string]any{"policy": policyV1}, Actual: map[string]any{"policy": policyNarrower}},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskMedium, action: ActionIncidentAndRevert, rule: "identity-changed", fields: "/policy"}},
	}, {
		name: "iam policy only re-serialised is provider read noise",
		unit: testUnit(),
		obs: Observation{Ref: "aws_iam_policy.p", Type: "aws_iam_policy",
			Recorded: map[string]any{"policy": policyV1, "tags": nil}, Actual: map[string]any{"policy": policyV1Reorder, "tags": map[string]any{}}},
		wants: []want{{class: ClassProviderReadNoise, risk: RiskInfo, action: ActionIgnore, rule: "provider-read-noise", fields: "/policy,/tags"}},
	}, {
		name: "security group opened to the world is critical",
		unit: testUnit(),
		obs: Observation{Ref: "aws_security_group.app_public", Type: "aws_security_group",
			Recorded: sg("10.0.0.0/8"), Actual: sg("10.0.0.0/8", "0.0.0.0/0")},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskCritical, action: ActionIncidentAndRevert, rule: "network-exposure", fields: "/ingress/0/cidr_blocks/1", blocking: true,
			explain: "no exception matches aws_security_group.app_public"}},
	}, {
		name: "emergency exception accepts and reclassifies the opened security group",
		unit: testUnit(),
		exc:  []*Exception{exception("EXC-1", "aws_security_group.app_public", "EMERGENCY_DRIFT", "2026-12-01T00:00:00Z", "/ingress")},
		obs: Observation{Ref: "aws_security_group.app_public", Type: "aws_security_group",
			Recorded: sg("10.0.0.0/8"), Actual: sg("10.0.0.0/8", "0.0.0.0/0")},
		wants: []want{{class: ClassEmergency, risk: RiskCritical, action: ActionRuntimeRevert, rule: "emergency-network-exposure", fields: "/ingress/0/cidr_blocks/1", accepted: "EXC-1"}},
	}, {
		name: "expired exception accepts nothing and says so",
		unit: testUnit(),
		exc:  []*Exception{exception("EXC-1", "aws_security_group.app_public", "EMERGENCY_DRIFT", "2026-11-01T00:00:00Z", "/ingress")},
		obs: Observation{Ref: "aws_security_group.app_public", Type: "aws_security_group",
			Recorded: sg("10.0.0.0/8"), Actual: sg("10.0.0.0/8", "0.0.0.0/0")},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskCritical, action: ActionIncidentAndRevert, rule: "network-exposure", fields: "/ingress/0/cidr_blocks/1", blocking: true,
			explain: "exception EXC-1 expired at 2026-11-01T00:00:00Z"}},
	}, {
		name: "exception that does not cover every field accepts nothing",
		unit: testUnit(),
		exc:  []*Exception{exception("EXC-2", "aws_security_group.*", "EMERGENCY_DRIFT", "2026-12-01T00:00:00Z", "/egress")},
		obs: Observation{Ref: "aws_security_group.app_public", Type: "aws_security_group",
			Recorded: sg("10.0.0.0/8"), Actual: sg("10.0.0.0/8", "0.0.0.0/0")},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskCritical, action: ActionIncidentAndRevert, rule: "network-exposure", fields: "/ingress/0/cidr_blocks/1", blocking: true,
			explain: "exception EXC-2 does not cover /ingress/0/cidr_blocks/1"}},
	}, {
		name: "exception of another class accepts nothing",
		unit: testUnit(),
		exc:  []*Exception{exception("EXC-3", "aws_security_group.app_public", "STATE_DRIFT", "2026-12-01T00:00:00Z", "/ingress")},
		obs: Observation{Ref: "aws_security_group.app_public", Type: "aws_security_group",
			Recorded: sg("10.0.0.0/8"), Actual: sg("10.0.0.0/8", "0.0.0.0/0")},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskCritical, action: ActionIncidentAndRevert, rule: "network-exposure", fields: "/ingress/0/cidr_blocks/1", blocking: true,
			explain: "exception EXC-3 accepts STATE_DRIFT, but this is UNAUTHORIZED_RUNTIME_DRIFT"}},
	}, {
		name: "controller-owned capacity is not blocking",
		unit: testUnit(),
		obs: Observation{Ref: "aws_autoscaling_group.web", Type: "aws_autoscaling_group",
			Recorded: map[string]any{"desired_capacity": 2.0}, Actual: map[string]any{"desired_capacity": 7.0}},
		wants: []want{{class: ClassControllerOwned, risk: RiskInfo, action: ActionIgnore, rule: "controller-owned", fields: "/desired_capacity", explain: "owned by aws-autoscaling"}},
	}, {
		name: "runtime-owned tags are accepted but a git-owned tag below them is not",
		unit: testUnit(),
		obs: Observation{Ref: "aws_instance.web", Type: "aws_instance",
			Recorded: map[string]any{"tags": map[string]any{"Owner": "a", "Scanner": "x"}},
			Actual:   map[string]any{"tags": map[string]any{"Owner": "b", "Scanner": "y"}}},
		wants: []want{
			{class: ClassUnauthorizedRuntime, risk: RiskLow, action: ActionRuntimeRevert, rule: "labels-and-tags", fields: "/tags/Owner"},
			{class: ClassControllerOwned, risk: RiskInfo, action: ActionIgnore, rule: "runtime-owned", fields: "/tags/Scanner", explain: "owned by runtime"},
		},
	}, {
		name: "unexplained compute change gets risk from domain, environment and tier",
		unit: testUnit(func(u *ManagedUnit) { u.Spec.AutoHeal = true }),
		obs: Observation{Ref: "module.app.aws_instance.web[0]", Type: "aws_instance", DesiredKnown: true,
			Recorded: map[string]any{"instance_type": "t3.small"}, Actual: map[string]any{"instance_type": "t3.large"}, Desired: map[string]any{"instance_type": "t3.small"}},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskHigh, action: ActionRuntimeRevert, rule: "unexplained", fields: "/instance_type", blocking: false, heal: true}},
	}, {
		name: "same change in dev on a low tier is low",
		unit: testUnit(func(u *ManagedUnit) { u.Spec.Environment = "development"; u.Spec.RiskTier = "low"; u.Spec.Gate = "low" }),
		obs: Observation{Ref: "aws_instance.web", Type: "aws_instance",
			Recorded: map[string]any{"instance_type": "t3.small"}, Actual: map[string]any{"instance_type": "t3.large"}},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskLow, action: ActionRuntimeRevert, rule: "unexplained", fields: "/instance_type", blocking: true}},
	}, {
		name: "desired already matches actual: state drift only",
		unit: testUnit(),
		obs: Observation{Ref: "aws_instance.web", Type: "aws_instance", DesiredKnown: true,
			Recorded: map[string]any{"instance_type": "t3.small"}, Actual: map[string]any{"instance_type": "t3.large"}, Desired: map[string]any{"instance_type": "t3.large"}},
		wants: []want{{class: ClassState, risk: RiskLow, action: ActionStateRefresh, rule: "state-only", fields: "/instance_type"}},
	}, {
		name: "desired unknown at the path is not state-only",
		unit: testUnit(),
		obs: Observation{Ref: "aws_instance.web", Type: "aws_instance", DesiredKnown: true, DesiredUnknown: []Pointer{MustPointer("/instance_type")},
			Recorded: map[string]any{"instance_type": "t3.small"}, Actual: map[string]any{"instance_type": "t3.large"}, Desired: map[string]any{"instance_type": nil}},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskHigh, action: ActionRuntimeRevert, rule: "unexplained", fields: "/instance_type"}},
	}, {
		name: "deleted outside IaC is state drift",
		unit: testUnit(),
		obs:  Observation{Ref: "local_file.a", Type: "local_file", Deleted: true, Recorded: map[string]any{"content": "x"}},
		wants: []want{{class: ClassState, risk: RiskMedium, action: ActionStateRefresh, rule: "deleted-outside", fields: "", blocking: false,
			explain: "no exception matches local_file.a"}},
	}, {
		name:  "a database deleted outside IaC is an incident",
		unit:  testUnit(),
		obs:   Observation{Ref: "aws_db_instance.main", Type: "aws_db_instance", Deleted: true, Recorded: map[string]any{"id": "db"}},
		wants: []want{{class: ClassState, risk: RiskCritical, action: ActionIncident, rule: "deleted-data", blocking: true}},
	}, {
		name:  "state drift exception without paths accepts the deletion",
		unit:  testUnit(func(u *ManagedUnit) { u.Spec.Gate = "medium" }),
		exc:   []*Exception{exception("EXC-4", "local_file.a", "STATE_DRIFT", "2026-12-01T00:00:00Z")},
		obs:   Observation{Ref: "local_file.a", Type: "local_file", Deleted: true, Recorded: map[string]any{"content": "x"}},
		wants: []want{{class: ClassState, risk: RiskMedium, action: ActionStateRefresh, rule: "deleted-outside", accepted: "EXC-4"}},
	}, {
		name: "emergency change to a database parameter is ported to git, not reverted",
		unit: testUnit(),
		exc:  []*Exception{exception("EXC-5", "aws_db_parameter_group.main", "EMERGENCY_DRIFT", "2026-12-01T00:00:00Z", "/parameter")},
		obs: Observation{Ref: "aws_db_parameter_group.main", Type: "aws_db_parameter_group",
			Recorded: map[string]any{"parameter": []any{map[string]any{"name": "max_connections", "value": "100"}}},
			Actual:   map[string]any{"parameter": []any{map[string]any{"name": "max_connections", "value": "500"}}}},
		wants: []want{{class: ClassEmergency, risk: RiskCritical, action: ActionGitUpdatePR, rule: "emergency", fields: "/parameter/0/value", accepted: "EXC-5"}},
	}, {
		name: "incident required turns a revert into an incident",
		unit: testUnit(func(u *ManagedUnit) { u.Spec.IncidentRequired = true; u.Spec.Gate = "none" }),
		obs: Observation{Ref: "aws_instance.web", Type: "aws_instance",
			Recorded: map[string]any{"instance_type": "t3.small"}, Actual: map[string]any{"instance_type": "t3.large"}},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskHigh, action: ActionIncidentAndRevert, rule: "incident-required", fields: "/instance_type"}},
	}, {
		name: "domain override replaces the default for its domain",
		unit: testUnit(func(u *ManagedUnit) {
			u.Spec.DomainOverrides = []DomainOverride{{Domain: DomainCompute, Risk: "low", Action: "git_update_pr"}}
		}),
		obs: Observation{Ref: "aws_instance.web", Type: "aws_instance",
			Recorded: map[string]any{"instance_type": "t3.small"}, Actual: map[string]any{"instance_type": "t3.large"}},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskLow, action: ActionGitUpdatePR, rule: "unexplained+override:compute", fields: "/instance_type"}},
	}, {
		name: "secrets drift does not self-heal",
		unit: testUnit(func(u *ManagedUnit) { u.Spec.AutoHeal = true; u.Spec.RiskTier = "high" }),
		obs: Observation{Ref: "aws_ssm_parameter.p", Type: "aws_ssm_parameter", DesiredKnown: true,
			Recorded: map[string]any{"value": testDigester.Digest("a")}, Actual: map[string]any{"value": testDigester.Digest("b")}, Desired: map[string]any{"value": testDigester.Digest("a")},
			SensitivePaths: []Pointer{MustPointer("/value")}},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskHigh, action: ActionRuntimeRevert, rule: "sensitive-domain", fields: "/value"}},
	}, {
		name: "image patched in prod reverts with an alert",
		unit: testUnit(func(u *ManagedUnit) { u.Spec.Kind = UnitKubernetes; u.Spec.OwnershipRules = nil }),
		obs: Observation{Ref: "apps/v1/Deployment/web/web", Type: "apps/Deployment", Group: "apps", Kind: "Deployment",
			Recorded: js(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"web:1"}]}}}}`),
			Actual:   js(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"web:2"}]}}}}`)},
		wants: []want{{class: ClassUnauthorizedRuntime, risk: RiskHigh, action: ActionIncidentAndRevert, rule: "image-patched-prod", fields: "/spec/template/spec/containers/0/image"}},
	}, {
		name: "a field the GitOps applier itself wrote is a pending sync, not runtime drift",
		unit: testUnit(func(u *ManagedUnit) { u.Spec.Kind = UnitKubernetes; u.Spec.OwnershipRules = nil }),
		obs: Observation{Ref: "/v1/Service/web/web", Type: "/Service", Kind: "Service",
			Recorded: js(`{"spec":{"ports":{"port=80":{"targetPort":8080}}}}`), Actual: js(`{"spec":{"ports":{"port=80":{"targetPort":8081}}}}`),
			FieldOwner: func(Pointer) (string, string) { return "argocd-controller", ManagerApplier }},
		wants: []want{{class: ClassStaleDesiredState, risk: RiskLow, action: ActionRuntimeRevert, rule: "pending-sync", fields: "/spec/ports/port=80/targetPort", explain: "owned by argocd-controller"}},
	}, {
		name: "a break-glass actor without an exception is emergency drift that needs an owner",
		unit: testUnit(func(u *ManagedUnit) { u.Spec.BreakGlassGroups = []string{"sre-breakglass"} }),
		obs: Observation{Ref: "aws_instance.web", Type: "aws_instance", Actor: &Actor{Username: "alice", Groups: []string{"devs", "sre-breakglass"}, Kind: ActorHuman},
			Recorded: map[string]any{"instance_type": "t3.small"}, Actual: map[string]any{"instance_type": "t3.large"}},
		wants: []want{{class: ClassEmergency, risk: RiskHigh, action: ActionIncident, rule: "break-glass", fields: "/instance_type"}},
	}, {
		name: "emergency exception on widened identity stays an incident",
		unit: testUnit(),
		exc:  []*Exception{exception("EXC-6", "aws_iam_role_policy.p", "EMERGENCY_DRIFT", "2026-12-01T00:00:00Z", "/policy")},
		obs: Observation{Ref: "aws_iam_role_policy.p", Type: "aws_iam_role_policy",
			Recorded: map[string]any{"policy": policyV1}, Actual: map[string]any{"policy": policyWider}},
		wants: []want{{class: ClassEmergency, risk: RiskCritical, action: ActionIncident, rule: "emergency-identity", fields: "/policy", accepted: "EXC-6"}},
	}}
	hit := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Evaluate(tc.unit, tc.exc, []Observation{tc.obs}, atNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Findings) != len(tc.wants) {
				t.Fatalf("got %d findings, want %d: %+v", len(rep.Findings), len(tc.wants), rep.Findings)
			}
			for i, w := range tc.wants {
				f := rep.Findings[i]
				hit[strings.Split(f.Rule, "+")[0]] = true
				got := want{f.DriftClass, f.Risk, f.RecommendedAction, f.Rule, strings.Join(f.ChangedFields, ","), f.Blocking, f.AutoHealAllowed, f.AcceptedBy, ""}
				w2 := w
				w2.explain = ""
				if got != w2 {
					t.Errorf("finding %d:\n got %+v\nwant %+v", i, got, w2)
				}
				if w.explain != "" && !strings.Contains(f.Explanation, w.explain) {
					t.Errorf("explanation %q does not contain %q", f.Explanation, w.explain)
				}
			}
		})
	}
	for _, r := range DefaultTable().Rules {
		// Policy rows judge policy rules, not drift: TestPolicyRowsExercised covers them.
		// Rows of what a plan marks besides drift: TestReconcileRows covers them.
		if !hit[r.ID] && len(r.When.Policy) == 0 && !reconcileRow(r) && !liveRow(r) && !argoReconcileRow(r) {
			t.Errorf("decision rule %q is not exercised by any case", r.ID)
		}
	}
}

func TestEvaluateStatusAndGate(t *testing.T) {
	noise := Observation{Ref: "aws_iam_policy.p", Type: "aws_iam_policy",
		Recorded: map[string]any{"policy": policyV1}, Actual: map[string]any{"policy": policyV1Reorder}}
	rep, err := Evaluate(testUnit(), nil, []Observation{noise}, atNow)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusClean || rep.BlockingCount != 0 {
		t.Errorf("noise only: status %s blocking %d, want clean 0", rep.Status, rep.BlockingCount)
	}
	rep, _ = Evaluate(testUnit(), nil, nil, atNow)
	if rep.Status != StatusClean || rep.Summary != "no drift" || rep.Findings == nil {
		t.Errorf("empty: %+v", rep)
	}
	open := Observation{Ref: "aws_security_group.x", Type: "aws_security_group", Recorded: sg("10.0.0.0/8"), Actual: sg("0.0.0.0/0")}
	rep, _ = Evaluate(testUnit(func(u *ManagedUnit) { u.Spec.Gate = "none" }), nil, []Observation{open}, atNow)
	if rep.Status != StatusDrifted || rep.BlockingCount != 0 {
		t.Errorf("gate none: status %s blocking %d, want drifted 0", rep.Status, rep.BlockingCount)
	}
	if !strings.Contains(rep.Summary, "1 CRITICAL") || !strings.Contains(rep.Summary, "0 blocking at gate none") {
		t.Errorf("summary %q", rep.Summary)
	}
	other := exception("EXC-9", "aws_security_group.x", "EMERGENCY_DRIFT", "2026-12-01T00:00:00Z", "/ingress")
	other.Spec.Unit = "someone-else"
	rep, _ = Evaluate(testUnit(), []*Exception{other}, []Observation{open}, atNow)
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "someone-else") || rep.BlockingCount != 1 {
		t.Errorf("foreign exception: warnings %v blocking %d", rep.Warnings, rep.BlockingCount)
	}
}

func TestEvaluateIsDeterministic(t *testing.T) {
	obs := []Observation{
		{Ref: "aws_security_group.b", Type: "aws_security_group", Recorded: sg("10.0.0.0/8"), Actual: sg("0.0.0.0/0")},
		{Ref: "aws_instance.a", Type: "aws_instance", Recorded: map[string]any{"tags": map[string]any{"Owner": "a", "X": "1"}, "ami": "1"},
			Actual: map[string]any{"tags": map[string]any{"Owner": "b", "X": "2"}, "ami": "2"}},
		{Ref: "local_file.c", Type: "local_file", Deleted: true, Recorded: map[string]any{"content": "x"}},
	}
	reversed := []Observation{obs[2], obs[1], obs[0]}
	var outs [][]byte
	for _, in := range [][]Observation{obs, reversed, obs} {
		rep, err := Evaluate(testUnit(), nil, in, atNow, WithDetectedAt("2026-11-22T10:00:00Z"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := CanonicalJSON(rep)
		outs = append(outs, b)
	}
	for i := 1; i < len(outs); i++ {
		if !bytes.Equal(outs[0], outs[i]) {
			t.Fatalf("evaluation %d differs:\n%s\n%s", i, outs[0], outs[i])
		}
	}
	// A different value gives a different finding id.
	obs[1].Actual.(map[string]any)["ami"] = "3"
	rep1, _ := Evaluate(testUnit(), nil, obs, atNow)
	b, _ := CanonicalJSON(rep1)
	if bytes.Equal(b, outs[0]) {
		t.Fatal("changing a drifted value did not change the report")
	}
}

func TestSensitiveValuesNeverLeave(t *testing.T) {
	const secret = "hunter2-very-secret"
	before := map[string]any{"password": secret, "name": "db", "nested": map[string]any{"token": "tok-" + secret}}
	after := map[string]any{"password": secret + "-rotated", "name": "db", "nested": map[string]any{"token": "tok2-" + secret}}
	mask := map[string]any{"password": true, "nested": map[string]any{"token": true}}
	rec, sp1 := testDigester.Redact(before, mask)
	act, sp2 := testDigester.Redact(after, mask)
	if len(sp1) != 2 || len(sp2) != 2 {
		t.Fatalf("redacted paths %v %v", sp1, sp2)
	}
	rep, err := Evaluate(testUnit(), nil, []Observation{{Ref: "aws_db_instance.main", Type: "aws_db_instance",
		Recorded: rec, Actual: act, SensitivePaths: sp1}}, atNow)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := CanonicalJSON(rep)
	if bytes.Contains(out, []byte("hunter2")) {
		t.Fatalf("secret leaked into the report: %s", out)
	}
	f := rep.Findings[0]
	if strings.Join(f.SensitiveFields, ",") != "/nested/token,/password" {
		t.Errorf("sensitive fields %v", f.SensitiveFields)
	}
	if d := f.Describe(); strings.Contains(d, "hunter2") || !strings.Contains(d, "values withheld") {
		t.Errorf("Describe: %s", d)
	}
}

// atNow fixes the core's clock for tests; front ends never can (see Options.Now).
var atNow = WithClock(func() time.Time { return now })
