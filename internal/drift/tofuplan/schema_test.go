package tofuplan

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

const kubernetesProvider = "registry.opentofu.org/hashicorp/kubernetes"

func learnedPaths(attrs []drift.ComputedAttr) []string {
	out := make([]string, len(attrs))
	for i, a := range attrs {
		out[i] = a.Path.String()
		if a.Shape == drift.ComputedCollection {
			out[i] += "[]"
		}
	}
	sort.Strings(out)
	return out
}

// The excerpt is `tofu providers schema -json` of the hashicorp/kubernetes build scripts/tools.sh
// makes, cut down to four resource types.
func TestProviderSchemaFromRealKubernetesExcerpt(t *testing.T) {
	s, err := ReadProviderSchemasFile("testdata/schemas/kubernetes-excerpt.json")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(learnedPaths(s.ComputedFor(kubernetesProvider, "kubernetes_deployment_v1")), " ")
	want := "/metadata/*/generation /metadata/*/resource_version /metadata/*/uid " +
		"/spec/*/template/*/metadata/*/generation /spec/*/template/*/metadata/*/resource_version /spec/*/template/*/metadata/*/uid"
	if got != want {
		t.Fatalf("learned\n %s\nwant\n %s", got, want)
	}
	// The Terraform registry's address of the same provider, and a type alone, find it too.
	if len(s.ComputedFor("registry.terraform.io/hashicorp/kubernetes", "kubernetes_role_v1")) == 0 ||
		len(s.ComputedFor("example.com/other/kubernetes", "kubernetes_role_v1")) == 0 {
		t.Fatal("lookup by another registry or by type failed")
	}
	if s.ComputedFor(kubernetesProvider, "kubernetes_nothing") != nil || (*ProviderSchemas)(nil).ComputedFor("", "x") != nil {
		t.Fatal("unknown type learned something")
	}
}

