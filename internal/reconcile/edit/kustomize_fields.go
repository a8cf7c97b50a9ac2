package edit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// step is one token of a field's path, with list elements named the way a strategic-merge patch
// names them: by merge key (containers by name, ports by containerPort, ...), since patches list
// elements in their own order and kustomize renders the merged list in yet another.
type step struct {
	name   string // map key; "" for a list element
	index  int    // position in the rendered list
	key    string // merge key; "" when the list has none (then only the position identifies it)
	keyVal any
	list   []any // the rendered list, for lists without a merge key
}

func (s step) isList() bool { return s.name == "" }

// keyedPath names each list element of ptr in the rendered object by its merge key.
func keyedPath(rendered any, ptr drift.Pointer) ([]step, bool) {
	var out []step
	v := rendered
	for _, tok := range ptr {
		switch x := v.(type) {
		case map[string]any:
			out = append(out, step{name: tok})
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			st := step{index: i, list: x}
			if k, kv, ok := mergeKey(x[i]); ok {
				st.key, st.keyVal = k, kv
			}
			out = append(out, st)
			v = x[i]
		default:
			if _, err := strconv.Atoi(tok); err == nil {
				return nil, false
			}
			out = append(out, step{name: tok})
			v = nil
		}
	}
	return out, true
}

// walkDoc follows steps through one source document (a resource or a patch). It returns the
// document pointer as far as the document has the path, the steps left, and the value where it
// stopped; ok is false when the document has the list but cannot be matched to the rendered one
// (a list without merge key that differs from what renders).
func walkDoc(doc any, steps []step) (pp drift.Pointer, rest []step, at any, ok bool) {
	v := doc
	for i, st := range steps {
		switch x := v.(type) {
		case map[string]any:
			if st.isList() {
				return nil, nil, nil, false
			}
			child, has := x[st.name]
			if !has {
				return pp, steps[i:], v, true
			}
			pp = append(pp, st.name)
			v = child
		case []any:
			if !st.isList() {
				return nil, nil, nil, false
			}
			if st.key == "" {
				if !sameJSON(x, st.list) {
					return nil, nil, nil, false
				}
				pp = append(pp, strconv.Itoa(st.index))
				v = x[st.index]
				continue
			}
			found := -1
			for j, e := range x {
				if m, ok := e.(map[string]any); ok && sameJSON(m[st.key], st.keyVal) {
					found = j
				}
			}
			if found < 0 {
				return pp, steps[i:], v, true
			}
			pp = append(pp, strconv.Itoa(found))
			v = x[found]
		default:
			return nil, nil, nil, false
		}
	}
	return pp, nil, v, true
}

// fragment builds what sets steps to val below a point a document does not reach yet. With stubs,
// a list it starts also names (by merge key only) the elements that render before the new one:
// kustomize renders a patched list in the patch's order first, and the stubs keep the rendered
// order, and with it the positions the next evaluation compares, as they were.
func fragment(steps []step, val any, stubs bool) (any, bool) {
	if len(steps) == 0 {
		return val, true
	}
	st := steps[0]
	if !st.isList() {
		inner, ok := fragment(steps[1:], val, stubs)
		if !ok {
			return nil, false
		}
		return map[string]any{st.name: inner}, true
	}
	if st.key == "" {
		return nil, false
	}
	inner, ok := fragment(steps[1:], val, stubs)
	m, isMap := inner.(map[string]any)
	if !ok || !isMap {
		return nil, false
	}
	m[st.key] = st.keyVal
	var out []any
	if stubs {
		out = stubsBefore(st, nil)
	}
	return append(out, m), true
}

// stubsBefore lists {key: value} for the rendered elements before st that list lacks.
func stubsBefore(st step, list []any) []any {
	var out []any
	for j := 0; j < st.index && j < len(st.list); j++ {
		k, kv, ok := mergeKey(st.list[j])
		if !ok || k != st.key {
			continue
		}
		present := false
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && sameJSON(m[k], kv) {
				present = true
			}
		}
		if !present {
			out = append(out, map[string]any{k: kv})
		}
	}
	return out
}

