package drift

import (
	"strings"
	"testing"
	"time"
)

func k8sUnit() *ManagedUnit {
	return testUnit(func(u *ManagedUnit) {
		u.Metadata.Name = "payments-prod-network"
		u.Spec.OwnershipRules = nil
		u.Spec.RiskTier = "high"
	})
}

// deployment is a kubernetes_deployment_v1 as hashicorp/kubernetes reads it back.
func deployment(labels map[string]any, rv, generation, replicas string) map[string]any {
	return map[string]any{
		"id": "default/web",
		"metadata": []any{map[string]any{
			"name": "web", "namespace": "default", "labels": labels,
			"resource_version": rv, "generation": js(generation), "uid": "7f1c",
		}},
		"spec": []any{map[string]any{"replicas": replicas}},
	}
}

// deploymentConfig is what the plan's configuration section says the stack sets.
func deploymentConfig() map[string]any {
	return js(`{"metadata":[{"name":{"constant_value":"web"},"namespace":{"constant_value":"default"},
		"labels":{"constant_value":{"app":"web"}}}],"spec":[{"replicas":{"constant_value":"2"}}]}`).(map[string]any)
}

func evaluateOne(t *testing.T, u *ManagedUnit, obs Observation, exs ...*Exception) *Report {
	t.Helper()
	rep, err := Evaluate(u, exs, []Observation{obs}, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestComputedAttributesNeverFormDrift(t *testing.T) {
	base := map[string]any{"app": "web"}
	cases := []struct {
		name     string
		actual   map[string]any
		config   map[string]any
		findings int
		fields   string
		risk     Risk
		class    Class
	}{
		{"bookkeeping only: no finding", deployment(base, "101", "3", "2"), deploymentConfig(), 0, "", "", ""},
		{"bookkeeping only, configuration unknown: the table is trusted", deployment(base, "101", "3", "2"), nil, 0, "", "", ""},
		{"label with resource_version: LOW, bookkeeping left out",
			deployment(map[string]any{"app": "web", "team": "x"}, "101", "2", "2"), deploymentConfig(), 1,
			"/metadata/0/labels/team", RiskLow, ClassUnauthorizedRuntime},
		{"scale with generation: the replicas alone",
			deployment(base, "101", "3", "5"), deploymentConfig(), 1, "/spec/0/replicas", RiskMedium, ClassUnauthorizedRuntime},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs := Observation{Ref: "kubernetes_deployment_v1.web", Type: "kubernetes_deployment_v1",
				Recorded: deployment(base, "100", "2", "2"), Actual: tc.actual, Configuration: tc.config}
			rep := evaluateOne(t, k8sUnit(), obs)
			if len(rep.Findings) != tc.findings {
				t.Fatalf("findings = %d, want %d: %+v", len(rep.Findings), tc.findings, rep.Findings)
			}
			if tc.findings == 0 {
				if rep.Status != StatusClean {
					t.Fatalf("status %s, want clean", rep.Status)
				}
				return
			}
			f := rep.Findings[0]
			if got := strings.Join(f.ChangedFields, ","); got != tc.fields || f.Risk != tc.risk || f.DriftClass != tc.class {
				t.Fatalf("got %s %s %s (rule %s), want %s %s %s", got, f.DriftClass, f.Risk, f.Rule, tc.fields, tc.class, tc.risk)
			}
		})
	}
}

func TestComputedAttributeSetByConfigurationCounts(t *testing.T) {
	// A uid the configuration sets (a custom table could list any path) is the user's, not the
	// provider's: its change is drift.
	cfg := deploymentConfig()
	cfg["metadata"].([]any)[0].(map[string]any)["uid"] = map[string]any{"constant_value": "7f1c"}
	actual := deployment(map[string]any{"app": "web"}, "100", "2", "2")
	actual["metadata"].([]any)[0].(map[string]any)["uid"] = "0000"
	obs := Observation{Ref: "kubernetes_deployment_v1.web", Type: "kubernetes_deployment_v1",
		Recorded: deployment(map[string]any{"app": "web"}, "100", "2", "2"), Actual: actual, Configuration: cfg}
	rep := evaluateOne(t, k8sUnit(), obs)
	if len(rep.Findings) != 1 || rep.Findings[0].ChangedFields[0] != "/metadata/0/uid" {
		t.Fatalf("want the configured uid as drift, got %+v", rep.Findings)
	}
}