func TestProviderSchemaShapes(t *testing.T) {
	schema := `{"format_version":"1.0","provider_schemas":{"p/a":{"resource_schemas":{"a_thing":{"block":{
		"attributes":{
			"id":{"type":"string","optional":true,"computed":true},
			"arn":{"type":"string","computed":true},
			"tags_all":{"type":["map","string"],"computed":true},
			"name":{"type":"string","required":true},
			"rules":{"type":["list",["object",{"x":"string"}]],"computed":true},
			"objs":{"type":["object",{"a":"string"}],"computed":true},
			"status":{"nested_type":{"nesting_mode":"list","attributes":{"phase":{"type":"string"}}},"computed":true},
			"opt":{"nested_type":{"nesting_mode":"single","attributes":{"v":{"type":"number","computed":true},"w":{"type":"number","optional":true}}},"optional":true},
			"weird":{"nested_type":{"nesting_mode":"tuple","attributes":{"v":{"type":"string","computed":true}}},"computed":true}
		},
		"block_types":{
			"meta":{"nesting_mode":"list","block":{"attributes":{"uid":{"type":"string","computed":true}}}},
			"one":{"nesting_mode":"single","block":{"attributes":{"etag":{"type":"string","computed":true}}}},
			"byname":{"nesting_mode":"map","block":{"attributes":{"hash":{"type":"string","computed":true}}}},
			"odd":{"nesting_mode":"nonsense","block":{"attributes":{"hash":{"type":"string","computed":true}}}}
		}}}}}}}`
	s, err := ReadProviderSchemas("s.json", []byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(learnedPaths(s.ComputedFor("p/a", "a_thing")), " ")
	// Optional+computed, required and object-typed attributes are never learned; nor are unknown
	// nestings.
	want := "/arn /byname/*/hash /meta/*/uid /one/etag /opt/v /status/*/phase /tags_all[]"
	if got != want {
		t.Fatalf("learned %q, want %q", got, want)
	}
}

func TestProviderSchemaRefusals(t *testing.T) {
	deep := strings.Repeat(`{"a":`, drift.MaxJSONDepth+1) + "1" + strings.Repeat("}", drift.MaxJSONDepth+1)
	cases := map[string]string{
		"":   "not a JSON object",
		"[]": "not a JSON object",
		`{"format_version":"2.0","provider_schemas":{}}`:                             "not 1.x",
		`{"provider_schemas":{}}`:                                                    "not 1.x",
		`{"format_version":"1.0","provider_schemas":[]}`:                             "shape",
		`{"format_version":"1.2","terraform_version":"1.10.10","planned_values":{}}`: "no provider_schemas",
		`{"format_version":"1.0","provider_schemas":{`:                               "shape",
		deep: "deep",
	}
	for in, want := range cases {
		_, err := ReadProviderSchemas("in.json", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "in.json") {
			t.Errorf("%.40q: %v, want an error naming in.json with %q", in, err, want)
		}
	}
	big := `{"format_version":"1.0","provider_schemas":{}}`
	if _, err := ReadProviderSchemas("big.json", []byte(big), WithMaxBytes(10)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("size bound: %v", err)
	}
	p := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(p, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadProviderSchemasFile(p, WithMaxBytes(10)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("file size bound: %v", err)
	}
	if _, err := ReadProviderSchemasFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "tofu providers schema -json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestConfigAddress(t *testing.T) {
	for in, want := range map[string]string{
		"aws_s3_bucket.b":                       "aws_s3_bucket.b",
		"aws_s3_bucket.b[0]":                    "aws_s3_bucket.b",
		`module.a["x.y]"].module.b[2].t.n["k"]`: "module.a.module.b.t.n",
		`t.n["with \"quote] inside"]`:           "t.n",
		"module.net.kubernetes_role_v1.r":       "module.net.kubernetes_role_v1.r",
	} {
		if got := configAddress(in); got != want {
			t.Errorf("configAddress(%s) = %s, want %s", in, got, want)
		}
	}
}

// rolePlan is a refresh-only plan of a kubernetes_role_v1 in a module whose rules changed out of
// band, with its configuration section as OpenTofu writes it.
func rolePlan(configured bool) []byte {
	rule := `{"api_groups":[""],"resources":["pods"],"verbs":["get"]}`
	wider := `{"api_groups":[""],"resources":["pods"],"verbs":["get","delete"]}`
	exprs := `"metadata":[{"name":{"constant_value":"r"}}]`
	if configured {
		exprs += `,"rule":[{"api_groups":{"constant_value":[""]},"resources":{"constant_value":["pods"]},"verbs":{"constant_value":["get"]}}]`
	}
	return []byte(`{"format_version":"1.2","terraform_version":"1.10.10","planned_values":{"root_module":{}},
	"resource_drift":[{"address":"module.rbac.kubernetes_role_v1.r","module_address":"module.rbac","mode":"managed","type":"kubernetes_role_v1","name":"r",
	  "provider_name":"registry.opentofu.org/hashicorp/kubernetes",
	  "change":{"actions":["update"],
	    "before":{"metadata":[{"name":"r","resource_version":"1"}],"rule":[` + rule + `],"etag":"a"},
	    "after":{"metadata":[{"name":"r","resource_version":"2"}],"rule":[` + wider + `],"etag":"b"},
	    "before_sensitive":{},"after_sensitive":{}}}],
	"configuration":{"root_module":{"module_calls":{"rbac":{"source":"./rbac","module":{"resources":[
	  {"address":"kubernetes_role_v1.r","mode":"managed","type":"kubernetes_role_v1","name":"r","expressions":{` + exprs + `}}]}}}}}}`)
}

// A schema file claiming the Role's rules (and a made-up etag) are computed: the etag goes, the
// rules stay, whether the configuration writes them statically or not at all (a dynamic block).
func TestForgedSchemaDoesNotHideRules(t *testing.T) {
	forged := `{"format_version":"1.0","provider_schemas":{"` + kubernetesProvider + `":{"resource_schemas":{"kubernetes_role_v1":{"block":{
		"attributes":{"etag":{"type":"string","computed":true},
		  "rule":{"type":["list","string"],"computed":true}},
		"block_types":{"rule":{"nesting_mode":"list","block":{"attributes":{"verbs":{"type":["list","string"],"computed":true}}}},
		  "metadata":{"nesting_mode":"list","block":{"attributes":{"resource_version":{"type":"string","computed":true}}}}}}}}}}}`
	s, err := ReadProviderSchemas("forged.json", []byte(forged))
	if err != nil {
		t.Fatal(err)
	}
	for _, configured := range []bool{true, false} {
		p, err := Read("plan.json", rolePlan(configured), WithProviderSchemas(s))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Observations) != 1 || p.Observations[0].Configuration == nil {
			t.Fatalf("the module's resource got no configuration: %+v", p.Observations)
		}
		unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "u"}, Spec: drift.UnitSpec{
			Kind: drift.UnitOpenTofuStack, Owner: "o", Environment: "prod", RiskTier: "high", Gate: "high"}}
		rep, err := drift.Evaluate(unit, nil, p.Observations)
		if err != nil {
			t.Fatal(err)
		}
		var fields []string
		for _, f := range rep.Findings {
			fields = append(fields, f.ChangedFields...)
		}
		if got := strings.Join(fields, ","); got != "/rule/0/verbs/1" {
			t.Errorf("configured=%v: changed fields %q, want the rule alone", configured, got)
		}
	}
}

