package drift

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shippedPolicyUnit is the example unit with the shipped rules (mandatory tags, encryption at
// rest, no public buckets, file permissions), so the examples are what the tests run.
func shippedPolicyUnit(t testing.TB) *ManagedUnit {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "policy-rules", ".drift", "unit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := DecodeUnit("unit.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	return u
}

var (
	policySince    = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	inWindow       = policySince.Add(24 * time.Hour)
	pastWindow     = policySince.Add(2200 * time.Hour) // past every shipped window (720h, 2160h)
	beforeSince    = policySince.Add(-time.Hour)
	fixedPolicyNow = func(at time.Time) Option { return WithClock(func() time.Time { return at }) }
)

func policyResource(ref, typ string, values any) Observation {
	return Observation{Ref: ref, Type: typ, Recorded: values, Actual: values}
}

func policyOnly(rep *Report) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if f.PolicyRule != "" {
			out = append(out, f)
		}
	}
	return out
}

func TestPolicyRulesShippedExamples(t *testing.T) {
	u := shippedPolicyUnit(t)
	type want struct {
		rule     string
		class    Class
		action   Action
		blocking bool
		row      string
	}
	cases := []struct {
		name   string
		typ    string
		values string
		at     time.Time
		want   []want // empty: complies
	}{
		{"tagged bucket complies", "aws_s3_bucket", `{"bucket":"b","tags":{"owner":"payments"}}`, pastWindow, nil},
		{"untagged bucket in window", "aws_s3_bucket", `{"bucket":"b","tags":{"env":"prod"}}`, inWindow,
			[]want{{"owner-tag", ClassPolicy, ActionMigrationPlan, false, "policy-migration-window"}}},
		{"null tags past window", "aws_s3_bucket", `{"bucket":"b","tags":null}`, pastWindow,
			[]want{{"owner-tag", ClassPolicy, ActionMigrationPlan, true, "policy-migration-overdue"}}},
		{"empty owner tag before since", "aws_instance", `{"tags":{"owner":""}}`, beforeSince,
			[]want{{"owner-tag", ClassPolicy, ActionMigrationPlan, false, "policy-migration-window"}}},
		{"encrypted database", "aws_db_instance", `{"storage_encrypted":true,"tags":{"owner":"x"}}`, pastWindow, nil},
		{"unencrypted volume in window", "aws_ebs_volume", `{"encrypted":false,"tags":{"owner":"x"}}`, policySince.Add(1000 * time.Hour),
			[]want{{"encrypted-at-rest", ClassPolicy, ActionMigrationPlan, false, "policy-migration-window"}}},
		{"unencrypted database past window", "aws_db_instance", `{"storage_encrypted":false,"tags":{"owner":"x"}}`, pastWindow,
			[]want{{"encrypted-at-rest", ClassPolicy, ActionMigrationPlan, true, "policy-migration-overdue"}}},
		{"public access blocked", "aws_s3_bucket_public_access_block",
			`{"block_public_acls":true,"block_public_policy":true,"ignore_public_acls":true,"restrict_public_buckets":true,"tags":{"owner":"x"}}`, pastWindow, nil},
		// No migration window: a public bucket blocks as soon as the rule is in effect.
		{"public bucket", "aws_s3_bucket_public_access_block",
			`{"block_public_acls":true,"block_public_policy":false,"ignore_public_acls":true,"restrict_public_buckets":true,"tags":{"owner":"x"}}`, inWindow,
			[]want{{"no-public-buckets", ClassPolicy, ActionMigrationPlan, true, "policy-migration-overdue"}}},
		{"setting missing counts as public", "aws_s3_bucket_public_access_block", `{"tags":{"owner":"x"}}`, inWindow,
			[]want{{"no-public-buckets", ClassPolicy, ActionMigrationPlan, true, "policy-migration-overdue"}}},
		{"private file", "local_file", `{"filename":"a","file_permission":"0600"}`, pastWindow, nil},
		{"world-readable file in window", "local_file", `{"filename":"a","file_permission":"0644"}`, inWindow,
			[]want{{"private-files", ClassPolicy, ActionMigrationPlan, false, "policy-migration-window"}}},
		{"world-readable file past window", "local_file", `{"filename":"a","file_permission":"0777"}`, pastWindow,
			[]want{{"private-files", ClassPolicy, ActionMigrationPlan, true, "policy-migration-overdue"}}},
		{"rule applies to its types only", "google_storage_bucket", `{"labels":{}}`, pastWindow, nil},
		{"two rules, two findings", "aws_ebs_volume", `{"encrypted":false}`, pastWindow, []want{
			{"encrypted-at-rest", ClassPolicy, ActionMigrationPlan, true, "policy-migration-overdue"},
			{"owner-tag", ClassPolicy, ActionMigrationPlan, true, "policy-migration-overdue"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := policyResource(tc.typ+".r", tc.typ, js(tc.values))
			rep, err := Evaluate(u, nil, nil, WithResources([]Observation{res}), fixedPolicyNow(tc.at))
			if err != nil {
				t.Fatal(err)
			}
			got := policyOnly(rep)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d policy findings, want %d: %+v", len(got), len(tc.want), got)
			}
			byRule := map[string]Finding{}
			for _, f := range got {
				byRule[f.PolicyRule] = f
			}
			for _, w := range tc.want {
				f, ok := byRule[w.rule]
				if !ok {
					t.Fatalf("no finding for rule %s: %+v", w.rule, got)
				}
				if f.DriftClass != w.class || f.RecommendedAction != w.action || f.Blocking != w.blocking || f.Rule != w.row {
					t.Errorf("rule %s: got %s/%s blocking=%v row %s, want %s/%s blocking=%v row %s", w.rule,
						f.DriftClass, f.RecommendedAction, f.Blocking, f.Rule, w.class, w.action, w.blocking, w.row)
				}
				if !strings.Contains(f.Explanation, "Policy rule "+w.rule) {
					t.Errorf("explanation does not name the rule: %q", f.Explanation)
				}
				if f.AutoHealAllowed {
					t.Error("a policy finding never heals itself")
				}
				if f.Fingerprint = Fingerprint(f); f.Fingerprint == "" {
					t.Error("no fingerprint")
				}
			}
			if len(tc.want) > 0 && rep.Status != StatusDrifted {
				t.Errorf("status %s, want drifted", rep.Status)
			}
		})
	}
}

