package drift

import (
	"fmt"
	"testing"
	"time"
)

// benchPolicyRules are 20 rules, every one applying to every resource of the benchmark: the
// shipped kinds (tags, encryption, public access, file permissions) in variations, with
// comprehensions and string functions as real rules use them.
func benchPolicyRules() []PolicyRule {
	exprs := []string{
		"has(resource.values.tags) && resource.values.tags != null && 'owner' in resource.values.tags",
		"has(resource.values.tags) && 'cost-center' in resource.values.tags && resource.values.tags['cost-center'] != ''",
		"has(resource.values.encrypted) && resource.values.encrypted == true",
		"!has(resource.values.kms_key_id) || resource.values.kms_key_id.startsWith('arn:aws:kms:')",
		"['block_public_acls', 'block_public_policy'].all(k, k in resource.values && resource.values[k] == true)",
		"resource.values.file_permission == '0600'",
		"resource.values.file_permission in ['0600', '0400']",
		"!resource.values.name.contains('tmp')",
		"resource.values.name.matches('^[a-z][a-z0-9-]*$')",
		"size(resource.values.name) <= 63",
		"resource.values.ports.all(p, p != 22.0)",
		"!resource.values.ports.exists(p, p == 3389.0)",
		"resource.values.cidrs.all(c, c != '0.0.0.0/0')",
		"resource.values.replicas >= 2.0",
		"unit.environment != 'prod' || resource.values.replicas >= 3.0",
		"resource.type.startsWith('aws_')",
		"resource.address.contains('.')",
		"resource.values.?versioning.orValue(false) == true",
		"has(resource.values.tags) && resource.values.tags.all(k, k.lowerAscii() == k)",
		"resource.values.labels.exists(l, l == 'team')",
	}
	rules := make([]PolicyRule, len(exprs))
	for i, e := range exprs {
		rules[i] = PolicyRule{ID: fmt.Sprintf("rule-%02d", i), AppliesTo: []string{"aws_*"}, Expression: e,
			Message: "benchmark rule", Since: "2026-06-01T00:00:00Z", MigrationWindow: "720h"}
	}
	return rules
}

func benchPolicyResources(n int) []Observation {
	out := make([]Observation, n)
	for i := range out {
		perm := "0600"
		if i%10 == 0 {
			perm = "0644"
		}
		values := map[string]any{
			"name":              fmt.Sprintf("bucket-%d", i),
			"tags":              map[string]any{"owner": "team-a", "cost-center": "cc-1", "env": "prod"},
			"encrypted":         i%7 != 0,
			"kms_key_id":        "arn:aws:kms:eu-west-1:123456789012:key/abc",
			"file_permission":   perm,
			"ports":             []any{443.0, 8443.0, 9090.0},
			"cidrs":             []any{"10.0.0.0/8", "192.168.0.0/16"},
			"replicas":          3.0,
			"versioning":        true,
			"labels":            []any{"team", "app"},
			"block_public_acls": true, "block_public_policy": i%13 != 0,
		}
		out[i] = Observation{Ref: fmt.Sprintf("aws_s3_bucket.b%d", i), Type: "aws_s3_bucket", Recorded: values, Actual: values}
	}
	return out
}

// BenchmarkPolicyRules is 10,000 resources x 20 rules through Evaluate (compile, judge, decide,
// findings for the violations). Target: under 1 s per op; ns per rule x resource is reported.
func BenchmarkPolicyRules(b *testing.B) {
	u := testUnit(func(u *ManagedUnit) { u.Spec.PolicyRules = benchPolicyRules() })
	res := benchPolicyResources(10_000)
	at := time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)
	opts := []Option{WithResources(res), WithClock(func() time.Time { return at })}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchCPUTime()
	var findings int
	for i := 0; i < b.N; i++ {
		rep, err := Evaluate(u, nil, nil, opts...)
		if err != nil {
			b.Fatal(err)
		}
		findings = len(rep.Findings)
	}
	b.StopTimer()
	cpu := benchCPUTime() - cpu0
	pairs := float64(len(res) * len(u.Spec.PolicyRules))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pairs, "ns/rule×resource")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(findings), "findings")
}