// FuzzReadProviderSchemas feeds arbitrary bytes to the schema reader: it never panics, every
// error names the file, and what it learns is always a named path of a known shape.
func FuzzReadProviderSchemas(f *testing.F) {
	real, err := os.ReadFile("testdata/schemas/kubernetes-excerpt.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	f.Add([]byte(`{"format_version":"1.0","provider_schemas":{"p":{"resource_schemas":{"t":{"block":{"attributes":{"a":{"type":"string","computed":true}},"block_types":{"b":{"nesting_mode":"set","block":{"attributes":{"c":{"type":["set","number"],"computed":true}}}}}}}}}}}`))
	f.Add([]byte(`{"format_version":"1.0","provider_schemas":{"p":{"resource_schemas":{"t":{"block":{"attributes":{"n":{"nested_type":{"nesting_mode":"map","attributes":{"x":{"type":"bool"}}},"computed":true}}}}}}}}`))
	f.Add([]byte(`{"format_version":"1.0","provider_schemas":{"p":null,"q":{"resource_schemas":{"t":null}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadProviderSchemas("fuzz.json", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, types := range s.byProvider {
			for typ, attrs := range types {
				for _, a := range attrs {
					if len(a.Path) == 0 || a.Path[0] == "*" {
						t.Fatalf("%s: learned an unnamed path %q", typ, a.Path)
					}
					if a.Shape != drift.ComputedScalar && a.Shape != drift.ComputedCollection {
						t.Fatalf("%s: shape %d", typ, a.Shape)
					}
				}
			}
		}
		// Whatever it learned, a plan read with it evaluates deterministically.
		p1, err := Read("plan.json", rolePlan(false), WithProviderSchemas(s))
		if err != nil {
			t.Fatal(err)
		}
		unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "u"}, Spec: drift.UnitSpec{
			Kind: drift.UnitOpenTofuStack, Owner: "o", Environment: "prod", RiskTier: "high"}}
		r1, err := drift.Evaluate(unit, nil, p1.Observations, drift.WithNow(time.Unix(0, 0)))
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := ReadProviderSchemas("fuzz.json", data)
		p2, _ := Read("plan.json", rolePlan(false), WithProviderSchemas(s2))
		r2, _ := drift.Evaluate(unit, nil, p2.Observations, drift.WithNow(time.Unix(0, 0)))
		a, _ := drift.CanonicalJSON(r1)
		b, _ := drift.CanonicalJSON(r2)
		if !bytes.Equal(a, b) {
			t.Fatalf("non-deterministic evaluation:\n%s\n%s", a, b)
		}
		// The rule change (identity, verbs widened) never disappears, whatever the schema says.
		found := false
		for _, f := range r1.Findings {
			for _, cf := range f.ChangedFields {
				found = found || strings.HasPrefix(cf, "/rule")
			}
		}
		if !found {
			t.Fatalf("a schema hid the rule change: %s", a)
		}
	})
}

// A stack without providers: OpenTofu prints no provider_schemas at all, and that is an empty
// schema, not an error.
func TestProviderSchemaOfAStackWithoutProviders(t *testing.T) {
	if _, err := ReadProviderSchemas("in.json", []byte(`{"format_version":"1.0"}`)); err != nil {
		t.Fatal(err)
	}
}