// Risk comes from the domain: the same violation is riskier on data than on a local file.
func TestPolicyRiskFromDomain(t *testing.T) {
	u := shippedPolicyUnit(t)
	rep, err := Evaluate(u, nil, nil, WithResources([]Observation{
		policyResource("aws_db_instance.db", "aws_db_instance", js(`{"storage_encrypted":false,"tags":{"owner":"x"}}`)),
		policyResource("local_file.f", "local_file", js(`{"file_permission":"0644"}`)),
	}), fixedPolicyNow(inWindow))
	if err != nil {
		t.Fatal(err)
	}
	risk := map[string]Risk{}
	for _, f := range policyOnly(rep) {
		risk[f.ResourceRef] = f.Risk
	}
	tbl := DefaultTable()
	if want := tbl.ComputeRisk(DomainData, EnvProd, "high"); risk["aws_db_instance.db"] != want {
		t.Errorf("data risk %s, want %s", risk["aws_db_instance.db"], want)
	}
	if want := tbl.ComputeRisk(DomainOther, EnvProd, "high"); risk["local_file.f"] != want {
		t.Errorf("other risk %s, want %s", risk["local_file.f"], want)
	}
}

// Out-of-band drift that breaks a rule is unauthorized drift naming the rule, and blocks at once;
// drift on a resource that already violated the rule keeps its migration window.
func TestPolicyViolationIntroducedByDrift(t *testing.T) {
	u := shippedPolicyUnit(t)
	drifted := Observation{Ref: "local_file.f", Type: "local_file",
		Recorded: js(`{"file_permission":"0600","content":"x"}`), Actual: js(`{"file_permission":"0644","content":"x"}`)}
	rep, err := Evaluate(u, nil, []Observation{drifted}, fixedPolicyNow(inWindow))
	if err != nil {
		t.Fatal(err)
	}
	pf := policyOnly(rep)
	if len(pf) != 1 {
		t.Fatalf("policy findings: %+v", rep.Findings)
	}
	f := pf[0]
	if f.DriftClass != ClassUnauthorizedRuntime || f.Rule != "policy-violation-introduced" || !f.Blocking || f.PolicyRule != "private-files" {
		t.Errorf("got %+v", f)
	}
	if !strings.Contains(f.Explanation, "file_permission must be 0600") {
		t.Errorf("explanation lacks the message: %q", f.Explanation)
	}
	// The drift itself is still reported on its own, with a different fingerprint.
	if len(rep.Findings) != 2 || Fingerprint(rep.Findings[0]) == Fingerprint(rep.Findings[1]) {
		t.Errorf("want the drift finding and the policy finding apart: %+v", rep.Findings)
	}

	// Already violating in the recorded state: still a migration, though the content drifted.
	old := Observation{Ref: "local_file.f", Type: "local_file",
		Recorded: js(`{"file_permission":"0644","content":"x"}`), Actual: js(`{"file_permission":"0755","content":"y"}`)}
	rep, err = Evaluate(u, nil, []Observation{old}, fixedPolicyNow(inWindow))
	if err != nil {
		t.Fatal(err)
	}
	if pf := policyOnly(rep); len(pf) != 1 || pf[0].DriftClass != ClassPolicy || pf[0].Blocking {
		t.Errorf("pre-existing violation: %+v", pf)
	}

	// Before the rule takes effect, a violation drift brings is a migration, not unauthorized.
	rep, err = Evaluate(u, nil, []Observation{drifted}, fixedPolicyNow(beforeSince))
	if err != nil {
		t.Fatal(err)
	}
	if pf := policyOnly(rep); len(pf) != 1 || pf[0].DriftClass != ClassPolicy || pf[0].Blocking {
		t.Errorf("before since: %+v", pf)
	}
}

