package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run of six code lines in two front ends is reported once, with both places; the same run in
// the core and one front end is not a front-end repeat; comments and blank lines count for
// nothing.
func TestShapeFindsRepeatsBetweenFrontEnds(t *testing.T) {
	root := t.TempDir()
	body := "a := 1\nb := 2\nc := a + b\nd := c * 2\ne := d - 1\nf := e + a\ng := f\n"
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("package x\n\n// a comment\n\nfunc f() {\n"+body+"}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("provider/a.go", body)
	write("argocd-plugin/b.go", strings.ReplaceAll(body, "\n", "\n\n"))
	write("internal/drift/c.go", body)
	write("provider/a_test.go", body)
	var b bytes.Buffer
	if err := run(root, &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "between front ends: 1 ") || !strings.Contains(out, "argocd-plugin/b.go:") || !strings.Contains(out, "provider/a.go:") {
		t.Fatalf("want one repeat between provider and argocd-plugin:\n%s", out)
	}
	if strings.Contains(out, "internal/drift/c.go:") || strings.Contains(out, "a_test.go") {
		t.Fatalf("the core or a test file reported as a front-end repeat:\n%s", out)
	}
}

// Two front-end files that import the same packages do not repeat each other; the code after the
// imports still counts.
func TestShapeSkipsImports(t *testing.T) {
	root := t.TempDir()
	imports := "import (\n\t\"bytes\"\n\t\"context\"\n\t\"errors\"\n\t\"fmt\"\n\t\"io\"\n\t\"os\"\n\t\"sort\"\n)\n\nimport \"strings\"\n"
	for _, rel := range []string{"provider/a.go", "argocd-plugin/b.go"} {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("package x\n\n"+imports+"\nfunc "+strings.TrimSuffix(filepath.Base(rel), ".go")+"() {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := run(root, &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "between front ends: 0 ") {
		t.Fatalf("imports counted as a repeat:\n%s", b.String())
	}
}

// A core file that imports a front end (or a framework only front ends speak) is named; the
// front ends' own imports are theirs.
func TestShapeFindsCoreImportsOfFrontEnds(t *testing.T) {
	root := t.TempDir()
	write := func(rel, imp string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("package x\n\nimport _ \""+imp+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("internal/drift/a.go", "github.com/driftplane/terraform-provider-drift/internal/scan")
	write("internal/notify/b.go", "github.com/hashicorp/terraform-plugin-framework/datasource")
	write("internal/drift/c.go", "github.com/driftplane/terraform-provider-drift/internal/drift/ledger")
	write("provider/d.go", "github.com/hashicorp/terraform-plugin-framework/datasource")
	var b bytes.Buffer
	if err := run(root, &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "Core imports of front ends: 2 ") || !strings.Contains(out, "internal/drift/a.go imports") ||
		!strings.Contains(out, "internal/notify/b.go imports") || strings.Contains(out, "c.go imports") || strings.Contains(out, "provider/d.go imports") {
		t.Fatalf("want the two core files named:\n%s", out)
	}
}