// render builds the original kustomization with kustomize itself, from an in-memory copy of the
// directories it reads, so a kustomization cannot make it read outside the repository or fetch
// anything.
func (k *kubeEditor) render(dir string, withEdits bool) (any, error) {
	if k.anyRemote {
		return nil, errors.New("it names a remote resource")
	}
	if k.anyHelm {
		return nil, errors.New("it runs Helm or plugin generators")
	}
	mem := filesys.MakeFsInMemory()
	for _, d := range k.visited {
		base := filepath.Join(k.t.root, filepath.FromSlash(d))
		err := filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && p != base && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			if !e.Type().IsRegular() {
				return nil
			}
			rel, _ := filepath.Rel(k.t.root, p)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return mem.WriteFile("/"+filepath.ToSlash(rel), b)
		})
		if err != nil {
			return nil, err
		}
	}
	if withEdits {
		for p := range k.t.changed {
			if err := mem.WriteFile("/"+p, k.t.files[p]); err != nil {
				return nil, err
			}
		}
	}
	opts := krusty.MakeDefaultOptions()
	rm, err := krusty.MakeKustomizer(opts).Run(mem, "/"+dir)
	if err != nil {
		return nil, err
	}
	y, err := rm.AsYaml()
	if err != nil {
		return nil, err
	}
	f, err := parseYAMLFile("rendered", y)
	if err != nil {
		return nil, err
	}
	id := objectID{apiVersion: k.target.APIVersion, kind: k.target.Kind, namespace: k.target.Namespace, name: k.target.Name}
	for _, d := range f.docs {
		v, err := docJSON(y[d.start:d.end])
		if err != nil {
			return nil, err
		}
		if id.matches(v) {
			return v, nil
		}
	}
	return nil, fmt.Errorf("it does not render %s", k.display)
}

func (k *kubeEditor) kustomize(dir string, id objectID, fields []Field) error {
	src, err := k.locate(dir, id, 0)
	if err != nil {
		return err
	}
	if src == nil {
		return fmt.Errorf("edit: %s under kustomization %s: %w", k.display, dir, ErrNotFound)
	}
	if src.loc != nil {
		src.rendered, src.renderErr = k.render(dir, false)
		k.appDir = dir
	}
	for _, f := range fields {
		ptr, err := parsePath(f.Path)
		if err != nil {
			return fmt.Errorf("edit: field %q: %w", f.Path, err)
		}
		secret := f.Sensitive || k.secretPath(ptr)
		switch {
		case src.generator != "":
			if secret {
				k.t.note("%s", sensitiveNote(k.display+" "+f.Path, "generated by "+src.generator))
				continue
			}
			k.note(f, "the object is generated by %s; its files or literals are not rewritten — change them there", src.generator)
			continue
		case src.helm != "":
			if secret {
				k.t.note("%s", sensitiveNote(k.display+" "+f.Path, "rendered from the Helm chart in "+src.helm))
				continue
			}
			k.note(f, "the object is rendered by a Helm chart (helmCharts in %s); set the value in the chart's values instead — not guessed", src.helm)
			continue
		case src.remote != nil:
			if secret {
				k.t.note("%s", sensitiveNote(k.display+" "+f.Path, ""))
				continue
			}
			k.note(f, "the object comes from a remote base (%s), outside this repository; not rewritten", strings.Join(src.remote, ", "))
			continue
		}
		if secret {
			k.t.note("%s", sensitiveNote(k.display+" "+f.Path, "the Secret's source, e.g. the sealed or external secret or the vault it syncs from"))
			continue
		}
		if err := k.kustomizeField(src, f, ptr); err != nil {
			return err
		}
	}
	return nil
}

// kustomizeField writes one field, then renders the edited tree with kustomize: unless the
// object now renders the live value there, the field's edits are taken back and a Note says so.
// That catches what no file-by-file reading sees — commonLabels, namespace, replacements or
// components that set the field after the file that was edited.
func (k *kubeEditor) kustomizeField(src *kubeSource, f Field, ptr drift.Pointer) error {
	within := src.rendered
	if within == nil {
		b, err := k.baseJSON(src)
		if err != nil {
			return err
		}
		within = b
	}
	ptr, ok := resolveKeyed(within, ptr)
	if !ok {
		k.note(f, "the list element the path names by its key is not exactly one element of the rendered object; not rewritten")
		return nil
	}
	snap := k.t.snapshot()
	if err := k.kustomizeFieldEdit(src, f, ptr); err != nil {
		return err
	}
	if !k.t.changedSince(snap) {
		return nil
	}
	if src.rendered == nil {
		k.note(f, "written without rendering the kustomization to check it (%v); review the change", src.renderErr)
		return nil
	}
	steps, _ := keyedPath(src.rendered, ptr)
	after, err := k.render(k.appDir, true)
	if err == nil && rendersValue(after, steps, f.Value) {
		return nil
	}
	k.t.restore(snap)
	if err != nil {
		k.note(f, "the edited kustomization does not build (%v); not rewritten", err)
		return nil
	}
	k.note(f, "the kustomization would still not render the live value after editing the file that defines it (a transformer such as labels, namespace or replacements sets it later); not rewritten")
	return nil
}