// A gate of "none" never blocks, not even an overdue violation.
func TestPolicyGateNoneNeverBlocks(t *testing.T) {
	u := shippedPolicyUnit(t)
	u.Spec.Gate = GateNone
	rep, err := Evaluate(u, nil, nil, WithResources([]Observation{policyResource("local_file.f", "local_file", js(`{"file_permission":"0644"}`))}), fixedPolicyNow(pastWindow))
	if err != nil {
		t.Fatal(err)
	}
	if rep.BlockingCount != 0 || len(policyOnly(rep)) != 1 {
		t.Errorf("gate none: %+v", rep)
	}
}

// An exception of class POLICY_DRIFT accepts a violation, so it does not block.
func TestPolicyExceptionAccepts(t *testing.T) {
	u := shippedPolicyUnit(t)
	at := pastWindow
	ex := &Exception{Metadata: Metadata{Name: "legacy-file"}, Spec: ExceptionSpec{
		Unit: u.Metadata.Name, Resource: "local_file.f", Paths: []string{"/file_permission"}, DriftClass: string(ClassPolicy),
		Reason: "the legacy reader needs group read", Ticket: "MIG-7", ApprovedBy: "security", ExpiresAt: at.Add(48 * time.Hour).Format(time.RFC3339),
	}}
	rep, err := Evaluate(u, []*Exception{ex}, nil, WithResources([]Observation{policyResource("local_file.f", "local_file", js(`{"file_permission":"0644"}`))}), fixedPolicyNow(at))
	if err != nil {
		t.Fatal(err)
	}
	pf := policyOnly(rep)
	if len(pf) != 1 || pf[0].AcceptedBy != "legacy-file" || pf[0].Blocking || rep.BlockingCount != 0 {
		t.Errorf("exception: %+v", pf)
	}
}

