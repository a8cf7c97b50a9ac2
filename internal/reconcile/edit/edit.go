// Package edit writes a drifted runtime value into Git as desired state: it rewrites the exact
// field in OpenTofu/Terraform HCL (hclwrite) or Kubernetes manifests (kyaml), keeping the author's
// formatting and comments, and refuses — with a Note for the pull request body — wherever the
// value is not a literal it can change without changing what it means. Sensitive values are never
// written. Edits are returned, not applied: the caller commits them.
package edit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Field is one drifted field to write into Git as desired state.
type Field struct {
	// Path is the finding's changed path, a JSON pointer as drift.Change.Path spells it: relative
	// to the resource's attributes for OpenTofu ("/ingress/0/from_port", nested blocks are lists),
	// relative to the object for Kubernetes ("/spec/template/spec/containers/0/image").
	Path string
	// Value is the live value (JSON-decoded: string, float64, bool, nil, []any, map[string]any).
	Value any
	// Sensitive fields are never written; the result explains what to rotate or sync instead.
	Sensitive bool
	// Before, when HasBefore is set, is the value Git is expected to hold now (drift.Change.Before).
	// A literal that does not hold it is not rewritten: the path points somewhere else than the
	// finding thinks (a set-typed block matched by position, a stale checkout), and a Note says so.
	Before    any
	HasBefore bool
}

// Target names what to edit.
type Target struct {
	// OpenTofu/Terraform: Address is the resource address (module.a.local_file.x, with index keys).
	Address string
	// Kubernetes: the object's identity.
	APIVersion, Kind, Namespace, Name string
}

// Request is one object's drifted fields.
type Request struct {
	Root   string // repository work tree (edits stay inside it; hostile paths/symlinks refused)
	Dir    string // the unit's/app's directory relative to Root
	Target Target
	Fields []Field
}

// FileEdit is a whole new file content for a path relative to Root (slash-separated).
type FileEdit struct {
	Path    string
	Content []byte
}

// Result is what a request changes and what it could not.
type Result struct {
	Edits []FileEdit
	// Notes say what could not be rewritten safely and why, and what to rotate — for the PR body.
	// They never contain a sensitive value.
	Notes []string
}

// ErrNotFound is returned (wrapped) when the target is not defined under Dir: a request that
// edits nothing must not look like one that succeeded.
var ErrNotFound = errors.New("not defined in the configuration")

// tree reads files under one work tree and collects edits in memory. Every path it touches is
// local to the root and has no symlinked component, so neither a hostile Dir ("../x") nor a
// symlink planted in the repository can make an edit read or write outside it.
type tree struct {
	root    string
	files   map[string][]byte // current content (after edits) by slash path
	changed map[string]bool
	notes   []string
}

func newTree(root string) (*tree, error) {
	if root == "" {
		return nil, errors.New("edit: Root is empty")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("edit: root: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("edit: root %s is not a directory", root)
	}
	return &tree{root: abs, files: map[string][]byte{}, changed: map[string]bool{}}, nil
}

// clean validates a slash path relative to the root: no "..", not absolute, no symlinked component.
func (t *tree) clean(rel string) (string, error) {
	rel = filepath.ToSlash(rel)
	if rel == "" {
		rel = "."
	}
	c := path.Clean(rel)
	if c != "." && (!filepath.IsLocal(filepath.FromSlash(c)) || strings.HasPrefix(c, "/")) {
		return "", fmt.Errorf("edit: path %q leaves the repository", rel)
	}
	if c == "." {
		return c, nil
	}
	parts := strings.Split(c, "/")
	for i := range parts {
		p := filepath.Join(t.root, filepath.FromSlash(strings.Join(parts[:i+1], "/")))
		st, err := os.Lstat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return c, nil
			}
			return "", err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("edit: %s is a symlink; refusing to edit through it", strings.Join(parts[:i+1], "/"))
		}
	}
	return c, nil
}

// join resolves rel against dir (both slash, relative to the root) and validates the result.
func (t *tree) join(dir, rel string) (string, error) {
	if path.IsAbs(filepath.ToSlash(rel)) {
		return "", fmt.Errorf("edit: path %q is absolute", rel)
	}
	return t.clean(path.Join(dir, filepath.ToSlash(rel)))
}

