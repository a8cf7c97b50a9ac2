package tofuplan

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

func depUnit() *drift.ManagedUnit {
	return &drift.ManagedUnit{Metadata: drift.Metadata{Name: "files"}, Spec: drift.UnitSpec{
		Kind: drift.UnitOpenTofuStack, Owner: "platform", Environment: "prod", RiskTier: "standard", Gate: "high"}}
}

// byRef indexes findings as "ref class" -> finding.
func byRef(fs []drift.Finding) map[string]drift.Finding {
	out := map[string]drift.Finding{}
	for _, f := range fs {
		out[f.ResourceRef+" "+string(f.DriftClass)] = f
	}
	return out
}

// realDependencyStack applies a stack whose local_file.derived reads another file through
// data.local_file.upstream, beside a static local_file.other and a terraform_data whose
// local-exec provisioner fails (so the first apply fails and leaves it tainted).
func realDependencyStack(t *testing.T) (dir string, tf func(fail bool, args ...string) []byte) {
	t.Helper()
	tofu, mirror := testtools.Require(t, "TOFU"), testtools.Require(t, "LOCAL_MIRROR")
	root := t.TempDir()
	cli := filepath.Join(root, "cli.tfrc")
	writeFile(t, cli, `provider_installation {
  filesystem_mirror {
    path    = "`+mirror+`"
    include = ["registry.opentofu.org/hashicorp/local"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/local"] }
}
`)
	dir = filepath.Join(root, "stack")
	writeFile(t, filepath.Join(dir, "main.tf"), `data "local_file" "upstream" {
  filename = "${path.module}/upstream.txt"
}

resource "local_file" "derived" {
  filename = "${path.module}/derived.txt"
  content  = "base: ${data.local_file.upstream.content}"
}

resource "local_file" "other" {
  filename = "${path.module}/other.txt"
  content  = "static\n"
}

resource "terraform_data" "broken" {
  input = "deploy"
  provisioner "local-exec" {
    command = "exit 1"
  }
}
`)
	writeFile(t, filepath.Join(dir, "upstream.txt"), "ami-1\n")
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	tf = func(fail bool, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(tofu, append(args, "-no-color")...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if (err != nil) != fail {
			t.Fatalf("tofu %v: err=%v (want failure %v)\n%s", args, err, fail, out)
		}
		return out
	}
	tf(false, "init", "-input=false")
	// The provisioner fails: OpenTofu keeps the object, tainted.
	if out := tf(true, "apply", "-auto-approve", "-input=false"); !strings.Contains(string(out), "exit 1") {
		t.Fatalf("the failing provisioner did not run:\n%s", out)
	}
	return dir, tf
}

func planJSON(t *testing.T, dir string, tf func(bool, ...string) []byte, name string, extra ...string) []byte {
	t.Helper()
	tf(false, append([]string{"plan", "-input=false", "-out=" + name + ".plan"}, extra...)...)
	cmd := []string{"show", "-json", name + ".plan"}
	out := tf(false, cmd...)
	// show -json prints the document alone; -no-color adds nothing to it.
	if err := os.WriteFile(filepath.Join(dir, name+".json"), out, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// The two real-OpenTofu tests: the upstream file of a data source changes → a normal
// plan → DEPENDENCY_DRIFT naming the data source, while an out-of-band edit of another managed
// file in the same run stays its own finding; a failed local-exec provisioner → tainted → the
// next plan → FAILED_RECONCILIATION, not unauthorized drift. Then the adversarial case: the
// dependent file itself edited out of band in the same run is never relabelled.
func TestRealTofuDependencyAndFailedReconciliation(t *testing.T) {
	dir, tf := realDependencyStack(t)
	writeFile(t, filepath.Join(dir, "upstream.txt"), "ami-2\n")
	writeFile(t, filepath.Join(dir, "other.txt"), "hand-edited\n")

	js := planJSON(t, dir, tf, "normal")
	p, err := Read("normal.json", js, WithDigester(testDigester(t)))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := drift.Evaluate(depUnit(), nil, p.Observations)
	if err != nil {
		t.Fatal(err)
	}
	got := byRef(rep.Findings)
	dep, ok := got["local_file.derived DEPENDENCY_DRIFT"]
	if !ok || dep.RecommendedAction != drift.ActionReplanAndValidate || !strings.Contains(dep.Explanation, "data.local_file.upstream") ||
		strings.Join(dep.ChangedFields, ",") != "/content" || dep.AutoHealAllowed {
		t.Fatalf("want DEPENDENCY_DRIFT on local_file.derived /content naming data.local_file.upstream, got %+v", rep.Findings)
	}
	if !strings.Contains(dep.Explanation, "pin") {
		t.Errorf("no hint to pin: %q", dep.Explanation)
	}
	// hashicorp/local reads a file whose checksum changed as gone: the out-of-band edit is
	// "deleted outside", its own finding, decided by the drift rows.
	if f, ok := got["local_file.other STATE_DRIFT"]; !ok || !f.Deleted || f.Rule != "deleted-outside" {
		t.Errorf("out-of-band edit of local_file.other: want its own STATE_DRIFT finding, got %+v", rep.Findings)
	}
	failed, ok := got["terraform_data.broken FAILED_RECONCILIATION"]
	if !ok || failed.RecommendedAction != drift.ActionInvestigateControlLoop || failed.AutoHealAllowed || !strings.Contains(failed.Explanation, "tainted") {
		t.Errorf("want FAILED_RECONCILIATION on terraform_data.broken, got %+v", rep.Findings)
	}
	for _, f := range rep.Findings {
		if f.ResourceRef == "terraform_data.broken" && f.DriftClass != drift.ClassFailedReconciliation {
			t.Errorf("the tainted resource has another finding: %+v", f)
		}
		if f.DriftClass == drift.ClassUnauthorizedRuntime {
			t.Errorf("nothing here is unauthorized runtime drift: %+v", f)
		}
	}
	if len(rep.Findings) != 3 {
		t.Errorf("want exactly 3 findings, got %d: %+v", len(rep.Findings), rep.Findings)
	}

	// The tainted object is a failure in a refresh-only plan too (from prior_state), where no
	// resource_changes say it will be replaced; dependency drift needs the normal plan.
	ro, err := Read("ro.json", planJSON(t, dir, tf, "ro", "-refresh-only"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err = drift.Evaluate(depUnit(), nil, ro.Observations)
	if err != nil {
		t.Fatal(err)
	}
	got = byRef(rep.Findings)
	if _, ok := got["terraform_data.broken FAILED_RECONCILIATION"]; !ok {
		t.Errorf("refresh-only: no FAILED_RECONCILIATION for the tainted resource: %+v", rep.Findings)
	}
	if _, ok := got["local_file.derived DEPENDENCY_DRIFT"]; ok {
		t.Errorf("refresh-only: dependency drift without a normal plan: %+v", rep.Findings)
	}

	// Adversarial: the dependent file is edited out of band while its data source changes. The
	// planned change now also undoes the edit, so it is never dependency drift.
	writeFile(t, filepath.Join(dir, "derived.txt"), "base: attacker\n")
	p, err = Read("both.json", planJSON(t, dir, tf, "both"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err = drift.Evaluate(depUnit(), nil, p.Observations)
	if err != nil {
		t.Fatal(err)
	}
	got = byRef(rep.Findings)
	if _, ok := got["local_file.derived DEPENDENCY_DRIFT"]; ok {
		t.Fatalf("an out-of-band edit hid behind the data source: %+v", rep.Findings)
	}
	if f, ok := got["local_file.derived STATE_DRIFT"]; !ok || !f.Deleted {
		t.Errorf("the edit of local_file.derived lost its own finding: %+v", rep.Findings)
	}
}

// A synthetic normal plan in OpenTofu's shape, for what hashicorp/local cannot show: a provider
// that reads an out-of-band edit back as an update.
func depPlan(drift []map[string]any, changes []map[string]any, exprs map[string]any) []byte {
	doc := map[string]any{
		"format_version":    "1.2",
		"terraform_version": "1.10.10",
		"planned_values":    map[string]any{"root_module": map[string]any{}},
		"resource_changes":  changes,
		"configuration": map[string]any{"root_module": map[string]any{"resources": []any{
			map[string]any{"address": "aws_instance.web", "mode": "managed", "type": "aws_instance", "expressions": exprs},
		}}},
	}
	if drift != nil {
		doc["resource_drift"] = drift
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

func instanceChange(actions []string, before, after map[string]any) map[string]any {
	return map[string]any{"address": "aws_instance.web", "mode": "managed", "type": "aws_instance", "name": "web",
		"provider_name": "registry.opentofu.org/hashicorp/aws",
		"change":        map[string]any{"actions": actions, "before": before, "after": after, "after_unknown": map[string]any{}}}
}

var instanceExprs = map[string]any{
	"ami":           map[string]any{"references": []any{"data.aws_ami.base.id", "data.aws_ami.base"}},
	"instance_type": map[string]any{"constant_value": "t3.small"},
	"user_data":     map[string]any{"references": []any{"var.user_data"}},
}

func TestDependencyCannotHideAnEdit(t *testing.T) {
	base := map[string]any{"ami": "ami-1", "instance_type": "t3.small", "user_data": "x", "arn": "arn:1"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range base {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	cases := []struct {
		name string
		plan []byte
		want map[string]string // "ref class" -> rule
	}{{
		name: "only the data source's attribute changes: dependency drift",
		plan: depPlan(nil, []map[string]any{instanceChange([]string{"update"}, base, with("ami", "ami-2"))}, instanceExprs),
		want: map[string]string{"aws_instance.web DEPENDENCY_DRIFT": "dependency-drift"},
	}, {
		name: "an attribute the configuration does not set follows: still dependency drift",
		plan: func() []byte {
			after := with("ami", "ami-2")
			after["arn"] = "arn:2"
			return depPlan(nil, []map[string]any{instanceChange([]string{"delete", "create"}, base, after)}, instanceExprs)
		}(),
		want: map[string]string{"aws_instance.web DEPENDENCY_DRIFT": "dependency-drift"},
	}, {
		name: "the edit is undone by the plan: the drift finding stands, no dependency drift",
		plan: depPlan([]map[string]any{instanceChange([]string{"update"}, base, with("ami", "ami-evil"))},
			[]map[string]any{instanceChange([]string{"update"}, with("ami", "ami-evil"), base)}, instanceExprs),
		want: map[string]string{"aws_instance.web UNAUTHORIZED_RUNTIME_DRIFT": "unexplained"},
	}, {
		name: "a constant attribute changes too: a Git change, no dependency drift",
		plan: func() []byte {
			after := with("ami", "ami-2")
			after["instance_type"] = "t3.large"
			return depPlan(nil, []map[string]any{instanceChange([]string{"update"}, base, after)}, instanceExprs)
		}(),
		want: map[string]string{},
	}, {
		name: "a variable's attribute changes beside the data source's: no dependency drift",
		plan: func() []byte {
			after := with("ami", "ami-2")
			after["user_data"] = "y"
			return depPlan(nil, []map[string]any{instanceChange([]string{"update"}, base, after)}, instanceExprs)
		}(),
		want: map[string]string{},
	}, {
		name: "a replacement by request is not dependency drift",
		plan: func() []byte {
			c := instanceChange([]string{"delete", "create"}, base, with("ami", "ami-2"))
			c["action_reason"] = "replace_by_request"
			return depPlan(nil, []map[string]any{c}, instanceExprs)
		}(),
		want: map[string]string{},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Read("p.json", tc.plan)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := drift.Evaluate(depUnit(), nil, p.Observations)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range rep.Findings {
				got[f.ResourceRef+" "+string(f.DriftClass)] = f.Rule
			}
			if len(got) != len(tc.want) {
				t.Fatalf("findings %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: rule %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestMutableModuleSource(t *testing.T) {
	for _, tc := range []struct {
		source, version string
		mutable         bool
	}{
		{"./modules/vpc", "", false},
		{"../shared", "", false},
		{"git::https://example.com/vpc.git", "", true},
		{"git::https://example.com/vpc.git?ref=v1.2.0", "", false},
		{"git::ssh://git@example.com/vpc.git?depth=1&ref=3f2a", "", false},
		{"github.com/hashicorp/example", "", true},
		{"github.com/hashicorp/example?ref=v1", "", false},
		{"git@github.com:hashicorp/example.git", "", true},
		{"terraform-aws-modules/vpc/aws", "", true},
		{"terraform-aws-modules/vpc/aws", "~> 5.0", true},
		{"terraform-aws-modules/vpc/aws", "5.1.2", false},
		{"terraform-aws-modules/vpc/aws", "= 5.1.2", false},
		{"app.terraform.io/acme/vpc/aws", "", true},
		{"terraform-aws-modules/vpc/aws//modules/endpoints", "5.1.2", false},
	} {
		if got := mutableModuleSource(tc.source, tc.version) != ""; got != tc.mutable {
			t.Errorf("%q version %q: mutable %v, want %v", tc.source, tc.version, got, tc.mutable)
		}
	}
}

func TestMutableImage(t *testing.T) {
	for _, tc := range []struct {
		image   string
		mutable bool
	}{
		{"nginx", true},
		{"nginx:latest", true},
		{"registry.example.com:5000/team/app:latest", true},
		{"registry.example.com:5000/team/app", true},
		{"nginx:1.27.0", false},
		{"nginx@sha256:" + strings.Repeat("a", 64), false},
		{"nginx:latest@sha256:" + strings.Repeat("b", 64), false},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:2026.08.1", false},
		{"not an image", false},
		{"", false},
		{drift.DigestPrefix + strings.Repeat("c", 64), false},
	} {
		if got := mutableImage(tc.image) != ""; got != tc.mutable {
			t.Errorf("%q: mutable %v, want %v", tc.image, got, tc.mutable)
		}
	}
}

// A module source may carry a token; what a finding prints of it never does.
func TestPrintableSourceDropsCredentials(t *testing.T) {
	for _, s := range []string{
		"git::https://deploy:s3cr3t-token@example.com/vpc.git",
		"https://deploy:s3cr3t-token@example.com/vpc.zip?archive=zip&sshkey=s3cr3t-token",
		"git::https://example.com/vpc.git?sshkey=s3cr3t-token",
	} {
		if got := printableSource(s); strings.Contains(got, "s3cr3t") || !strings.Contains(got, "example.com") {
			t.Errorf("%q printed as %q", s, got)
		}
	}
}

func TestMutableReferencesInAPlan(t *testing.T) {
	doc := map[string]any{
		"format_version": "1.2", "terraform_version": "1.10.10",
		"planned_values": map[string]any{"root_module": map[string]any{}},
		"resource_changes": []any{map[string]any{
			"address": "kubernetes_deployment.web", "mode": "managed", "type": "kubernetes_deployment",
			"change": map[string]any{"actions": []any{"no-op"},
				"before": nil,
				"after": map[string]any{"spec": []any{map[string]any{"template": []any{map[string]any{"spec": []any{map[string]any{
					"container": []any{
						map[string]any{"name": "app", "image": "ghcr.io/acme/app"},
						map[string]any{"name": "pinned", "image": "ghcr.io/acme/side:1.4.2"},
					}}}}}}},
					"hidden_image": "ghcr.io/acme/hidden:latest"},
				"after_sensitive": map[string]any{"hidden_image": true},
			}},
		},
		"configuration": map[string]any{
			"provider_config": map[string]any{
				"aws":        map[string]any{"name": "aws", "full_name": "registry.opentofu.org/hashicorp/aws", "version_constraint": "~> 6.0"},
				"kubernetes": map[string]any{"name": "kubernetes", "full_name": "registry.opentofu.org/hashicorp/kubernetes"},
				"terraform":  map[string]any{"name": "terraform", "full_name": "terraform.io/builtin/terraform"},
			},
			"root_module": map[string]any{"module_calls": map[string]any{
				"vpc":   map[string]any{"source": "git::https://user:tok3n@example.com/vpc.git", "module": map[string]any{"module_calls": map[string]any{"subnets": map[string]any{"source": "acme/subnets/aws"}}}},
				"local": map[string]any{"source": "./local"},
			}},
		},
	}
	js, _ := json.Marshal(doc)
	read := func(opts ...Option) map[string]string {
		p, err := Read("refs.json", js, append(opts, WithDigester(testDigester(t)))...)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := drift.Evaluate(depUnit(), nil, p.Observations)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range rep.Findings {
			if f.RecommendedAction != drift.ActionPinReference || f.DriftClass != drift.ClassDependency {
				t.Errorf("%+v", f)
			}
			if strings.Contains(f.Explanation, "tok3n") || strings.Contains(f.Explanation, "hidden") {
				t.Errorf("a secret reached a finding: %q", f.Explanation)
			}
			got[f.ResourceRef+" "+strings.Join(f.ChangedFields, ",")] = f.Explanation
		}
		return got
	}
	got := read()
	for _, k := range []string{
		"module.vpc ",
		"module.vpc.module.subnets ",
		"kubernetes_deployment.web /spec/0/template/0/spec/0/container/0/image",
	} {
		if _, ok := got[k]; !ok {
			t.Errorf("missing %q in %v", k, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("want 3 mutable references, got %v", got)
	}
	got = read(WithProviderConstraints())
	if _, ok := got[`provider["registry.opentofu.org/hashicorp/kubernetes"] `]; !ok || len(got) != 4 {
		t.Errorf("WithProviderConstraints: want the unconstrained kubernetes provider too, got %v", got)
	}
}

func TestProviderUpgradeFromLockFiles(t *testing.T) {
	lock := func(v string) []byte {
		return []byte(`# This file is maintained automatically by "tofu init".
# Manual edits may be lost in future updates.

provider "registry.opentofu.org/hashicorp/aws" {
  version     = "` + v + `"
  constraints = "~> 6.0"
  hashes = [
    "h1:abc=",
    "zh:def",
  ]
}

provider "registry.opentofu.org/hashicorp/local" {
  version = "2.9.0"
  hashes = [
    "h1:xyz=",
  ]
}
`)
	}
	from, err := ParseLockFile(lock("6.1.0"))
	if err != nil {
		t.Fatal(err)
	}
	to, err := ParseLockFile(lock("6.2.0"))
	if err != nil {
		t.Fatal(err)
	}
	if from["registry.opentofu.org/hashicorp/aws"] != "6.1.0" || from["registry.opentofu.org/hashicorp/local"] != "2.9.0" || len(from) != 2 {
		t.Fatalf("parsed %v", from)
	}
	if _, err := ParseLockFile([]byte("provider \"x\" {\n version = \"1\"\n")); err == nil {
		t.Error("an unterminated block must be refused")
	}
	before := map[string]any{"ami": "ami-1", "instance_type": "t3.small"}
	after := map[string]any{"ami": "ami-1", "instance_type": "t3.large", "cpu_options": []any{map[string]any{"core_count": 2.0}}}
	plan := depPlan([]map[string]any{instanceChange([]string{"update"}, before, after)}, nil, instanceExprs)
	for name, tc := range map[string]struct {
		versions *ProviderVersions
		want     map[string]string
	}{
		"upgraded": {&ProviderVersions{Recorded: from, Current: to}, map[string]string{
			"aws_instance.web /instance_type": "UNAUTHORIZED_RUNTIME_DRIFT",
			"aws_instance.web /cpu_options":   "DEPENDENCY_DRIFT",
		}},
		"same version": {&ProviderVersions{Recorded: from, Current: from}, map[string]string{
			"aws_instance.web /cpu_options,/instance_type": "UNAUTHORIZED_RUNTIME_DRIFT",
		}},
		"recorded version unknown: not judged": {&ProviderVersions{Current: to}, map[string]string{
			"aws_instance.web /cpu_options,/instance_type": "UNAUTHORIZED_RUNTIME_DRIFT",
		}},
	} {
		p, err := Read("p.json", plan, WithProviderVersions(tc.versions))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := drift.Evaluate(depUnit(), nil, p.Observations)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range rep.Findings {
			got[f.ResourceRef+" "+strings.Join(f.ChangedFields, ",")] = string(f.DriftClass)
			if f.DriftClass == drift.ClassDependency && (!f.ProviderUpgrade || !strings.Contains(f.Explanation, "6.1.0 to 6.2.0")) {
				t.Errorf("%s: %+v", name, f)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %v, want %v", name, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s is %q, want %q", name, k, got[k], v)
			}
		}
	}
}

func FuzzParseLockFile(f *testing.F) {
	f.Add([]byte("provider \"registry.opentofu.org/hashicorp/aws\" {\n  version = \"6.1.0\"\n  hashes = [\n    \"h1:x\",\n  ]\n}\n"))
	f.Add([]byte("provider \"a\" {\n version = \"1\"\n version = \"2\"\n}\n"))
	f.Add([]byte("}}}{{{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseLockFile(data)
		if err == nil {
			for k, v := range m {
				if !strings.Contains(string(data), k) || !strings.Contains(string(data), v) {
					t.Fatalf("%q=%q is not in the input", k, v)
				}
			}
		}
	})
}

func testDigester(t *testing.T) *drift.Digester {
	t.Helper()
	dg, err := drift.NewDigester([]byte("dependency-test-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return dg
}

// testdata/normal-dependency-tainted.json is OpenTofu 1.10's normal plan of the stack of
// realDependencyStack with other.txt edited out of band and the upstream file changed (it also
// seeds FuzzRead): the findings the real test asserts, from the recorded bytes.
func TestRecordedDependencyPlan(t *testing.T) {
	p, err := ReadFile("testdata/normal-dependency-tainted.json")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := drift.Evaluate(depUnit(), nil, p.Observations)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		got[f.ResourceRef+" "+string(f.DriftClass)] = f.Rule
	}
	want := map[string]string{
		"local_file.derived DEPENDENCY_DRIFT":         "dependency-drift",
		"local_file.other STATE_DRIFT":                "deleted-outside",
		"terraform_data.broken FAILED_RECONCILIATION": "failed-reconciliation",
	}
	if len(got) != len(want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}
