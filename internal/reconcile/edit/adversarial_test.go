package edit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const outsideTF = `resource "local_file" "x" {
  content = "outside"
}
`

const outsideYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  k: outside
`

// TestSymlinksOutOfTheRepositoryAreRefused plants symlinks where the editor would read or write
// through them: every one must fail, none may yield an edit.
func TestSymlinksOutOfTheRepositoryAreRefused(t *testing.T) {
	outside := t.TempDir()
	write(t, filepath.Join(outside, "main.tf"), outsideTF)
	write(t, filepath.Join(outside, "cm.yaml"), outsideYAML)
	write(t, filepath.Join(outside, "kustomization.yaml"), "resources:\n- cm.yaml\n")
	hcl := Request{Target: Target{Address: "local_file.x"}, Fields: []Field{{Path: "/content", Value: "pwned"}}}
	kube := Request{Target: Target{Kind: "ConfigMap", Name: "a"}, Fields: []Field{{Path: "/data/k", Value: "pwned"}}}
	cases := []struct {
		name  string
		setup func(root string) Request
		kube  bool
	}{
		{"tf file symlinked out", func(root string) Request {
			must(t, os.Symlink(filepath.Join(outside, "main.tf"), filepath.Join(root, "main.tf")))
			r := hcl
			return r
		}, false},
		{"unit dir symlinked out", func(root string) Request {
			must(t, os.Symlink(outside, filepath.Join(root, "stack")))
			r := hcl
			r.Dir = "stack"
			return r
		}, false},
		{"module dir symlinked out", func(root string) Request {
			write(t, filepath.Join(root, "main.tf"), "module \"m\" {\n  source = \"./m\"\n}\n")
			must(t, os.Symlink(outside, filepath.Join(root, "m")))
			r := hcl
			r.Target.Address = "module.m.local_file.x"
			return r
		}, false},
		{"tfvars symlinked out", func(root string) Request {
			write(t, filepath.Join(root, "main.tf"), "variable \"c\" {}\nresource \"local_file\" \"x\" {\n  content = var.c\n}\n")
			write(t, filepath.Join(outside, "x.tfvars"), "c = \"outside\"\n")
			must(t, os.Symlink(filepath.Join(outside, "x.tfvars"), filepath.Join(root, "terraform.tfvars")))
			return hcl
		}, false},
		{"absolute dir", func(root string) Request {
			r := hcl
			r.Dir = outside
			return r
		}, false},
		{"manifest symlinked out", func(root string) Request {
			must(t, os.Symlink(filepath.Join(outside, "cm.yaml"), filepath.Join(root, "cm.yaml")))
			return kube
		}, true},
		{"kustomize base symlinked out", func(root string) Request {
			write(t, filepath.Join(root, "app", "kustomization.yaml"), "resources:\n- ../base\n")
			must(t, os.Symlink(outside, filepath.Join(root, "base")))
			r := kube
			r.Dir = "app"
			return r
		}, true},
		{"kustomize patch symlinked out", func(root string) Request {
			write(t, filepath.Join(root, "app", "kustomization.yaml"), "resources:\n- cm.yaml\npatches:\n- path: p.yaml\n")
			write(t, filepath.Join(root, "app", "cm.yaml"), outsideYAML)
			must(t, os.Symlink(filepath.Join(outside, "cm.yaml"), filepath.Join(root, "app", "p.yaml")))
			r := kube
			r.Dir = "app"
			return r
		}, true},
		{"kustomize patch path escapes", func(root string) Request {
			write(t, filepath.Join(root, "app", "kustomization.yaml"), "resources:\n- cm.yaml\npatches:\n- path: ../../../../../../"+filepath.ToSlash(outside)+"/cm.yaml\n")
			write(t, filepath.Join(root, "app", "cm.yaml"), outsideYAML)
			r := kube
			r.Dir = "app"
			return r
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			req := c.setup(root)
			req.Root = root
			var res Result
			var err error
			if c.kube {
				res, err = Kubernetes(req)
			} else {
				res, err = HCL(req)
			}
			if err == nil {
				t.Fatalf("no error; edits %v notes %v", res.Edits, res.Notes)
			}
			if !strings.Contains(err.Error(), "symlink") && !strings.Contains(err.Error(), "leaves the repository") {
				t.Errorf("error %q does not say why", err)
			}
			if b, _ := os.ReadFile(filepath.Join(outside, "main.tf")); string(b) != outsideTF {
				t.Fatal("a file outside the repository changed")
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSensitiveValuesAreNeverWritten marks fields sensitive that are plain literals in Git (the
// easiest to "just rewrite") and a Secret's data without the flag: the live value must appear in
// no edit and no note.
func TestSensitiveValuesAreNeverWritten(t *testing.T) {
	const secret = "live-secret-value-7f3a"
	root := t.TempDir()
	write(t, filepath.Join(root, "main.tf"), "resource \"db\" \"d\" {\n  password = \"old\"\n  user = \"u\"\n}\n")
	write(t, filepath.Join(root, "k", "secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: old\n")
	write(t, filepath.Join(root, "k", "deploy.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        env:\n        - name: TOKEN\n          value: old\n")
	check := func(res Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Edits {
			if strings.Contains(string(e.Content), secret) {
				t.Errorf("%s contains the secret", e.Path)
			}
		}
		for _, n := range res.Notes {
			if strings.Contains(n, secret) {
				t.Errorf("note contains the secret: %s", n)
			}
		}
		if !strings.Contains(strings.Join(res.Notes, "\n"), "rotate/sync") {
			t.Errorf("no rotate/sync note: %v", res.Notes)
		}
	}
	check(HCL(Request{Root: root, Target: Target{Address: "db.d"}, Fields: []Field{
		{Path: "/password", Value: secret, Sensitive: true}, {Path: "/user", Value: "u2"}}}))
	check(Kubernetes(Request{Root: root, Dir: "k", Target: Target{Kind: "Secret", Name: "s"}, Fields: []Field{
		{Path: "/stringData/token", Value: secret}}}))
	check(Kubernetes(Request{Root: root, Dir: "k", Target: Target{Kind: "Deployment", Name: "d"}, Fields: []Field{
		{Path: "/spec/template/spec/containers/0/env/0/value", Value: secret, Sensitive: true}}}))
}

// TestNothingToEditIsAnError: an address or object that is not there must not come back as an
// empty success.
func TestNothingToEditIsAnError(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "main.tf"), "resource \"local_file\" \"x\" {\n  content = \"a\"\n}\n")
	write(t, filepath.Join(root, "cm.yaml"), outsideYAML)
	for _, addr := range []string{"local_file.y", "data.local_file.x", "module.m.local_file.x", "other.x"} {
		_, err := HCL(Request{Root: root, Target: Target{Address: addr}, Fields: []Field{{Path: "/content", Value: "b"}}})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: error %v, want ErrNotFound", addr, err)
		}
	}
	for _, addr := range []string{"", "local_file", "local_file.x.y", "local_file.x[", `module["a"].x.y`, "local_file.x[-1]", "local_file.x[1.5]", "local_file.x; rm -rf /"} {
		if _, err := HCL(Request{Root: root, Target: Target{Address: addr}, Fields: []Field{{Path: "/content", Value: "b"}}}); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("%q: error %v, want a parse error", addr, err)
		}
	}
	if _, err := Kubernetes(Request{Root: root, Target: Target{Kind: "ConfigMap", Name: "b"}, Fields: []Field{{Path: "/data/k", Value: "b"}}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("kube: error %v, want ErrNotFound", err)
	}
	for _, p := range []string{"", "data/k", "/data/~2"} {
		if _, err := HCL(Request{Root: root, Target: Target{Address: "local_file.x"}, Fields: []Field{{Path: p, Value: "b"}}}); err == nil {
			t.Errorf("path %q: no error", p)
		}
	}
}

// TestHostileValuesStayValues: a live value shaped like configuration must land as one string
// value, not as new blocks, interpolations or YAML keys.
func TestHostileValuesStayValues(t *testing.T) {
	hostile := "x\"\n}\nresource \"evil\" \"e\" {\n  command = \"${file(\"/etc/passwd\")}\"\n}\n# "
	root := t.TempDir()
	write(t, filepath.Join(root, "main.tf"), "resource \"local_file\" \"x\" {\n  content = \"a\"\n}\n")
	write(t, filepath.Join(root, "cm.yaml"), outsideYAML)
	res, err := HCL(Request{Root: root, Target: Target{Address: "local_file.x"}, Fields: []Field{{Path: "/content", Value: hostile}}})
	if err != nil || len(res.Edits) != 1 {
		t.Fatalf("%v %v", res, err)
	}
	got := hclLiteral(t, res.Edits[0].Content, "local_file", "content")
	if got != hostile {
		t.Fatalf("content reads back as %q", got)
	}
	yamlHostile := "v\nevil: true\n---\nkind: Secret\n"
	res, err = Kubernetes(Request{Root: root, Target: Target{Kind: "ConfigMap", Name: "a"}, Fields: []Field{{Path: "/data/k", Value: yamlHostile}}})
	if err != nil || len(res.Edits) != 1 {
		t.Fatalf("%v %v", res, err)
	}
	f, err := parseYAMLFile("cm.yaml", res.Edits[0].Content)
	if err != nil || len(f.docs) != 1 {
		t.Fatalf("%v, %d documents:\n%s", err, len(f.docs), res.Edits[0].Content)
	}
	v, _ := docJSON(res.Edits[0].Content)
	if got, _ := lookupJSON(v, []string{"data", "k"}); got != yamlHostile {
		t.Fatalf("data.k reads back as %q", got)
	}
	if _, has := lookupJSON(v, []string{"evil"}); has {
		t.Fatal("a key was injected")
	}
}

// TestCRLFManifestsKeepTheirLineEndings: a Windows-edited manifest is rewritten at the value only.
func TestCRLFManifestsKeepTheirLineEndings(t *testing.T) {
	root := t.TempDir()
	src := "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: a\r\ndata:\r\n  k: old # note\r\n  j: x\r\n"
	write(t, filepath.Join(root, "cm.yaml"), src)
	res, err := Kubernetes(Request{Root: root, Target: Target{Kind: "ConfigMap", Name: "a"}, Fields: []Field{{Path: "/data/k", Value: "new"}}})
	if err != nil || len(res.Edits) != 1 {
		t.Fatalf("%v %v", res, err)
	}
	if got, want := string(res.Edits[0].Content), strings.Replace(src, "old", "new", 1); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