func TestLearnedComputedClaims(t *testing.T) {
	role := func(verbs ...any) map[string]any {
		return map[string]any{
			"etag": "e1", "status_hash": "h1", "mirror": map[string]any{"a": "1"},
			"rule": []any{map[string]any{"api_groups": []any{""}, "resources": []any{"pods"}, "verbs": verbs}},
		}
	}
	roleConfig := func() map[string]any {
		return js(`{"rule":[{"api_groups":{"constant_value":[""]},"resources":{"constant_value":["pods"]},"verbs":{"constant_value":["get"]}}]}`).(map[string]any)
	}
	cases := []struct {
		name    string
		claims  []ComputedAttr
		config  map[string]any
		mutate  func(m map[string]any)
		typ     string
		want    string // changed fields of the one finding, "" for none
		comment string
	}{
		{name: "scalar claim, unset: dropped", typ: "kubernetes_role_v1",
			claims: []ComputedAttr{{Path: MustPointer("/etag")}}, config: roleConfig(),
			mutate: func(m map[string]any) { m["etag"] = "e2" }, want: ""},
		{name: "claims without a configuration: kept", typ: "kubernetes_role_v1",
			claims: []ComputedAttr{{Path: MustPointer("/etag")}}, config: nil,
			mutate: func(m map[string]any) { m["etag"] = "e2" }, want: "/etag"},
		{name: "claimed attribute that configuration sets: kept", typ: "kubernetes_role_v1",
			claims: []ComputedAttr{{Path: MustPointer("/etag")}},
			config: func() map[string]any { c := roleConfig(); c["etag"] = map[string]any{}; return c }(),
			mutate: func(m map[string]any) { m["etag"] = "e2" }, want: "/etag"},
		{name: "collection claim: element change dropped", typ: "kubernetes_config_map_v1",
			claims: []ComputedAttr{{Path: MustPointer("/mirror"), Shape: ComputedCollection}}, config: roleConfig(),
			mutate: func(m map[string]any) { m["mirror"] = map[string]any{"a": "2", "b": "3"} }, want: ""},
		{name: "adversarial: the same element added to an identity resource is widening, kept", typ: "kubernetes_role_v1",
			claims: []ComputedAttr{{Path: MustPointer("/mirror"), Shape: ComputedCollection}}, config: roleConfig(),
			mutate: func(m map[string]any) { m["mirror"] = map[string]any{"a": "1", "b": "3"} }, want: "/mirror/b"},
		{name: "adversarial: a schema claiming the rules are computed does not hide a rule change",
			typ:    "kubernetes_role_v1",
			claims: []ComputedAttr{{Path: MustPointer("/rule"), Shape: ComputedCollection}, {Path: MustPointer("/rule/*/verbs"), Shape: ComputedCollection}},
			config: roleConfig(),
			mutate: func(m map[string]any) { m["rule"] = role("get", "delete")["rule"] }, want: "/rule/0/verbs/1"},
		{name: "adversarial: rules from a dynamic block (absent from configuration) stay drift",
			typ:    "kubernetes_role_v1",
			claims: []ComputedAttr{{Path: MustPointer("/rule"), Shape: ComputedCollection}, {Path: MustPointer("/rule/*/verbs"), Shape: ComputedCollection}},
			config: map[string]any{},
			mutate: func(m map[string]any) {
				m["rule"] = append(m["rule"].([]any), map[string]any{"api_groups": []any{""}, "resources": []any{"secrets"}, "verbs": []any{"get"}})
			}, want: "/rule/1"},
		{name: "adversarial: a scalar claim on a path with data below it does not match", typ: "kubernetes_role_v1",
			claims: []ComputedAttr{{Path: MustPointer("/rule")}}, config: map[string]any{},
			mutate: func(m map[string]any) { m["rule"] = role("*")["rule"] }, want: "/rule/0/verbs/0"},
		{name: "adversarial: a claim that hides widened identity is refused", typ: "aws_iam_role_policy",
			claims: []ComputedAttr{{Path: MustPointer("/policy")}}, config: map[string]any{},
			mutate: func(m map[string]any) { m["policy"] = policyWider }, want: "/policy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := role("get")
			if tc.typ == "aws_iam_role_policy" {
				rec = map[string]any{"policy": policyV1}
			}
			act := role("get")
			if tc.typ == "aws_iam_role_policy" {
				act = map[string]any{"policy": policyV1}
			}
			tc.mutate(act)
			obs := Observation{Ref: tc.typ + ".r", Type: tc.typ, Recorded: rec, Actual: act, Computed: tc.claims, Configuration: tc.config}
			rep := evaluateOne(t, k8sUnit(), obs)
			var got []string
			for _, f := range rep.Findings {
				got = append(got, f.ChangedFields...)
			}
			if strings.Join(got, ",") != tc.want {
				t.Fatalf("changed fields %v, want %q", got, tc.want)
			}
		})
	}
}

