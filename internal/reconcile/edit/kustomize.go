package edit

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// kustomization holds the parts of a kustomization.yaml that decide where a field comes from.
type kustomization struct {
	Resources                   []string          `json:"resources"`
	Bases                       []string          `json:"bases"`
	Components                  []string          `json:"components"`
	PatchesStrategicMerge       []string          `json:"patchesStrategicMerge"`
	Patches                     []kpatch          `json:"patches"`
	PatchesJSON6902             []kpatch          `json:"patchesJson6902"`
	Images                      []kimage          `json:"images"`
	Replicas                    []kreplica        `json:"replicas"`
	ConfigMapGenerator          []kgen            `json:"configMapGenerator"`
	SecretGenerator             []kgen            `json:"secretGenerator"`
	HelmCharts                  []json.RawMessage `json:"helmCharts"`
	HelmChartInflationGenerator []json.RawMessage `json:"helmChartInflationGenerator"`
	Generators                  []string          `json:"generators"`
	Transformers                []string          `json:"transformers"`
	Replacements                []json.RawMessage `json:"replacements"`
	NamePrefix                  string            `json:"namePrefix"`
	NameSuffix                  string            `json:"nameSuffix"`
	Namespace                   string            `json:"namespace"`
}

type kpatch struct {
	Path   string     `json:"path"`
	Patch  string     `json:"patch"`
	Target *kselector `json:"target"`
}

type kselector struct {
	Group, Version, Kind, Name, Namespace string
	LabelSelector                         string `json:"labelSelector"`
	AnnotationSelector                    string `json:"annotationSelector"`
}

type kimage struct {
	Name    string `json:"name"`
	NewName string `json:"newName"`
	NewTag  string `json:"newTag"`
	Digest  string `json:"digest"`
}

type kreplica struct {
	Name string `json:"name"`
}

type kgen struct {
	Name string `json:"name"`
}

// kLayer is one kustomization on the way from the application to the object's resource file,
// with the object's identity as that kustomization's patches see it.
type kLayer struct {
	dir, file string
	k         kustomization
	id        objectID
}

// kubeSource is where an object comes from in a kustomization tree.
type kubeSource struct {
	layers    []*kLayer // outermost (the application's) first
	loc       *docLoc   // the resource document, in the innermost layer
	generator string
	helm      string
	remote    []string
}

func (k *kubeEditor) loadLayer(dir string) (*kLayer, error) {
	kf := kustomizationFile(k.t, dir)
	b, err := k.t.read(kf)
	if err != nil {
		return nil, err
	}
	l := &kLayer{dir: dir, file: kf}
	if err := decodeYAMLInto(b, &l.k); err != nil {
		return nil, fmt.Errorf("edit: %s: %w", kf, err)
	}
	return l, nil
}

var hashSuffix = regexp.MustCompile(`^-[a-z0-9]{10}$`)

