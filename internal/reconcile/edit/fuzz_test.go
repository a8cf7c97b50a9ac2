package edit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// hclLiteral evaluates attribute attr of the first block of type typ in src.
func hclLiteral(t testing.TB, src []byte, typ, attr string) string {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, "main.tf", hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		t.Fatalf("result does not parse: %s\n%s", diags.Error(), src)
	}
	body := f.Body.(*hclsyntax.Body)
	if len(body.Blocks) != 1 {
		t.Fatalf("%d blocks after the edit:\n%s", len(body.Blocks), src)
	}
	b := body.Blocks[0]
	if b.Labels[0] != typ {
		t.Fatalf("block %v", b.Labels)
	}
	v, diags := b.Body.Attributes[attr].Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("value: %s", diags.Error())
	}
	return v.AsString()
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"local_file.x", `module.a["k.x"].module.b[0].aws_sg.web[3]`, "data.a.b", "module.m", "a.b[\"\\\"\"]", "a.b[1e99]", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAddress(s)
		if err != nil {
			return
		}
		if a.Type == "" || a.Name == "" {
			t.Fatalf("%q parsed without a type or name: %+v", s, a)
		}
	})
}

// FuzzHCLValue writes arbitrary strings as a literal: the file must parse, hold one block, and the
// attribute must evaluate to exactly the string (no interpolation, no escape breaks out).
func FuzzHCLValue(f *testing.F) {
	for _, s := range []string{"plain", "${var.x}", "%{if}", "\"\n}\n", "\\", "\x00", "<<EOT\n", "日本"} {
		f.Add(s)
	}
	root := f.TempDir()
	src := "# keep\nresource \"local_file\" \"x\" {\n  content = \"old\" # keep too\n}\n"
	if err := os.WriteFile(filepath.Join(root, "main.tf"), []byte(src), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isValidUTF8(s) {
			return
		}
		res, err := HCL(Request{Root: root, Target: Target{Address: "local_file.x"}, Fields: []Field{{Path: "/content", Value: s}}})
		if err != nil {
			t.Fatal(err)
		}
		if s == "old" {
			return
		}
		out := res.Edits[0].Content
		if got := hclLiteral(t, out, "local_file", "content"); got != s {
			t.Fatalf("reads back %q, want %q", got, s)
		}
		if !strings.Contains(string(out), "# keep\n") || !strings.Contains(string(out), "# keep too") {
			t.Fatalf("comments lost:\n%s", out)
		}
	})
}

// FuzzYAMLSet sets a field of arbitrary YAML: it must either refuse or produce a file whose
// documents decode to the old ones with exactly that change (yamlSet verifies it; the fuzzer
// looks for panics and for verified output that still differs).
func FuzzYAMLSet(f *testing.F) {
	f.Add("a: 1 # c\nb:\n  - x\n", "/a", "2")
	f.Add("---\nk: v\n---\nm:\n  n: 'q'\n", "/m/n", "it's")
	f.Add("s: |\n  line\n", "/s", "two\nlines\n")
	f.Add("l:\n- a\n- b\n", "/l/2", "c")
	f.Add("x: &a 1\ny: *a\n", "/x", "2")
	f.Fuzz(func(t *testing.T, doc, ptr, val string) {
		if len(doc) > 2000 {
			return
		}
		yf, err := parseYAMLFile("f.yaml", []byte(doc))
		if err != nil {
			return
		}
		p, err := parsePath(ptr)
		if err != nil {
			return
		}
		for di, d := range yf.docs {
			if d.root == nil {
				continue
			}
			before, err := docJSON([]byte(doc[d.start:d.end]))
			if err != nil {
				return
			}
			out, _, err := yamlSet(yf, di, p, val, false)
			if err != nil {
				return
			}
			g, err := parseYAMLFile("f.yaml", out)
			if err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, out)
			}
			want, ok := setJSON(before, p, val, false)
			got, err := docJSON(out[g.docs[di].start:g.docs[di].end])
			if !ok || err != nil || !sameJSON(got, want) {
				t.Fatalf("document %d reads %v, want %v\n%s", di, got, want, out)
			}
			return
		}
	})
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
