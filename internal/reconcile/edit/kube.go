package edit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Kubernetes writes each field of one Kubernetes object into the manifests under req.Root/req.Dir:
// plain YAML files (any number of documents each), or a kustomization. In a kustomization the
// file that makes the field what it is gets the edit — the outermost patch, `images` or
// `replicas` entry that sets it, else the resource file itself when it belongs to this
// kustomization. A base shared through another kustomization is never edited for one
// application: the field is added to a strategic-merge patch in req.Dir (an existing one for the
// object, else a new driftplane-<kind>-<name>.yaml listed under `patches:`). A field that comes
// from a generator (configMapGenerator, secretGenerator), a Helm chart, a JSON 6902 patch or an
// inline patch is not guessed at: a Note says where it comes from.
func Kubernetes(req Request) (Result, error) {
	t, err := newTree(req.Root)
	if err != nil {
		return Result{}, err
	}
	dir, err := t.clean(req.Dir)
	if err != nil {
		return Result{}, err
	}
	tg := req.Target
	if tg.Kind == "" || tg.Name == "" {
		return Result{}, errors.New("edit: Kubernetes target needs at least a kind and a name")
	}
	k := &kubeEditor{t: t, target: tg, display: kubeDisplay(tg)}
	// Values come from the core's normalized objects, whose lists are keyed maps
	// ({"name=app": {...}}); a manifest holds them as lists.
	fields := make([]Field, len(req.Fields))
	for i, f := range req.Fields {
		f.Value, f.Before = drift.Unkey(f.Value), drift.Unkey(f.Before)
		fields[i] = f
	}
	if err := k.run(dir, fields); err != nil {
		return Result{}, err
	}
	return t.result(), nil
}

func kubeDisplay(tg Target) string {
	s := tg.Kind + " "
	if tg.Namespace != "" {
		s += tg.Namespace + "/"
	}
	return s + tg.Name
}

type kubeEditor struct {
	t       *tree
	target  Target
	display string
	// visited are the kustomization directories locate read; anyRemote is set when one of them
	// names a remote resource (then nothing is rendered: kustomize would fetch it).
	visited   []string
	anyRemote bool
	anyHelm   bool
	appDir    string
	// unreadable are manifest files that did not parse as YAML.
	unreadable []string
}

// objectID is an object's identity as one layer of manifests sees it.
type objectID struct {
	apiVersion, kind, namespace, name string
	anyNamespace                      bool // an outer kustomization sets the namespace
}

func (k *kubeEditor) note(f Field, format string, args ...any) {
	k.t.note("%s %s: "+format, append([]any{k.display, f.Path}, args...)...)
}

func (k *kubeEditor) run(dir string, fields []Field) error {
	if k.t.exists(path.Join(dir, "Chart.yaml")) {
		for _, f := range fields {
			if f.Sensitive {
				k.t.note("%s", sensitiveNote(k.display+" "+f.Path, "rendered by the Helm chart in "+dir))
				continue
			}
			k.note(f, "rendered by the Helm chart in %s; the value comes from its templates and values, which are not rewritten — set it in the values the application passes", dir)
		}
		return nil
	}
	id := objectID{apiVersion: k.target.APIVersion, kind: k.target.Kind, namespace: k.target.Namespace, name: k.target.Name}
	if kf := kustomizationFile(k.t, dir); kf != "" {
		return k.kustomize(dir, id, fields)
	}
	files, err := manifestFiles(k.t, dir)
	if err != nil {
		return err
	}
	loc, err := k.findIn(files, id)
	if err != nil {
		return err
	}
	if loc == nil {
		if len(k.unreadable) > 0 {
			return fmt.Errorf("edit: %s under %s (%s did not parse as YAML): %w", k.display, dir, strings.Join(k.unreadable, ", "), ErrNotFound)
		}
		return fmt.Errorf("edit: %s under %s: %w", k.display, dir, ErrNotFound)
	}
	for _, f := range fields {
		if err := k.plainField(*loc, f); err != nil {
			return err
		}
	}
	return nil
}

// docLoc is one object's document in a file.
type docLoc struct {
	file string
	doc  int
}