// locate finds the resource document of id below the kustomization in dir.
func (k *kubeEditor) locate(dir string, id objectID, depth int) (*kubeSource, error) {
	if depth > 32 {
		return nil, fmt.Errorf("edit: kustomizations nest deeper than 32 levels at %s", dir)
	}
	l, err := k.loadLayer(dir)
	if err != nil {
		return nil, err
	}
	inner := id
	if p := l.k.NamePrefix; p != "" {
		if !strings.HasPrefix(inner.name, p) {
			return nil, nil
		}
		inner.name = strings.TrimPrefix(inner.name, p)
	}
	if s := l.k.NameSuffix; s != "" {
		if !strings.HasSuffix(inner.name, s) {
			return nil, nil
		}
		inner.name = strings.TrimSuffix(inner.name, s)
	}
	if l.k.Namespace != "" {
		inner.anyNamespace = true
	}
	l.id = inner
	gens := map[string][]kgen{"ConfigMap": l.k.ConfigMapGenerator, "Secret": l.k.SecretGenerator}
	for _, g := range gens[inner.kind] {
		if inner.name == g.Name || (strings.HasPrefix(inner.name, g.Name) && hashSuffix.MatchString(inner.name[len(g.Name):])) {
			kind := "configMapGenerator"
			if inner.kind == "Secret" {
				kind = "secretGenerator"
			}
			return &kubeSource{layers: []*kLayer{l}, generator: fmt.Sprintf("%s %q in %s", kind, g.Name, l.file)}, nil
		}
	}
	var found []*kubeSource
	var remote []string
	for _, res := range append(append([]string{}, l.k.Resources...), l.k.Bases...) {
		if isRemote(res) {
			remote = append(remote, res)
			continue
		}
		p, err := k.t.join(dir, res)
		if err != nil {
			return nil, err
		}
		if isDir(k.t, p) {
			if kustomizationFile(k.t, p) == "" {
				continue
			}
			src, err := k.locate(p, inner, depth+1)
			if err != nil {
				return nil, err
			}
			if src != nil {
				src.layers = append([]*kLayer{l}, src.layers...)
				found = append(found, src)
			}
			continue
		}
		if !isManifestName(p) {
			continue
		}
		loc, err := k.findIn([]string{p}, inner)
		if err != nil {
			return nil, err
		}
		if loc != nil {
			found = append(found, &kubeSource{layers: []*kLayer{l}, loc: loc})
		}
	}
	if len(found) > 1 {
		return nil, fmt.Errorf("edit: %s comes from more than one resource under %s; refusing to guess", k.display, dir)
	}
	if len(found) == 1 {
		return found[0], nil
	}
	if len(l.k.HelmCharts)+len(l.k.HelmChartInflationGenerator) > 0 {
		return &kubeSource{layers: []*kLayer{l}, helm: l.file}, nil
	}
	if len(remote) > 0 {
		return &kubeSource{layers: []*kLayer{l}, remote: remote}, nil
	}
	return nil, nil
}