// Sensitive values are absent from resource.values: a rule cannot read them, so a rule that tries
// is UNKNOWN (never a pass), and no digest of them reaches the rule.
func TestPolicySensitiveValuesAbsent(t *testing.T) {
	u := shippedPolicyUnit(t)
	u.Spec.PolicyRules = []PolicyRule{
		{ID: "no-password-read", Expression: "resource.values.password == 'hunter2'", Since: policySince.Format(time.RFC3339)},
		{ID: "password-absent", Expression: "!has(resource.values.password) && !has(resource.values.nested.token)", Since: policySince.Format(time.RFC3339)},
	}
	values := js(`{"password":"sha256:digest-of-secret","nested":{"token":"sha256:digest","keep":1}}`)
	obs := Observation{Ref: "aws_db_instance.db", Type: "aws_db_instance", Recorded: values, Actual: values,
		SensitivePaths: []Pointer{MustPointer("/password"), MustPointer("/nested/token")}}
	rep, err := Evaluate(u, nil, nil, WithResources([]Observation{obs}), fixedPolicyNow(inWindow))
	if err != nil {
		t.Fatal(err)
	}
	pf := policyOnly(rep)
	if len(pf) != 1 || pf[0].PolicyRule != "no-password-read" || pf[0].DriftClass != ClassUnknown {
		t.Fatalf("got %+v", pf)
	}
	if strings.Contains(pf[0].Explanation, "digest") {
		t.Errorf("explanation leaks a value: %q", pf[0].Explanation)
	}
	// The observation itself is untouched.
	if _, ok := ValueAt(obs.Actual, MustPointer("/password")); !ok {
		t.Error("the input was mutated")
	}
}

func TestPolicyRuleValidation(t *testing.T) {
	base := func(rules ...PolicyRule) *ManagedUnit {
		u := shippedPolicyUnit(t)
		u.Spec.PolicyRules = rules
		return u
	}
	ok := PolicyRule{ID: "ok", Expression: "true"}
	cases := []struct {
		name  string
		rules []PolicyRule
		field string
		msg   string
	}{
		{"compile error", []PolicyRule{ok, ok2("b"), {ID: "broken", Expression: "resource.values.tags.exists(t,"}},
			"spec.policyRules[2].expression", `rule "broken": does not compile`},
		{"undeclared variable", []PolicyRule{{ID: "x", Expression: "request.user == 'a'"}}, "spec.policyRules[0].expression", "does not compile"},
		{"not bool", []PolicyRule{{ID: "x", Expression: "resource.values.file_permission"}}, "spec.policyRules[0].expression", "must return bool"},
		{"string result", []PolicyRule{{ID: "x", Expression: "'yes'"}}, "spec.policyRules[0].expression", "must return bool"},
		{"cost", []PolicyRule{{ID: "deep", Expression: "resource.values.a.all(x, resource.values.b.all(y, resource.values.c.all(z, x == y && y == z)))"}},
			"spec.policyRules[0].expression", "exceeds the limit"},
		{"empty expression", []PolicyRule{{ID: "x"}}, "spec.policyRules[0].expression", "is required"},
		{"too long", []PolicyRule{{ID: "x", Expression: strings.Repeat("true && ", MaxPolicyExpressionLength)}}, "spec.policyRules[0].expression", "at most"},
		{"duplicate id", []PolicyRule{ok, ok}, "spec.policyRules[1].id", "declared twice"},
		{"bad id", []PolicyRule{{ID: "has space", Expression: "true"}}, "spec.policyRules[0].id", "want letters"},
		{"bad since", []PolicyRule{{ID: "x", Expression: "true", Since: "June 1st"}}, "spec.policyRules[0].since", "RFC 3339"},
		{"bad window", []PolicyRule{{ID: "x", Expression: "true", Since: "2026-06-01T00:00:00Z", MigrationWindow: "a month"}}, "spec.policyRules[0].migrationWindow", "duration"},
		{"window without since", []PolicyRule{{ID: "x", Expression: "true", MigrationWindow: "24h"}}, "spec.policyRules[0].migrationWindow", "needs since"},
		{"bad glob", []PolicyRule{{ID: "x", Expression: "true", AppliesTo: []string{""}}}, "spec.policyRules[0].appliesTo[0]", "glob"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := base(tc.rules...).Validate()
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a validation error, got %v", err)
			}
			found := false
			for _, fe := range ve.Errors {
				if fe.Field == tc.field && strings.Contains(fe.Message, tc.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("no error on %s containing %q: %v", tc.field, tc.msg, err)
			}
			// Evaluate refuses the unit too: a rule that cannot run never passes silently.
			if _, err := Evaluate(base(tc.rules...), nil, nil); err == nil {
				t.Error("Evaluate accepted the unit")
			}
		})
	}
}