// rendersValue reports whether the rendered object holds val at steps (absent for nil); list
// elements are found by merge key, others by position.
func rendersValue(obj any, steps []step, val any) bool {
	v := obj
	for _, st := range steps {
		switch x := v.(type) {
		case map[string]any:
			if st.isList() {
				return false
			}
			child, ok := x[st.name]
			if !ok {
				return val == nil
			}
			v = child
		case []any:
			if !st.isList() {
				return false
			}
			if st.key == "" {
				if st.index >= len(x) {
					return val == nil
				}
				v = x[st.index]
				continue
			}
			found := false
			for _, e := range x {
				if m, ok := e.(map[string]any); ok && sameJSON(m[st.key], st.keyVal) {
					v, found = e, true
				}
			}
			if !found {
				return val == nil
			}
		default:
			return val == nil
		}
	}
	return sameJSON(v, val)
}

func (k *kubeEditor) kustomizeFieldEdit(src *kubeSource, f Field, ptr drift.Pointer) error {
	if ptr[0] == "status" {
		k.note(f, "is written by the cluster, not declared; nothing to write into Git")
		return nil
	}
	base, err := k.baseJSON(src)
	if err != nil {
		return err
	}
	rendered := src.rendered
	if rendered == nil {
		for _, tok := range ptr {
			if _, err := strconv.Atoi(tok); err == nil {
				k.note(f, "the kustomization could not be rendered here (%v), so which list element the path names is unknown; not rewritten", src.renderErr)
				return nil
			}
		}
		rendered = base
	}
	if f.HasBefore {
		if got, ok := lookupJSON(rendered, ptr); (!ok && f.Before != nil) || (ok && !sameJSON(got, f.Before)) {
			k.note(f, "the kustomization does not render the value the finding compared against; not rewritten")
			return nil
		}
	}
	f.HasBefore = false
	steps, ok := keyedPath(rendered, ptr)
	if !ok {
		k.note(f, "the path is not in the rendered object; not rewritten")
		return nil
	}
	for _, l := range src.layers {
		done, err := k.transformers(l, f, steps, base)
		if err != nil || done {
			return err
		}
		done, err = k.layerPatches(l, f, steps)
		if err != nil || done {
			return err
		}
	}
	if len(src.layers) == 1 {
		return k.writeSteps(*src.loc, f, steps, f.Value == nil)
	}
	// The resource lives in a base that other overlays may share: the accepted value belongs to
	// this application, so it goes into a patch of the application's own kustomization.
	loc, err := k.overlayPatchFile(src.layers[0], base)
	if err != nil {
		return err
	}
	return k.writeSteps(loc, f, steps, false)
}

// writeSteps sets the field in one source document, adding the keys or list element it lacks.
// In a strategic-merge patch (del false) a removed field is written as null, which deletes it
// from the base.
func (k *kubeEditor) writeSteps(loc docLoc, f Field, steps []step, del bool) error {
	yf, err := k.loadYAML(loc.file)
	if err != nil {
		return err
	}
	d := yf.docs[loc.doc]
	doc, err := docJSON(yf.src[d.start:d.end])
	if err != nil {
		return err
	}
	pp, rest, at, ok := walkDoc(doc, steps)
	if !ok {
		k.note(f, "lies in a list of %s without a merge key that differs from what renders; not rewritten", loc.file)
		return nil
	}
	if len(rest) == 0 {
		return k.setIn(loc, pp, f, del)
	}
	if f.Value == nil && del {
		return nil
	}
	g := f
	patch := !del
	if l, isList := at.([]any); isList {
		frag, ok := fragment(rest, f.Value, false)
		if !ok {
			k.note(f, "cannot be expressed in %s by merge key; not rewritten", loc.file)
			return nil
		}
		var add []any
		if patch {
			add = stubsBefore(rest[0], l)
		}
		add = append(add, frag.([]any)[0])
		for i, el := range add {
			g.Value = el
			if err := k.setIn(loc, append(append(drift.Pointer{}, pp...), strconv.Itoa(len(l)+i)), g, false); err != nil {
				return err
			}
		}
		return nil
	}
	frag, ok := fragment(rest[1:], f.Value, patch)
	if !ok || rest[0].isList() {
		k.note(f, "cannot be expressed in %s by merge key; not rewritten", loc.file)
		return nil
	}
	g.Value = frag
	return k.setIn(loc, append(pp, rest[0].name), g, false)
}

