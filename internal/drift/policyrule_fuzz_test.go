package drift

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// fuzzSecret stands for a sensitive value: it is only ever at /password, which the observation
// marks sensitive, so no rule may see it and no finding may carry it.
const fuzzSecret = "s3cr3t-fuzz-value"

// FuzzPolicyRules feeds arbitrary rule expressions and resource values: no panic and no hang
// (the cost limit ends every evaluation); a rule that compiles is judged on every resource it
// applies to and yields at most one finding, of a policy row's class, whose explanation names the
// rule and never the sensitive value; the same input yields the same findings.
func FuzzPolicyRules(f *testing.F) {
	for _, s := range []struct{ expr, values string }{
		{"has(resource.values.tags) && 'owner' in resource.values.tags", `{"tags":{"owner":"x"}}`},
		{"resource.values.file_permission == '0600'", `{"file_permission":"0644"}`},
		{"resource.values.encrypted == true", `{"encrypted":null}`},
		{"['a','b'].all(k, k in resource.values && resource.values[k] == true)", `{"a":true,"b":false}`},
		{"resource.values.password == '" + fuzzSecret + "'", `{"x":1}`},
		{"resource.values.items.exists(i, i.name.startsWith('p'))", `{"items":[{"name":"pub"},{"name":3}]}`},
		{"resource.values.n > 2.5 && unit.tier == 'high'", `{"n":3}`},
		{"resource.values.?missing.orValue('x') == 'x'", `{}`},
		{"size(resource.values.s) < 10", `{"s":"` + strings.Repeat("a", 20) + `"}`},
		{"resource.values.l.all(x, resource.values.l.all(y, x != y || x == y))", `{"l":[1,2,3,4,5,6,7,8]}`},
		{"1 / 0 == 1", `{}`},
		{"resource.values.matches('(')", `{}`},
	} {
		f.Add(s.expr, []byte(s.values))
	}
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	base := shippedPolicyUnit(f)
	f.Fuzz(func(t *testing.T, expr string, values []byte) {
		var v any
		if json.Unmarshal(values, &v) != nil || CheckJSONDepth(values, MaxJSONDepth) != nil {
			return
		}
		if m, ok := v.(map[string]any); ok {
			m["password"] = fuzzSecret
		}
		u := &ManagedUnit{Metadata: base.Metadata, Spec: *base.Spec.DeepCopy()}
		u.Spec.PolicyRules = []PolicyRule{{ID: "fuzz", Expression: expr, Message: "m", Since: "2026-06-01T00:00:00Z", MigrationWindow: "24h"}}
		if err := u.Validate(); err != nil {
			if !strings.Contains(err.Error(), "spec.policyRules[0]") {
				t.Fatalf("validation error does not name the rule: %v", err)
			}
			return
		}
		obs := Observation{Ref: "x_thing.a", Type: "x_thing", Recorded: v, Actual: v, SensitivePaths: []Pointer{MustPointer("/password")}}
		run := func() []Finding {
			rep, err := Evaluate(u, nil, nil, WithResources([]Observation{obs}), WithClock(func() time.Time { return at }), WithDetectedAt("2026-07-01T00:00:00Z"))
			if err != nil {
				t.Fatal(err)
			}
			return policyOnly(rep)
		}
		got := run()
		if len(got) > 1 {
			t.Fatalf("one rule, one resource, %d findings", len(got))
		}
		for _, f := range got {
			switch f.DriftClass {
			case ClassPolicy, ClassUnknown:
			default:
				t.Fatalf("class %s for a resource that did not drift", f.DriftClass)
			}
			b, _ := json.Marshal(f)
			if strings.Contains(string(b), fuzzSecret) {
				t.Fatalf("the sensitive value reached a finding: %s", b)
			}
			if !strings.Contains(f.Explanation, "Policy rule fuzz") {
				t.Fatalf("explanation does not name the rule: %q", f.Explanation)
			}
		}
		again := run()
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
	})
}