func (k *kubeEditor) kustomize(dir string, id objectID, fields []Field) error {
	src, err := k.locate(dir, id, 0)
	if err != nil {
		return err
	}
	if src == nil {
		return fmt.Errorf("edit: %s under kustomization %s: %w", k.display, dir, ErrNotFound)
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

func (k *kubeEditor) baseJSON(src *kubeSource) (any, error) {
	yf, err := k.loadYAML(src.loc.file)
	if err != nil {
		return nil, err
	}
	d := yf.docs[src.loc.doc]
	return docJSON(yf.src[d.start:d.end])
}

func (k *kubeEditor) kustomizeField(src *kubeSource, f Field, ptr drift.Pointer) error {
	if ptr[0] == "status" {
		k.note(f, "is written by the cluster, not declared; nothing to write into Git")
		return nil
	}
	base, err := k.baseJSON(src)
	if err != nil {
		return err
	}
	for _, l := range src.layers {
		done, err := k.transformers(l, f, ptr, base)
		if err != nil || done {
			return err
		}
		done, err = k.layerPatches(l, f, ptr, base)
		if err != nil || done {
			return err
		}
	}
	if len(src.layers) == 1 {
		return k.setIn(*src.loc, ptr, f, f.Value == nil)
	}
	// The resource lives in a base that other overlays may share: the accepted value belongs to
	// this application, so it goes into a patch of the application's own kustomization.
	return k.overlayPatch(src, f, ptr, base)
}

// transformers edits an `images` or `replicas` entry of layer l that sets the field.
func (k *kubeEditor) transformers(l *kLayer, f Field, ptr drift.Pointer, base any) (bool, error) {
	if isImagePath(ptr) {
		old, _ := lookupJSON(base, ptr)
		oldImage, _ := old.(string)
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

func (k *kubeEditor) setKustomization(l *kLayer, f Field, p drift.Pointer, v any, del bool) error {
	yf, err := k.loadYAML(l.file)
	if err != nil {
		return err
	}
	for i, d := range yf.docs {
		if d.root == nil {
			continue
		}
		out, _, err := yamlSet(yf, i, p, v, del)
		if err != nil {
			k.note(f, "cannot rewrite %s in %s (%v); rewrite it by hand", p.String(), l.file, err)
			return nil
		}
		return k.t.write(l.file, out)
	}
	return fmt.Errorf("edit: %s is empty", l.file)
}

func isImagePath(ptr drift.Pointer) bool {
	n := len(ptr)
	return n >= 3 && ptr[n-1] == "image" && (ptr[n-3] == "containers" || ptr[n-3] == "initContainers" || ptr[n-3] == "ephemeralContainers")
}

// splitImage splits registry:5000/app:tag@sha256:… into name, tag and digest.
func splitImage(s string) (name, tag, digest string) {
	if i := strings.Index(s, "@"); i >= 0 {
		s, digest = s[:i], s[i+1:]
	}
	if j := strings.LastIndex(s, ":"); j > strings.LastIndex(s, "/") {
		s, tag = s[:j], s[j+1:]
	}
	return s, tag, digest
}

// patchRef is one patch of a layer, in the order kustomize applies them.
type patchRef struct {
	p    kpatch
	sm   bool // listed under patchesStrategicMerge
	json bool // listed under patchesJson6902
}

func (l *kLayer) patches() []patchRef {
	var out []patchRef
	for _, s := range l.k.PatchesStrategicMerge {
		if strings.Contains(s, "\n") {
			out = append(out, patchRef{p: kpatch{Patch: s}, sm: true})
		} else {
			out = append(out, patchRef{p: kpatch{Path: s}, sm: true})
		}
	}
	for _, p := range l.k.PatchesJSON6902 {
		out = append(out, patchRef{p: p, json: true})
	}
	for _, p := range l.k.Patches {
		out = append(out, patchRef{p: p})
	}
	return out
}

func (s *kselector) matches(id objectID) bool {
	if s.Kind != "" && s.Kind != id.kind {
		return false
	}
	if s.Name != "" {
		re, err := regexp.Compile("^(?:" + s.Name + ")$")
		if err != nil || !re.MatchString(id.name) {
			return false
		}
	}
	if s.Namespace != "" && id.namespace != "" && !id.anyNamespace && s.Namespace != id.namespace {
		return false
	}
	return true
}

// layerPatches looks for a patch of l that sets the field, last applied first; it edits a
// strategic-merge patch or the value of a JSON 6902 replace/add at exactly the path, and says
// where it is set otherwise.
func (k *kubeEditor) layerPatches(l *kLayer, f Field, ptr drift.Pointer, base any) (bool, error) {
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
				if done, err := k.jsonPatch(l, f, ptr, yf, di, ops, inline); done || err != nil {
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
			pp, rest, _, _, ok := patchPath(base, doc, ptr)
			if !ok || len(rest) > 0 {
				continue
			}
			if inline {
				k.note(f, "set by an inline patch in %s; not rewritten — change the patch there", l.file)
				return true, nil
			}
			return true, k.setIn(docLoc{file: yf.path, doc: di}, pp, f, false)
		}
	}
	return false, nil
}

func (k *kubeEditor) jsonPatch(l *kLayer, f Field, ptr drift.Pointer, yf *yamlFile, di int, ops []any, inline bool) (bool, error) {
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

// mergeKeys are the strategic-merge keys of the list fields a patch names elements of.
var mergeKeys = []string{"name", "containerPort", "mountPath", "devicePath", "ip", "topologyKey", "type"}

func mergeKey(el any) (string, any, bool) {
	m, ok := el.(map[string]any)
	if !ok {
		return "", nil, false
	}
	for _, k := range mergeKeys {
		if v, ok := m[k]; ok {
			return k, v, true
		}
	}
	return "", nil, false
}

// patchPath walks ptr (a path in the rendered object) through the base object and a
// strategic-merge patch together: list elements are matched by merge key, not position. It returns
// the pointer into the patch as far as the patch goes, the rest of ptr, and the base and patch
// values where it stopped; ok is false where a list has no merge key (a patch replaces such a
// list whole).
func patchPath(base, patch any, ptr drift.Pointer) (pp, rest drift.Pointer, b, p any, ok bool) {
	b, p = base, patch
	for i, tok := range ptr {
		switch pv := p.(type) {
		case map[string]any:
			child, has := pv[tok]
			bm, _ := b.(map[string]any)
			if !has {
				return pp, ptr[i:], b, p, true
			}
			pp = append(pp, tok)
			p, b = child, bm[tok]
		case []any:
			bl, _ := b.([]any)
			idx, err := strconv.Atoi(tok)
			if err != nil || idx < 0 || idx >= len(bl) {
				return nil, nil, nil, nil, false
			}
			key, kv, has := mergeKey(bl[idx])
			if !has {
				return nil, nil, nil, nil, false
			}
			found := -1
			for j, e := range pv {
				if m, ok := e.(map[string]any); ok && sameJSON(m[key], kv) {
					found = j
				}
			}
			if found < 0 {
				return pp, ptr[i:], b, p, true
			}
			pp = append(pp, strconv.Itoa(found))
			p, b = pv[found], bl[idx]
		default:
			return nil, nil, nil, nil, false
		}
	}
	return pp, nil, b, p, true
}

// buildPatch builds the strategic-merge fragment that sets rest (below base) to val.
func buildPatch(base any, rest drift.Pointer, val any) (any, bool) {
	if len(rest) == 0 {
		return val, true
	}
	tok := rest[0]
	if bl, ok := base.([]any); ok {
		idx, err := strconv.Atoi(tok)
		if err != nil || idx < 0 || idx >= len(bl) {
			return nil, false
		}
		key, kv, has := mergeKey(bl[idx])
		if !has {
			return nil, false
		}
		inner, ok := buildPatch(bl[idx], rest[1:], val)
		m, isMap := inner.(map[string]any)
		if !ok || !isMap {
			return nil, false
		}
		m[key] = kv
		return []any{m}, true
	}
	bm, _ := base.(map[string]any)
	inner, ok := buildPatch(bm[tok], rest[1:], val)
	if !ok {
		return nil, false
	}
	return map[string]any{tok: inner}, true
}

// overlayPatch adds the field to a strategic-merge patch of the application's kustomization.
func (k *kubeEditor) overlayPatch(src *kubeSource, f Field, ptr drift.Pointer, base any) error {
	l := src.layers[0]
	loc, err := k.overlayPatchFile(l, base)
	if err != nil {
		return err
	}
	yf, err := k.loadYAML(loc.file)
	if err != nil {
		return err
	}
	d := yf.docs[loc.doc]
	doc, err := docJSON(yf.src[d.start:d.end])
	if err != nil {
		return err
	}
	pp, rest, b, p, ok := patchPath(base, doc, ptr)
	if !ok {
		k.note(f, "lies in a list without a merge key, which a strategic-merge patch replaces whole; not rewritten")
		return nil
	}
	if len(rest) == 0 {
		return k.setIn(docLoc{file: loc.file, doc: loc.doc}, pp, f, false)
	}
	var at drift.Pointer
	var val any
	if pl, isList := p.([]any); isList {
		frag, ok := buildPatch(b, rest, f.Value)
		if !ok {
			k.note(f, "cannot be expressed as a strategic-merge patch; not rewritten")
			return nil
		}
		at = append(append(drift.Pointer{}, pp...), strconv.Itoa(len(pl)))
		val = frag.([]any)[0]
	} else {
		bm, _ := b.(map[string]any)
		frag, ok := buildPatch(bm[rest[0]], rest[1:], f.Value)
		if !ok {
			k.note(f, "cannot be expressed as a strategic-merge patch; not rewritten")
			return nil
		}
		at = append(append(drift.Pointer{}, pp...), rest[0])
		val = frag
	}
	g := f
	g.Value, g.HasBefore = val, false
	return k.setIn(docLoc{file: loc.file, doc: loc.doc}, at, g, false)
}

// overlayPatchFile returns the application's strategic-merge patch document for the object,
// creating driftplane-<kind>-<name>.yaml and listing it under `patches:` when there is none.
func (k *kubeEditor) overlayPatchFile(l *kLayer, base any) (docLoc, error) {
	l2, err := k.loadLayer(l.dir)
	if err != nil {
		return docLoc{}, err
	}
	l2.id = l.id
	for _, r := range l2.patches() {
		if r.p.Path == "" || r.json || (r.p.Target != nil && !r.p.Target.matches(l.id)) {
			continue
		}
		p, err := k.t.join(l.dir, r.p.Path)
		if err != nil {
			return docLoc{}, err
		}
		yf, err := k.loadYAML(p)
		if err != nil {
			return docLoc{}, err
		}
		for di, d := range yf.docs {
			if d.root == nil {
				continue
			}
			doc, err := docJSON(yf.src[d.start:d.end])
			if err != nil {
				return docLoc{}, err
			}
			if _, isOps := doc.([]any); isOps {
				continue
			}
			if r.p.Target != nil || l.id.matches(doc) {
				return docLoc{file: p, doc: di}, nil
			}
		}
	}
	av, kind, ns, _ := meta(base)
	name := "driftplane-" + strings.ToLower(kind) + "-" + l.id.name + ".yaml"
	if !safeFileName(name) {
		return docLoc{}, fmt.Errorf("edit: cannot name a patch file for %s %q", kind, l.id.name)
	}
	p := path.Join(l.dir, name)
	if k.t.exists(p) {
		return docLoc{}, fmt.Errorf("edit: %s exists but is not listed as a patch in %s; refusing to overwrite it", p, l.file)
	}
	md := "metadata:\n  name: " + yamlScalar(l.id.name) + "\n"
	if ns != "" {
		md += "  namespace: " + yamlScalar(ns) + "\n"
	}
	content := "# Runtime values accepted into Git as desired state (driftplane reconcile).\n" +
		"apiVersion: " + yamlScalar(av) + "\nkind: " + yamlScalar(kind) + "\n" + md
	if err := k.t.write(p, []byte(content)); err != nil {
		return docLoc{}, err
	}
	kf, err := k.loadYAML(l.file)
	if err != nil {
		return docLoc{}, err
	}
	var doc any
	di := 0
	for i, d := range kf.docs {
		if d.root != nil {
			di = i
			if doc, err = docJSON(kf.src[d.start:d.end]); err != nil {
				return docLoc{}, err
			}
			break
		}
	}
	entry := map[string]any{"path": name}
	at := drift.Pointer{"patches"}
	var val any = []any{entry}
	if m, _ := doc.(map[string]any); m != nil {
		if existing, ok := m["patches"].([]any); ok {
			at, val = drift.Pointer{"patches", strconv.Itoa(len(existing))}, entry
		}
	}
	out, _, err := yamlSet(kf, di, at, val, false)
	if err != nil {
		return docLoc{}, fmt.Errorf("edit: listing %s in %s: %w", name, l.file, err)
	}
	if err := k.t.write(l.file, out); err != nil {
		return docLoc{}, err
	}
	k.t.note("%s: added patch %s to %s; the base it patches is shared and was left unchanged", k.display, p, l.file)
	return docLoc{file: p, doc: 0}, nil
}

var safeName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*\.yaml$`)

func safeFileName(n string) bool { return safeName.MatchString(n) && !strings.Contains(n, "..") }

func yamlScalar(s string) string {
	if plainSafe(s) {
		return s
	}
	b, _ := json.Marshal(s)
	return string(b)
}