func ok2(id string) PolicyRule { return PolicyRule{ID: id, Expression: "resource.type != ''"} }

// Evaluation errors are UNKNOWN findings naming the rule, never a pass: a missing key, a type
// error, and the runtime cost limit on values larger than the static estimate assumed.
func TestPolicyEvaluationErrorsAreUnknown(t *testing.T) {
	big := make([]any, 5000)
	for i := range big {
		big[i] = float64(i)
	}
	cases := []struct {
		name, expr string
		values     any
	}{
		{"missing key", "resource.values.tags.owner == 'x'", js(`{"tags":{}}`)},
		{"type error", "resource.values.count > 'a'", js(`{"count":3}`)},
		{"null map", "'owner' in resource.values.tags", js(`{"tags":null}`)},
		{"runtime cost", "resource.values.items.all(x, resource.values.items.all(y, x + y >= 0.0))", map[string]any{"items": big}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := shippedPolicyUnit(t)
			u.Spec.PolicyRules = []PolicyRule{{ID: "r", Expression: tc.expr, Message: "m"}}
			if err := u.Validate(); err != nil {
				t.Fatal(err)
			}
			rep, err := Evaluate(u, nil, nil, WithResources([]Observation{policyResource("x_thing.a", "x_thing", tc.values)}), fixedPolicyNow(inWindow))
			if err != nil {
				t.Fatal(err)
			}
			pf := policyOnly(rep)
			if len(pf) != 1 || pf[0].DriftClass != ClassUnknown || pf[0].Rule != "policy-evaluation-error" || pf[0].PolicyRule != "r" {
				t.Fatalf("got %+v", pf)
			}
			if !strings.Contains(pf[0].Explanation, "could not be evaluated") {
				t.Errorf("explanation: %q", pf[0].Explanation)
			}
		})
	}
}

// The unit variables and the resource's type and address are visible to rules.
func TestPolicyVariables(t *testing.T) {
	u := shippedPolicyUnit(t)
	u.Spec.PolicyRules = []PolicyRule{{ID: "vars", Expression: "unit.name == 'payments-prod' && unit.environment == 'prod' && unit.tier == 'high' && " +
		"resource.type == 'local_file' && resource.address.startsWith('module.m.') && resource.values.filename.endsWith('.txt') && " +
		"resource.values.?missing.orValue('d') == 'd'"}}
	rep, err := Evaluate(u, nil, nil, WithResources([]Observation{policyResource("module.m.local_file.f", "local_file", js(`{"filename":"a.txt"}`))}), fixedPolicyNow(inWindow))
	if err != nil {
		t.Fatal(err)
	}
	if pf := policyOnly(rep); len(pf) != 0 {
		t.Errorf("rule over the variables failed: %+v", pf)
	}
}

// Kubernetes resources match group/Kind globs.
func TestPolicyKubernetesGlobs(t *testing.T) {
	u := shippedPolicyUnit(t)
	u.Spec.PolicyRules = []PolicyRule{{ID: "team-label", AppliesTo: []string{"apps/*"}, Expression: "has(resource.values.metadata.labels) && 'team' in resource.values.metadata.labels"}}
	deploy := Observation{Ref: "apps/v1/Deployment/ns/web", Type: "apps/Deployment", Group: "apps", Kind: "Deployment",
		Recorded: js(`{"metadata":{"labels":{}}}`), Actual: js(`{"metadata":{"labels":{}}}`)}
	cm := Observation{Ref: "v1/ConfigMap/ns/c", Type: "/ConfigMap", Kind: "ConfigMap", Recorded: js(`{"metadata":{}}`), Actual: js(`{"metadata":{}}`)}
	rep, err := Evaluate(u, nil, nil, WithResources([]Observation{deploy, cm}), fixedPolicyNow(inWindow))
	if err != nil {
		t.Fatal(err)
	}
	if pf := policyOnly(rep); len(pf) != 1 || pf[0].ResourceRef != deploy.Ref {
		t.Errorf("got %+v", pf)
	}
}

