package edit

import (
	"path/filepath"
	"testing"
)

// TestReadBackFailsOnAWrongValue shows the read-back after every HCL edit is not vacuous: walking
// a configuration that does not hold the live value (through a variable and its .tfvars) fails it,
// one that does passes it.
func TestReadBackFailsOnAWrongValue(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "main.tf"), "variable \"c\" {}\nresource \"local_file\" \"x\" {\n  content = var.c\n  mode = \"0644\"\n}\n")
	write(t, filepath.Join(root, "terraform.tfvars"), "c = \"a\"\n")
	for _, c := range []struct {
		path  string
		value any
		fails bool
	}{
		{"/content", "a", false},
		{"/content", "b", true},
		{"/mode", "0644", false},
		{"/mode", "0600", true},
		{"/absent", "x", true},
		{"/absent", nil, false},
	} {
		tr, err := newTree(root)
		if err != nil {
			t.Fatal(err)
		}
		h := &hclEditor{t: tr, addr: resourceAddress{Type: "local_file", Name: "x"}, display: "local_file.x"}
		m := &moduleCtx{dir: "."}
		file, block, err := h.findResource(m)
		if err != nil {
			t.Fatal(err)
		}
		chk := &hclOp{h: h, field: Field{Path: c.path, Value: c.value}, where: c.path, check: true}
		if err := chk.body(m, file, block, block.Body, parsePathMust(t, c.path)); err != nil {
			t.Fatal(err)
		}
		if chk.failed != c.fails {
			t.Errorf("%s = %v: failed %v, want %v", c.path, c.value, chk.failed, c.fails)
		}
		if len(tr.changed) != 0 || len(tr.notes) != 0 {
			t.Errorf("check mode edited or noted: %v %v", tr.changed, tr.notes)
		}
	}
}

func parsePathMust(t *testing.T, p string) []string {
	t.Helper()
	ptr, err := parsePath(p)
	if err != nil {
		t.Fatal(err)
	}
	return ptr
}
