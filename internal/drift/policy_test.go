package drift

import (
	"strings"
	"testing"
)

func TestUnitValidation(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*ManagedUnit)
		want []string // substrings of field errors; empty = valid
	}{
		{"valid", func(*ManagedUnit) {}, nil},
		{"missing basics", func(u *ManagedUnit) { u.Metadata.Name = ""; u.Spec.Owner = " "; u.Spec.Environment = "" },
			[]string{"metadata.name: is required", "spec.owner: is required", "spec.environment: is required"}},
		{"bad enums", func(u *ManagedUnit) { u.Spec.RiskTier = "extreme"; u.Spec.Gate = "sometimes"; u.Spec.Kind = "helm" },
			[]string{`spec.riskTier: "extreme" is not one of`, `spec.gate: "sometimes"`, `spec.kind: "helm"`}},
		{"bad name", func(u *ManagedUnit) { u.Metadata.Name = "-bad name" }, []string{"metadata.name:"}},
		{"rule without resource or paths", func(u *ManagedUnit) { u.Spec.OwnershipRules = []OwnershipRule{{}} },
			[]string{"spec.ownershipRules[0].resource: names no resource", "spec.ownershipRules[0]: owns no paths"}},
		{"rule with bad paths", func(u *ManagedUnit) {
			u.Spec.OwnershipRules = []OwnershipRule{{Resource: ResourceMatch{Type: "aws_x"}, RuntimeOwned: []string{"tags"},
				ControllerOwned: []ControllerPath{{Path: "", Owner: ""}}}}
		}, []string{`spec.ownershipRules[0].runtimeOwned[0]: JSON pointer "tags" must start with "/"`,
			"spec.ownershipRules[0].controllerOwned[0].path[0]: the whole object", "spec.ownershipRules[0].controllerOwned[0].owner: is required"}},
		{"kubernetes selector in a stack", func(u *ManagedUnit) {
			u.Spec.OwnershipRules = []OwnershipRule{{Resource: ResourceMatch{Group: "apps", Kind: "Deployment"}, RuntimeOwned: []string{"/spec/replicas"}}}
		}, []string{"selects Kubernetes objects but the unit is an opentofu-stack"}},
		{"identity never self-heals", func(u *ManagedUnit) {
			yes := true
			u.Spec.DomainOverrides = []DomainOverride{{Domain: "identity", AutoHeal: &yes}, {Domain: "weather", Risk: "bad", Action: "pray"}}
		}, []string{"spec.domainOverrides[0].autoHeal: identity drift never heals silently", `spec.domainOverrides[1].domain: "weather"`,
			`spec.domainOverrides[1].risk: "BAD"`, `spec.domainOverrides[1].action: "PRAY"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := testUnit()
			tc.mod(u)
			err := u.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not contain %q", err, w)
				}
			}
		})
	}
}

func TestExceptionValidation(t *testing.T) {
	valid := func() *Exception {
		return exception("EXC-1", "aws_security_group.app_public", "EMERGENCY_DRIFT", "2026-12-01T00:00:00Z", "/ingress")
	}
	cases := []struct {
		name string
		mod  func(*Exception)
		want []string
	}{
		{"valid", func(*Exception) {}, nil},
		{"expired is still valid", func(e *Exception) { e.Spec.ExpiresAt = "2020-01-01T00:00:00Z" }, nil},
		{"no expiry", func(e *Exception) { e.Spec.ExpiresAt = "" }, []string{"spec.expiresAt: is required: every exception expires"}},
		{"bad expiry", func(e *Exception) { e.Spec.ExpiresAt = "next tuesday" }, []string{`spec.expiresAt: "next tuesday" is not an RFC 3339`}},
		{"whole resource", func(e *Exception) { e.Spec.Paths = nil }, []string{"spec.paths: is required"}},
		{"root path", func(e *Exception) { e.Spec.Paths = []string{""} }, []string{`spec.paths[0]: "" covers the whole object`}},
		{"whole spec", func(e *Exception) { e.Spec.Resource = "apps/v1/Deployment/web/web"; e.Spec.Paths = []string{"/spec"} }, []string{"whole spec"}},
		{"star address without paths", func(e *Exception) { e.Spec.Resource = "*"; e.Spec.Paths = nil }, []string{"matches every resource", "spec.paths: is required"}},
		{"glob state drift without paths", func(e *Exception) {
			e.Spec.Resource = "local_file.*"
			e.Spec.DriftClass = "STATE_DRIFT"
			e.Spec.Paths = nil
		}, []string{"spec.paths: is required"}},
		{"exact state drift without paths", func(e *Exception) {
			e.Spec.Resource = "local_file.a"
			e.Spec.DriftClass = "STATE_DRIFT"
			e.Spec.Paths = nil
		}, nil},
		{"network without ticket", func(e *Exception) { e.Spec.Ticket = "" }, []string{"spec.ticket: is required: the exception touches network (aws_security_group.app_public)"}},
		{"identity without ticket", func(e *Exception) {
			e.Spec.Ticket = ""
			e.Spec.Resource = "module.x.aws_iam_role.r"
			e.Spec.Paths = []string{"/tags"}
		},
			[]string{"touches identity"}},
		{"image without ticket", func(e *Exception) {
			e.Spec.Ticket = ""
			e.Spec.Resource = "apps/v1/Deployment/web/web"
			e.Spec.Paths = []string{"/spec/template/spec/containers/0/image"}
		}, []string{"spec.ticket: is required"}},
		{"a path above the image needs a ticket too", func(e *Exception) {
			e.Spec.Ticket = ""
			e.Spec.Resource = "aws_instance.web"
			e.Spec.Paths = []string{"/spec/template"}
		}, []string{"spec.ticket: is required"}},
		{"plain tags need no ticket", func(e *Exception) {
			e.Spec.Ticket = ""
			e.Spec.Resource = "aws_instance.web"
			e.Spec.Paths = []string{"/tags"}
		}, nil},
		{"glob type needs a ticket", func(e *Exception) {
			e.Spec.Ticket = ""
			e.Spec.Resource = "aws_*.web"
			e.Spec.Paths = []string{"/tags"}
		}, []string{"spec.ticket"}},
		{"bad class and missing people", func(e *Exception) {
			e.Spec.DriftClass = "OOPS"
			e.Spec.Reason = ""
			e.Spec.ApprovedBy = ""
			e.Spec.Unit = ""
		},
			[]string{`spec.driftClass: "OOPS"`, "spec.reason: is required", "spec.approvedBy: is required", "spec.unit: is required"}},
		{"noise needs no exception", func(e *Exception) { e.Spec.DriftClass = "PROVIDER_READ_NOISE" }, []string{"never blocking"}},
		{"bad pointer", func(e *Exception) { e.Spec.Paths = []string{"/a~2"} }, []string{"spec.paths[0]: JSON pointer"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := valid()
			tc.mod(e)
			err := e.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not contain %q", err, w)
				}
			}
		})
	}
}

func TestDecodeDocumentsYAMLAndHCLAgree(t *testing.T) {
	yamlSrc := `# .drift/unit.yaml
apiVersion: drift.driftplane.io/v1alpha1
kind: DriftManagedUnit
metadata: { name: payments-web }
spec: { owner: team-payments, environment: prod, riskTier: high, gate: high }
---
apiVersion: drift.driftplane.io/v1alpha1
kind: DriftOwnershipRule
metadata: { name: hpa-replicas }
spec:
  resource: { group: apps, kind: Deployment }
  controllerOwned: [{ path: /spec/replicas, owner: horizontal-pod-autoscaler }]
---
apiVersion: drift.driftplane.io/v1alpha1
kind: DriftException
metadata: { name: EXC-7 }
spec:
  unit: payments-web
  resource: apps/v1/Deployment/web/web
  paths: [/metadata/labels]
  driftClass: UNAUTHORIZED_RUNTIME_DRIFT
  reason: label migration
  approvedBy: lead
  expiresAt: "2026-12-01T00:00:00Z"
`
	b, err := DecodeDocuments(".drift/unit.yaml", []byte(yamlSrc))
	if err != nil {
		t.Fatal(err)
	}
	b.MergeOwnershipRules()
	if err := b.Unit.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(b.Exceptions) != 1 || b.Exceptions[0].Validate() != nil {
		t.Fatalf("exceptions %+v", b.Exceptions)
	}
	hcl := &ManagedUnit{Metadata: Metadata{Name: "payments-web"}, Spec: UnitSpec{Owner: "team-payments", Environment: "prod", RiskTier: "HIGH",
		OwnershipRules: []OwnershipRule{{Name: "hpa-replicas", Resource: ResourceMatch{Group: "apps", Kind: "Deployment"},
			ControllerOwned: []ControllerPath{{Path: "/spec/replicas", Owner: "horizontal-pod-autoscaler"}}}}}}
	if err := hcl.Validate(); err != nil {
		t.Fatal(err)
	}
	a, _ := CanonicalJSON(b.Unit)
	c, _ := CanonicalJSON(hcl)
	if string(a) != string(c) {
		t.Fatalf("YAML and struct forms differ:\n%s\n%s", a, c)
	}
	// The canonical JSON is itself a valid policy document.
	u, err := DecodeUnit("policy_json", a)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := CanonicalJSON(u)
	if string(again) != string(a) {
		t.Fatalf("canonical JSON does not round-trip:\n%s\n%s", a, again)
	}
}

func TestDecodeDocumentsErrors(t *testing.T) {
	for src, want := range map[string]string{
		"apiVersion: v1\nkind: ConfigMap\n":                      `document 1: apiVersion "v1" is not`,
		"apiVersion: drift.driftplane.io/v1alpha1\nkind: Nope\n": `unknown kind "Nope"`,
		"apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\nmetadata: {name: a}\nspec: {owner: o, riskTeir: high}\n": `unknown field "spec.riskTeir"`,
		"apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftException\nmetadata: {name: a}\nspec: {paths: /x}\n":                  "field spec.paths: expected a list",
		"a: [1, 2\n": "invalid YAML",
		"---\napiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\nmetadata: {name: a}\n---\napiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\nmetadata: {name: b}\n": "document 3: a second DriftManagedUnit",
	} {
		_, err := DecodeDocuments("policy.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "policy.yaml") {
			t.Errorf("%q: error %v, want it to name the file and say %q", src, err, want)
		}
	}
	if _, err := DecodeUnit("u", []byte(`{"apiVersion":"drift.driftplane.io/v1alpha1","kind":"DriftException","metadata":{"name":"x"},"spec":{}}`)); err == nil {
		t.Error("DecodeUnit accepted an exception")
	}
}

func TestTableLookups(t *testing.T) {
	tb := DefaultTable()
	for res, want := range map[string]string{
		"aws_iam_role": "identity", "aws_security_group_rule": "network", "aws_db_instance": "data", "aws_s3_bucket": "data",
		"aws_s3_bucket_policy": "identity", "aws_instance": "compute", "local_file": "other", "aws_secretsmanager_secret": "secrets",
		"apps/Deployment": "workload", "/Secret": "secrets", "rbac.authorization.k8s.io/ClusterRole": "identity", "/Service": "network",
	} {
		if got := tb.DomainFor(res, nil); got != want {
			t.Errorf("DomainFor(%s) = %s, want %s", res, got, want)
		}
	}
	if got := tb.DomainFor("mycorp_vault_thing", map[string]string{"mycorp_*": "cost", "mycorp_vault_*": "secrets"}); got != "secrets" {
		t.Errorf("unit domain override: %s", got)
	}
	for env, want := range map[string]string{"Production": "prod", "uat": "staging", "sandbox": "dev", "mars": "staging"} {
		if got := tb.EnvironmentClass(env); got != want {
			t.Errorf("EnvironmentClass(%s) = %s, want %s", env, got, want)
		}
	}
	if _, err := LoadTable([]byte("environments: {default: [staging]}\nrisk: {domain_base: {}}\nrules: []\n")); err == nil {
		t.Error("LoadTable accepted a table without domain risks")
	}
}

// A .drift/ folder may hold a routing policy beside the unit: decoded strictly (a misspelt field
// is an error naming it) and handed on for the routing package to judge; it is not a unit.
func TestDecodeDocumentsKeepsRoutingPolicies(t *testing.T) {
	doc := `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: routes}
spec:
  receivers: [{name: am, type: alertmanager, url: "http://127.0.0.1:9093"}]
  route: {receivers: [am]}
`
	b, err := DecodeDocuments("routes.yaml", []byte(doc))
	if err != nil || len(b.RoutingPolicies) != 1 || b.RoutingPolicies[0].Spec.Receivers[0].Name != "am" {
		t.Fatalf("bundle %+v: %v", b, err)
	}
	if _, err := DecodeDocuments("routes.yaml", []byte(strings.Replace(doc, "receivers: [am]", "receiverz: [am]", 1))); err == nil || !strings.Contains(err.Error(), "receiverz") {
		t.Fatalf("misspelt field: %v", err)
	}
	if _, err := DecodeUnit("routes.yaml", []byte(doc)); err == nil {
		t.Fatal("a routing policy was taken for a unit")
	}
}