// manifestFiles lists YAML files under dir, recursively, skipping hidden directories (.git,
// .drift) where no manifest the application applies lives.
func manifestFiles(t *tree, dir string) ([]string, error) {
	if _, err := t.clean(dir); err != nil {
		return nil, err
	}
	var out []string
	base := filepath.Join(t.root, filepath.FromSlash(dir))
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != base && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.Type()&fs.ModeSymlink != 0 && isManifestName(d.Name()) {
			rel, _ := filepath.Rel(t.root, p)
			return fmt.Errorf("edit: %s is a symlink; refusing to read manifests through it", filepath.ToSlash(rel))
		}
		if d.Type().IsRegular() && isManifestName(d.Name()) {
			rel, _ := filepath.Rel(t.root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("edit: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

func isManifestName(n string) bool {
	return strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")
}

func (k *kubeEditor) loadYAML(p string) (*yamlFile, error) {
	b, err := k.t.read(p)
	if err != nil {
		return nil, err
	}
	return parseYAMLFile(p, b)
}

// meta reads the identity fields of a decoded document.
func meta(v any) (apiVersion, kind, namespace, name string) {
	m, _ := v.(map[string]any)
	apiVersion, _ = m["apiVersion"].(string)
	kind, _ = m["kind"].(string)
	md, _ := m["metadata"].(map[string]any)
	namespace, _ = md["namespace"].(string)
	name, _ = md["name"].(string)
	return
}

func (id objectID) matches(v any) bool {
	av, kind, ns, name := meta(v)
	if kind != id.kind || name != id.name {
		return false
	}
	if id.apiVersion != "" && av != "" && av != id.apiVersion {
		return false
	}
	if !id.anyNamespace && ns != "" && id.namespace != "" && ns != id.namespace {
		return false
	}
	return true
}

// findIn finds the one document among files that defines id; two are an error, not a guess.
func (k *kubeEditor) findIn(files []string, id objectID) (*docLoc, error) {
	var found []docLoc
	for _, p := range files {
		f, err := k.loadYAML(p)
		if err != nil {
			// A file that is not YAML (a Helm template, a broken draft) cannot define the object
			// as applied; it is named if the object is not found anywhere else.
			k.unreadable = append(k.unreadable, p)
			continue
		}
		for i, d := range f.docs {
			if d.root == nil {
				continue
			}
			v, err := docJSON(f.src[d.start:d.end])
			if err != nil {
				k.unreadable = append(k.unreadable, p)
				continue
			}
			if id.matches(v) {
				found = append(found, docLoc{file: p, doc: i})
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return &found[0], nil
	}
	var where []string
	for _, l := range found {
		where = append(where, fmt.Sprintf("%s#%d", l.file, l.doc))
	}
	return nil, fmt.Errorf("edit: %s is defined more than once (%s); refusing to guess", k.display, strings.Join(where, ", "))
}

// secretPath reports fields whose value is secret whatever the finding says: a Secret's data.
func (k *kubeEditor) secretPath(ptr drift.Pointer) bool {
	return k.target.Kind == "Secret" && len(ptr) > 0 && (ptr[0] == "data" || ptr[0] == "stringData")
}

func (k *kubeEditor) plainField(loc docLoc, f Field) error {
	ptr, err := parsePath(f.Path)
	if err != nil {
		return fmt.Errorf("edit: field %q: %w", f.Path, err)
	}
	if f.Sensitive || k.secretPath(ptr) {
		k.t.note("%s", sensitiveNote(k.display+" "+f.Path, "the Secret's source, e.g. the sealed or external secret or the vault it syncs from"))
		return nil
	}
	if ptr[0] == "status" || (ptr[0] == "metadata" && len(ptr) > 1 && (ptr[1] == "managedFields" || ptr[1] == "resourceVersion" || ptr[1] == "uid" || ptr[1] == "generation" || ptr[1] == "creationTimestamp")) {
		k.note(f, "is written by the cluster, not declared; nothing to write into Git")
		return nil
	}
	return k.setIn(loc, ptr, f, f.Value == nil)
}

// setIn writes one field into one document, with the Before check and the layout notes.
// setIn writes one field into one document. del removes the key; a strategic-merge patch
// instead keeps a null, which is how such a patch deletes a field of its base.
func (k *kubeEditor) setIn(loc docLoc, ptr drift.Pointer, f Field, del bool) error {
	yf, err := k.loadYAML(loc.file)
	if err != nil {
		return err
	}
	d := yf.docs[loc.doc]
	cur, err := docJSON(yf.src[d.start:d.end])
	if err != nil {
		return err
	}
	ptr, ok := resolveKeyed(cur, ptr)
	if !ok {
		k.note(f, "%s: the list element the path names by its key is not exactly one element there; not rewritten", loc.file)
		return nil
	}
	if f.HasBefore {
		if got, ok := lookupJSON(cur, ptr); !ok && f.Before != nil || ok && !sameJSON(got, f.Before) {
			k.note(f, "%s does not hold the value the finding compared against; not rewritten", loc.file)
			return nil
		}
	}
	out, reencoded, err := yamlSet(yf, loc.doc, ptr, f.Value, del)
	if err != nil {
		if errors.Is(err, errUnsafe) {
			k.note(f, "cannot be written into %s safely (%v); rewrite it by hand", loc.file, err)
			return nil
		}
		return err
	}
	if reencoded {
		k.note(f, "%s: the document was re-serialized to write a structured value; comments are kept, layout may change", loc.file)
	}
	return k.t.write(loc.file, out)
}

func lookupJSON(v any, ptr drift.Pointer) (any, bool) {
	for _, tok := range ptr {
		switch x := v.(type) {
		case map[string]any:
			e, ok := x[tok]
			if !ok {
				return nil, false
			}
			v = e
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func kustomizationFile(t *tree, dir string) string {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if p := path.Join(dir, n); t.exists(p) {
			return p
		}
	}
	return ""
}

// decodeYAMLInto decodes YAML into a JSON-tagged struct.
func decodeYAMLInto(b []byte, v any) error {
	j, err := sigsyaml.YAMLToJSON(b)
	if err != nil {
		return err
	}
	return json.Unmarshal(j, v)
}

func isRemote(ref string) bool {
	return strings.Contains(ref, "://") || strings.HasPrefix(ref, "git@") || strings.Contains(ref, "?ref=") ||
		strings.HasPrefix(ref, "github.com/") || strings.HasPrefix(ref, "gitlab.com/")
}

func isDir(t *tree, rel string) bool {
	c, err := t.clean(rel)
	if err != nil {
		return false
	}
	st, err := os.Lstat(filepath.Join(t.root, filepath.FromSlash(c)))
	return err == nil && st.IsDir()
}