func (t *tree) read(rel string) ([]byte, error) {
	c, err := t.clean(rel)
	if err != nil {
		return nil, err
	}
	if b, ok := t.files[c]; ok {
		return b, nil
	}
	st, err := os.Lstat(filepath.Join(t.root, filepath.FromSlash(c)))
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("edit: %s is not a regular file", c)
	}
	b, err := os.ReadFile(filepath.Join(t.root, filepath.FromSlash(c)))
	if err != nil {
		return nil, err
	}
	t.files[c] = b
	return b, nil
}

func (t *tree) exists(rel string) bool {
	c, err := t.clean(rel)
	if err != nil {
		return false
	}
	if _, ok := t.files[c]; ok {
		return true
	}
	_, err = os.Lstat(filepath.Join(t.root, filepath.FromSlash(c)))
	return err == nil
}

func (t *tree) write(rel string, b []byte) error {
	c, err := t.clean(rel)
	if err != nil {
		return err
	}
	if old, ok := t.files[c]; ok && bytes.Equal(old, b) {
		return nil
	}
	t.files[c] = b
	t.changed[c] = true
	return nil
}

// list returns the regular files directly in dir whose names match one of the suffixes, sorted.
// A matching entry that is a symlink is an error, not a skip: the definition could be behind it.
func (t *tree) list(dir string, suffixes ...string) ([]string, error) {
	c, err := t.clean(dir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(t.root, filepath.FromSlash(c)))
	if err != nil {
		return nil, fmt.Errorf("edit: %w", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		match := false
		for _, s := range suffixes {
			if strings.HasSuffix(name, s) {
				match = true
			}
		}
		if !match {
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("edit: %s is a symlink; refusing to read configuration through it", path.Join(c, name))
		}
		if e.Type().IsRegular() {
			out = append(out, path.Join(c, name))
		}
	}
	sort.Strings(out)
	return out, nil
}

// treeSnapshot is what restore needs to take back one field's edits and notes.
type treeSnapshot struct {
	files   map[string][]byte
	changed map[string]bool
	notes   int
}

func (t *tree) snapshot() treeSnapshot {
	s := treeSnapshot{files: map[string][]byte{}, changed: map[string]bool{}, notes: len(t.notes)}
	for k, v := range t.files {
		s.files[k] = v
	}
	for k, v := range t.changed {
		s.changed[k] = v
	}
	return s
}

func (t *tree) changedSince(s treeSnapshot) bool {
	for k := range t.changed {
		if !bytes.Equal(t.files[k], s.files[k]) {
			return true
		}
	}
	return false
}

func (t *tree) restore(s treeSnapshot) {
	t.files, t.changed, t.notes = s.files, s.changed, t.notes[:s.notes]
}

func (t *tree) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	for _, o := range t.notes {
		if o == n {
			return
		}
	}
	t.notes = append(t.notes, n)
}

func (t *tree) result() Result {
	var r Result
	paths := make([]string, 0, len(t.changed))
	for p := range t.changed {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		r.Edits = append(r.Edits, FileEdit{Path: p, Content: t.files[p]})
	}
	r.Notes = t.notes
	return r
}

// sensitiveNote is the only thing said about a sensitive field: where to act, never the value.
func sensitiveNote(p string, source string) string {
	if source != "" {
		return fmt.Sprintf("rotate/sync %s at its secret source (%s); the value is sensitive and is not written into Git", p, source)
	}
	return fmt.Sprintf("rotate/sync %s at its secret source; the value is sensitive and is not written into Git", p)
}

func parsePath(p string) (drift.Pointer, error) {
	ptr, err := drift.ParsePointer(p)
	if err != nil {
		return nil, err
	}
	if len(ptr) == 0 {
		return nil, errors.New("edit: the whole object is not a field; name a path below it")
	}
	return ptr, nil
}

// sameJSON compares two JSON-shaped values after a JSON round trip, so 1 and 1.0 agree.
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var na, nb any
	if json.Unmarshal(ja, &na) != nil || json.Unmarshal(jb, &nb) != nil {
		return false
	}
	ja, _ = json.Marshal(na)
	jb, _ = json.Marshal(nb)
	return bytes.Equal(ja, jb)
}