func TestKubernetesPlanePath(t *testing.T) {
	cases := map[string]string{
		"/metadata/0/labels/team":                         "/metadata/labels/team",
		"/spec/0/template/0/metadata/0/labels/app":        "/spec/template/metadata/labels/app",
		"/spec/0/template/0/spec/0/container/0/image":     "/spec/template/spec/container/0/image",
		"/spec/0/replicas":                                "/spec/replicas",
		"/rule/0/verbs":                                   "",
		"/data/metadata":                                  "",
		"/metadata/1/labels/x":                            "",
		"/metadata/0":                                     "/metadata",
		"/metadata":                                       "",
		"/data/spec/0":                                    "",
		"/metadata/0/labels/metadata/0":                   "/metadata/labels/metadata/0",
		"/spec/0/ingress/0/from/0/ip_block/0/cidr":        "/spec/ingress/0/from/0/ip_block/0/cidr",
		"/spec/0/job_template/0/spec/0/template/0/spec/0": "/spec/job_template/spec/template/spec",
	}
	for in, want := range cases {
		got := KubernetesPlanePath(MustPointer(in))
		if (got == nil && want != "") || (got != nil && got.String() != want) {
			t.Errorf("KubernetesPlanePath(%s) = %v, want %q", in, got, want)
		}
	}
}

func TestKubernetesPathsInExceptions(t *testing.T) {
	const expires = "2026-12-01T00:00:00Z"
	cm := func(labels map[string]any) map[string]any {
		return map[string]any{"metadata": []any{map[string]any{"name": "c", "labels": labels}},
			"data": map[string]any{"k": "v"}}
	}
	cases := []struct {
		name     string
		typ      string
		labels   map[string]any
		path     string
		accepted bool
	}{
		{"Kubernetes spelling covers the plan's", "kubernetes_config_map_v1", map[string]any{"team": "b"}, "/metadata/labels/team", true},
		{"plan spelling still works", "kubernetes_config_map_v1", map[string]any{"team": "b"}, "/metadata/0/labels/team", true},
		{"adversarial: another label is not covered", "kubernetes_config_map_v1", map[string]any{"team": "a", "team2": "b"}, "/metadata/labels/team", false},
		{"adversarial: a label key prefix is not covered", "kubernetes_config_map_v1", map[string]any{"team": "a", "teamx": "b"}, "/metadata/labels/team", false},
		{"adversarial: only kubernetes_* resources", "other_config_map", map[string]any{"team": "b"}, "/metadata/labels/team", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := k8sUnit()
			u.Spec.Environment = "dev"
			obs := Observation{Ref: tc.typ + ".c", Type: tc.typ, Recorded: cm(map[string]any{"team": "a"}), Actual: cm(tc.labels)}
			ex := exception("ex-labels", tc.typ+".c", string(ClassUnauthorizedRuntime), expires, tc.path)
			ex.Spec.Unit = u.Metadata.Name
			rep := evaluateOne(t, u, obs, ex)
			if len(rep.Findings) != 1 {
				t.Fatalf("findings %+v", rep.Findings)
			}
			if got := rep.Findings[0].AcceptedBy != ""; got != tc.accepted {
				t.Fatalf("accepted = %v, want %v (%s)", got, tc.accepted, rep.Findings[0].Explanation)
			}
		})
	}
	// A template's labels are not the object's.
	u := k8sUnit()
	dep := func(v string) map[string]any {
		return js(`{"metadata":[{"name":"web"}],"spec":[{"template":[{"metadata":[{"labels":{"team":"` + v + `"}}]}]}]}`).(map[string]any)
	}
	obs := Observation{Ref: "kubernetes_deployment_v1.web", Type: "kubernetes_deployment_v1", Recorded: dep("a"), Actual: dep("b")}
	ex := exception("ex-labels", "kubernetes_deployment_v1.web", string(ClassUnauthorizedRuntime), expires, "/metadata/labels/team")
	if rep := evaluateOne(t, u, obs, ex); rep.Findings[0].AcceptedBy != "" {
		t.Fatal("an exception on the object's label accepted the pod template's")
	}
}

func TestKubernetesPathsInRulesAndOwnership(t *testing.T) {
	u := k8sUnit()
	u.Spec.OwnershipRules = []OwnershipRule{{
		Resource:     ResourceMatch{Type: "kubernetes_deployment_v1"},
		RuntimeOwned: []string{"/spec/replicas"},
	}}
	rec := deployment(map[string]any{"app": "web"}, "100", "2", "2")
	obs := Observation{Ref: "kubernetes_deployment_v1.web", Type: "kubernetes_deployment_v1", Recorded: rec,
		Actual: deployment(map[string]any{"app": "web"}, "101", "3", "7")}
	rep := evaluateOne(t, u, obs)
	if len(rep.Findings) != 1 || rep.Findings[0].DriftClass != ClassControllerOwned {
		t.Fatalf("replicas under a runtime-owned /spec/replicas: %+v", rep.Findings)
	}
}

