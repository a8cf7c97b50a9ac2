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
	// rendered is the object as the original tree renders it (nil when it could not be rendered):
	// a finding's list indices count elements of this, the live object's source.
	rendered  any
	renderErr error
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
	k.visited = append(k.visited, dir)
	if len(l.k.HelmCharts)+len(l.k.HelmChartInflationGenerator) > 0 || len(l.k.Generators)+len(l.k.Transformers) > 0 {
		k.anyHelm = true
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
	for _, c := range l.k.Components {
		if isRemote(c) {
			k.anyRemote = true
			continue
		}
		p, err := k.t.join(dir, c)
		if err != nil {
			return nil, err
		}
		k.visited = append(k.visited, p)
	}
	var found []*kubeSource
	var remote []string
	for _, res := range append(append([]string{}, l.k.Resources...), l.k.Bases...) {
		if isRemote(res) {
			remote = append(remote, res)
			k.anyRemote = true
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

func (k *kubeEditor) baseJSON(src *kubeSource) (any, error) {
	yf, err := k.loadYAML(src.loc.file)
	if err != nil {
		return nil, err
	}
	d := yf.docs[src.loc.doc]
	return docJSON(yf.src[d.start:d.end])
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
	s, digest, _ = strings.Cut(s, "@")
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