// The same input yields the same findings, bytes included.
func TestPolicyDeterministic(t *testing.T) {
	u := shippedPolicyUnit(t)
	res := []Observation{
		policyResource("local_file.a", "local_file", js(`{"file_permission":"0644"}`)),
		policyResource("aws_s3_bucket.b", "aws_s3_bucket", js(`{"tags":{}}`)),
	}
	var prev []byte
	for i := 0; i < 3; i++ {
		rep, err := Evaluate(u, nil, nil, WithResources(res), fixedPolicyNow(inWindow), WithDetectedAt("2026-06-02T00:00:00Z"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(rep)
		if prev != nil && string(b) != string(prev) {
			t.Fatal("reports differ")
		}
		prev = b
	}
}

func TestPolicyTableRowsChecked(t *testing.T) {
	bad := strings.Replace(string(decisionsYAML), "when: {policy: error}", "when: {policy: maybe}", 1)
	if _, err := LoadTable([]byte(bad)); err == nil || !strings.Contains(err.Error(), "unknown policy verdict") {
		t.Errorf("got %v", err)
	}
	bad = strings.Replace(string(decisionsYAML), "blocking: never", "blocking: sometimes", 1)
	if _, err := LoadTable([]byte(bad)); err == nil || !strings.Contains(err.Error(), "blocking") {
		t.Errorf("got %v", err)
	}
}

// Every policy row of the table is reached by some verdict, in the order the rows are listed.
func TestPolicyRowsExercised(t *testing.T) {
	u := shippedPolicyUnit(t)
	u.Spec.PolicyRules = append(u.Spec.PolicyRules, PolicyRule{ID: "broken-at-runtime", AppliesTo: []string{"local_file"}, Expression: "resource.values.nope == 1"})
	drifted := Observation{Ref: "local_file.d", Type: "local_file",
		Recorded: js(`{"file_permission":"0600"}`), Actual: js(`{"file_permission":"0644"}`)}
	hit := map[string]bool{}
	for _, at := range []time.Time{inWindow, pastWindow} {
		rep, err := Evaluate(u, nil, []Observation{drifted}, WithResources([]Observation{
			policyResource("local_file.f", "local_file", js(`{"file_permission":"0644"}`)),
		}), fixedPolicyNow(at))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range policyOnly(rep) {
			hit[f.Rule] = true
		}
	}
	for _, r := range DefaultTable().Rules {
		if len(r.When.Policy) > 0 && !hit[r.ID] {
			t.Errorf("policy row %q is not exercised", r.ID)
		}
	}
}

// Git declaring a complying value makes a violating runtime value out of band (an apply from
// outside Git), even when state recorded it; Git declaring the violation keeps it a migration;
// a desired value known only after apply decides nothing.
func TestPolicyDesiredComplies(t *testing.T) {
	u := shippedPolicyUnit(t)
	res := policyResource("local_file.f", "local_file", js(`{"file_permission":"0644"}`))
	res.DesiredKnown, res.Desired = true, js(`{"file_permission":"0600"}`)
	rep, err := Evaluate(u, nil, nil, WithResources([]Observation{res}), fixedPolicyNow(inWindow))
	if err != nil {
		t.Fatal(err)
	}
	if pf := policyOnly(rep); len(pf) != 1 || pf[0].Rule != "policy-violation-introduced" || !pf[0].Blocking {
		t.Errorf("git complies: %+v", pf)
	}
	res.Desired = js(`{"file_permission":"0644"}`)
	rep, _ = Evaluate(u, nil, nil, WithResources([]Observation{res}), fixedPolicyNow(inWindow))
	if pf := policyOnly(rep); len(pf) != 1 || pf[0].Rule != "policy-migration-window" {
		t.Errorf("git violates: %+v", pf)
	}
	res.Desired = js(`{"file_permission":"0600"}`)
	res.DesiredUnknown = []Pointer{MustPointer("/file_permission")}
	rep, _ = Evaluate(u, nil, nil, WithResources([]Observation{res}), fixedPolicyNow(inWindow))
	if pf := policyOnly(rep); len(pf) != 1 || pf[0].Rule != "policy-migration-window" {
		t.Errorf("desired unknown: %+v", pf)
	}
}

// The HCL example declares the same rules as the YAML one, expression for expression.
func TestPolicyExamplesAgree(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "policy-rules", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	hcl := string(data)
	for _, r := range shippedPolicyUnit(t).Spec.PolicyRules {
		for _, want := range []string{`"` + r.ID + `"`, `"` + r.Expression + `"`, `"` + r.Message + `"`, `"` + r.Since + `"`} {
			if !strings.Contains(hcl, want) {
				t.Errorf("main.tf lacks %s of rule %s", want, r.ID)
			}
		}
	}
}

// Rules that judge nothing are reported, never read as compliance: a typo in appliesTo, or a
// source that gave no inventory of the unit's resources.
func TestPolicyWarnsWhenNothingIsJudged(t *testing.T) {
	u := shippedPolicyUnit(t)
	u.Spec.PolicyRules = append(u.Spec.PolicyRules, PolicyRule{ID: "typo", AppliesTo: []string{"aws_s3_buckett"}, Expression: "true"})
	rep, err := Evaluate(u, nil, nil, WithResources([]Observation{policyResource("aws_s3_bucket.b", "aws_s3_bucket", js(`{"tags":{"owner":"x"}}`))}), fixedPolicyNow(inWindow))
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(rep.Warnings, "\n")
	if !strings.Contains(w, "policy rule typo applies to none") || strings.Contains(w, "policy rule owner-tag applies") {
		t.Errorf("warnings: %q", w)
	}
	rep, err = Evaluate(u, nil, nil, fixedPolicyNow(inWindow))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(rep.Warnings, "\n"); !strings.Contains(w, "no inventory") {
		t.Errorf("warnings: %q", w)
	}
	// Without rules, nothing is said.
	u.Spec.PolicyRules = nil
	if rep, _ = Evaluate(u, nil, nil); len(rep.Warnings) != 0 {
		t.Errorf("warnings without rules: %q", rep.Warnings)
	}
}

// Hostile expressions are refused at validation or bounded, never a panic or a hang: deep
// nesting, a huge generated list and a constant regular expression that does not compile are
// refused; long but cheap chains compile; a regular expression from the values that does not
// compile is UNKNOWN at evaluation.
func TestPolicyHostileExpressions(t *testing.T) {
	for _, c := range []struct {
		expr    string
		refused bool
	}{
		{strings.Repeat("(", 500) + "true" + strings.Repeat(")", 500), true},
		{"lists.range(100000000).size() > 0", true},
		{strings.Repeat("!", 3000) + "true", false},
		{"[" + strings.Repeat("1,", 1500) + "1].size() > 0", false},
		{"resource.values.name.matches('(')", true},
		{"resource.values.name.matches(resource.values.pattern)", false},
	} {
		start := time.Now()
		_, err := CompilePolicyRules([]PolicyRule{{ID: "h", Expression: c.expr}})
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%.40q took %s", c.expr, d)
		}
		if (err != nil) != c.refused {
			t.Errorf("%.40q: refused=%v, want %v (%v)", c.expr, err != nil, c.refused, err)
		}
	}
	u := shippedPolicyUnit(t)
	u.Spec.PolicyRules = []PolicyRule{{ID: "bad-regex", Expression: "resource.values.name.matches(resource.values.pattern)"}}
	rep, err := Evaluate(u, nil, nil, WithResources([]Observation{policyResource("x_a.b", "x_a", js(`{"name":"n","pattern":"("}`))}), fixedPolicyNow(inWindow))
	if err != nil {
		t.Fatal(err)
	}
	if pf := policyOnly(rep); len(pf) != 1 || pf[0].DriftClass != ClassUnknown {
		t.Errorf("bad regex: %+v", pf)
	}
}

// A DriftReport status keeps the policy rule of a finding both ways.
func TestPolicyRuleInDriftReportStatus(t *testing.T) {
	f := ObjectFinding{Finding: Finding{FindingID: "drift-1", PolicyRule: "team-label", DriftClass: ClassPolicy}}
	api := f.ToAPI()
	if api.PolicyRule != "team-label" || ObjectFindingFromAPI(api).PolicyRule != "team-label" {
		t.Errorf("lost: %+v", api)
	}
}