// transformers edits an `images` or `replicas` entry of layer l that sets the field.
func (k *kubeEditor) transformers(l *kLayer, f Field, steps []step, base any) (bool, error) {
	ptr := make(drift.Pointer, len(steps))
	for i, s := range steps {
		ptr[i] = s.name
		if s.isList() {
			ptr[i] = strconv.Itoa(s.index)
		}
	}
	if isImagePath(ptr) {
		_, rest, old, ok := walkDoc(base, steps)
		oldImage, _ := old.(string)
		if !ok || len(rest) > 0 {
			oldImage = ""
		}
		baseName, _, _ := splitImage(oldImage)
		for i, im := range l.k.Images {
			if im.Name != baseName || baseName == "" {
				continue
			}
			live, ok := f.Value.(string)
			if !ok {
				k.note(f, "the images entry %q in %s sets it and the live value is not an image reference; not rewritten", im.Name, l.file)
				return true, nil
			}
			name, tag, digest := splitImage(live)
			set := func(field, v string, has bool) error {
				p := drift.Pointer{"images", strconv.Itoa(i), field}
				if v == "" {
					if !has {
						return nil
					}
					return k.setKustomization(l, f, p, nil, true)
				}
				return k.setKustomization(l, f, p, v, false)
			}
			newName := ""
			if name != im.Name {
				newName = name
			}
			if err := set("newName", newName, im.NewName != ""); err != nil {
				return true, err
			}
			if tag == "" && digest == "" {
				tag = "latest"
			}
			if err := set("newTag", tag, im.NewTag != ""); err != nil {
				return true, err
			}
			return true, set("digest", digest, im.Digest != "")
		}
	}
	if len(ptr) == 2 && ptr[0] == "spec" && ptr[1] == "replicas" {
		for i, r := range l.k.Replicas {
			if r.Name == l.id.name {
				return true, k.setKustomization(l, f, drift.Pointer{"replicas", strconv.Itoa(i), "count"}, f.Value, false)
			}
		}
	}
	return false, nil
}

// layerPatches looks for a patch of l that sets the field, last applied first; it edits a
// strategic-merge patch or the value of a JSON 6902 replace/add at exactly the path, and says
// where it is set otherwise.
func (k *kubeEditor) layerPatches(l *kLayer, f Field, steps []step) (bool, error) {
	ptr := drift.MustPointer(f.Path)
	refs := l.patches()
	for i := len(refs) - 1; i >= 0; i-- {
		r := refs[i]
		if r.p.Target != nil && !r.p.Target.matches(l.id) {
			continue
		}
		if r.p.Target != nil && (r.p.Target.LabelSelector != "" || r.p.Target.AnnotationSelector != "") {
			k.note(f, "a patch in %s selects objects by label or annotation; not evaluated — check whether it sets this field", l.file)
		}
		var yf *yamlFile
		var err error
		if r.p.Path != "" {
			p, err := k.t.join(l.dir, r.p.Path)
			if err != nil {
				return true, err
			}
			if yf, err = k.loadYAML(p); err != nil {
				return true, err
			}
		} else if yf, err = parseYAMLFile(l.file+" (inline patch)", []byte(r.p.Patch)); err != nil {
			return true, err
		}
		inline := r.p.Path == ""
		for di, d := range yf.docs {
			if d.root == nil {
				continue
			}
			doc, err := docJSON(yf.src[d.start:d.end])
			if err != nil {
				return true, err
			}
			if ops, ok := doc.([]any); ok {
				if r.p.Target == nil {
					continue
				}
				if done, err := k.jsonPatch(f, ptr, yf, di, ops, inline); done || err != nil {
					return done, err
				}
				continue
			}
			if r.json {
				continue
			}
			if r.p.Target == nil && !l.id.matches(doc) {
				continue
			}
			if m, _ := doc.(map[string]any); m["$patch"] == "delete" {
				continue
			}
			_, rest, _, ok := walkDoc(doc, steps)
			if !ok || len(rest) > 0 {
				continue
			}
			if inline {
				k.note(f, "set by an inline patch in %s; not rewritten — change the patch there", l.file)
				return true, nil
			}
			return true, k.writeSteps(docLoc{file: yf.path, doc: di}, f, steps, false)
		}
	}
	return false, nil
}

func (k *kubeEditor) jsonPatch(f Field, ptr drift.Pointer, yf *yamlFile, di int, ops []any, inline bool) (bool, error) {
	for oi := len(ops) - 1; oi >= 0; oi-- {
		op, _ := ops[oi].(map[string]any)
		ps, _ := op["path"].(string)
		opPtr, err := drift.ParsePointer(ps)
		if err != nil {
			continue
		}
		if !ptr.HasPrefix(opPtr) && !opPtr.HasPrefix(ptr) {
			continue
		}
		kind, _ := op["op"].(string)
		_, hasValue := op["value"]
		if inline || opPtr.String() != ptr.String() || (kind != "replace" && kind != "add") || !hasValue || f.Value == nil {
			k.note(f, "set by a JSON 6902 patch (%s %s) in %s; not rewritten — change the patch there", kind, ps, yf.path)
			return true, nil
		}
		return true, k.setIn(docLoc{file: yf.path, doc: di}, drift.Pointer{strconv.Itoa(oi), "value"}, f, false)
	}
	return false, nil
}
