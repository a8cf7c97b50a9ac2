package edit

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden want/ trees and notes from the current output")

// goldenRequest is testdata/<kind>/<case>/request.json.
type goldenRequest struct {
	Dir    string
	Target Target
	Fields []Field
}

// TestGolden runs every case under testdata/hcl and testdata/kube: in/ is the repository, request.json
// the request, want/ the whole repository after the edits, notes.txt the notes (one a line) and
// error.txt, when present, a substring the error must contain (then nothing may be edited).
func TestGolden(t *testing.T) {
	for _, kind := range []string{"hcl", "kube"} {
		cases, err := os.ReadDir(filepath.Join("testdata", kind))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if !c.IsDir() {
				continue
			}
			dir := filepath.Join("testdata", kind, c.Name())
			t.Run(kind+"/"+c.Name(), func(t *testing.T) { runGolden(t, kind, dir) })
		}
	}
}

func runGolden(t *testing.T, kind, dir string) {
	raw, err := os.ReadFile(filepath.Join(dir, "request.json"))
	if err != nil {
		t.Fatal(err)
	}
	var req goldenRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		t.Fatalf("request.json: %v", err)
	}
	root := t.TempDir()
	copyTree(t, filepath.Join(dir, "in"), root)
	r := Request{Root: root, Dir: req.Dir, Target: req.Target, Fields: req.Fields}
	var res Result
	if kind == "hcl" {
		res, err = HCL(r)
	} else {
		res, err = Kubernetes(r)
	}
	if wantErr, rerr := os.ReadFile(filepath.Join(dir, "error.txt")); rerr == nil {
		if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(string(wantErr))) {
			t.Fatalf("error = %v, want one containing %q", err, strings.TrimSpace(string(wantErr)))
		}
		if len(res.Edits) != 0 {
			t.Fatalf("an error came with edits: %v", res.Edits)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	for _, e := range res.Edits {
		if !filepath.IsLocal(e.Path) {
			t.Fatalf("edit path %q is not local", e.Path)
		}
		p := filepath.Join(root, filepath.FromSlash(e.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, e.Content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	notes := strings.Join(res.Notes, "\n")
	if notes != "" {
		notes += "\n"
	}
	if *update {
		_ = os.RemoveAll(filepath.Join(dir, "want"))
		copyTree(t, root, filepath.Join(dir, "want"))
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte(notes), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, want := readTree(t, root), readTree(t, filepath.Join(dir, "want"))
	for p, w := range want {
		if g, ok := got[p]; !ok {
			t.Errorf("%s: missing", p)
		} else if g != w {
			t.Errorf("%s:\n--- got\n%s\n--- want\n%s", p, g, w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: not expected", p)
		}
	}
	wantNotes, _ := os.ReadFile(filepath.Join(dir, "notes.txt"))
	if notes != string(wantNotes) {
		t.Errorf("notes:\n--- got\n%s--- want\n%s", notes, wantNotes)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