func TestKubernetesExceptionPathsNeedTickets(t *testing.T) {
	e := exception("ex-template", "kubernetes_deployment_v1.web", string(ClassUnauthorizedRuntime), "2026-12-01T00:00:00Z", "/spec/0/template")
	e.Spec.Ticket = ""
	err := e.ValidateWith(DefaultTable())
	if err == nil || !strings.Contains(err.Error(), "ticket") {
		t.Fatalf("accepting a kubernetes_deployment_v1's pod template without a ticket: %v", err)
	}
	e.Spec.Paths = []string{"/spec/0/template/0/spec/0/container/0"}
	if err := e.ValidateWith(DefaultTable()); err == nil || !strings.Contains(err.Error(), "ticket") {
		t.Fatalf("accepting a container without a ticket: %v", err)
	}
	e.Spec.Paths = []string{"/metadata/0/labels/team"}
	if err := e.ValidateWith(DefaultTable()); err != nil {
		t.Fatalf("a label needs no ticket: %v", err)
	}
}

func TestComputedAttributesTableSection(t *testing.T) {
	for _, bad := range []string{
		"computed_attributes:\n  - resources: [\"*\"]\n    paths: [/arn]\n",
		"computed_attributes:\n  - resources: [aws_*]\n    paths: [\"/*\"]\n",
		"computed_attributes:\n  - resources: [aws_*]\n    paths: [arn]\n",
		"computed_attributes:\n  - resources: [aws_*]\n    paths: []\n",
	} {
		if _, err := LoadTable(withComputedSection(bad)); err == nil {
			t.Errorf("table with %q loaded", bad)
		}
	}
	if got := DefaultTable().ComputedPathsFor("aws_iam_role"); len(got) == 0 {
		t.Fatal("no built-in computed attributes for aws")
	}
	if got := DefaultTable().ComputedPathsFor("local_file"); len(got) != 0 {
		t.Fatalf("computed attributes for local_file: %v", got)
	}
}

// withComputedSection is the built-in table with its computed_attributes section replaced.
func withComputedSection(section string) []byte {
	data := string(decisionsYAML)
	start := strings.Index(data, "computed_attributes:\n")
	end := start + strings.Index(data[start:], "\n\n")
	return []byte(data[:start] + section + data[end+1:])
}

// Without the computed_attributes section, the same label change is MEDIUM: the bookkeeping
// beside it is what lifted it, which is the noise this section removes.
func TestComputedAttributesAreWhatKeepsLabelsLow(t *testing.T) {
	bare, err := LoadTable(withComputedSection("computed_attributes: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	obs := Observation{Ref: "kubernetes_deployment_v1.web", Type: "kubernetes_deployment_v1",
		Recorded: deployment(map[string]any{"app": "web"}, "100", "2", "2"),
		Actual:   deployment(map[string]any{"app": "web", "team": "x"}, "101", "2", "2")}
	rep, err := Evaluate(k8sUnit(), nil, []Observation{obs}, WithTable(bare), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Risk == RiskLow {
		t.Fatalf("without the section: %+v", rep.Findings)
	}
}

// An out-of-band tag shows in tags and in its tags_all mirror: the mirror never makes the tag
// more than a tag.
func TestTagsAllMirrorIsBookkeeping(t *testing.T) {
	bucket := func(tags map[string]any) map[string]any {
		all := map[string]any{"Managed": "tofu"}
		for k, v := range tags {
			all[k] = v
		}
		return map[string]any{"bucket": "b", "arn": "arn:aws:s3:::b", "tags": tags, "tags_all": all}
	}
	u := k8sUnit()
	obs := Observation{Ref: "aws_s3_bucket.b", Type: "aws_s3_bucket", Recorded: bucket(map[string]any{"team": "a"}),
		Actual:        bucket(map[string]any{"team": "b"}),
		Configuration: js(`{"bucket":{"constant_value":"b"},"tags":{"constant_value":{"team":"a"}}}`).(map[string]any)}
	rep := evaluateOne(t, u, obs)
	if len(rep.Findings) != 1 || strings.Join(rep.Findings[0].ChangedFields, ",") != "/tags/team" || rep.Findings[0].Risk != RiskLow {
		t.Fatalf("%+v", rep.Findings)
	}
}
