package kube

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Manifest is one desired object and where it came from.
type Manifest struct {
	Object *unstructured.Unstructured
	// Source is "file.yaml#2" (document 2), for messages.
	Source string
}

// LoadManifests renders a path into objects: a kustomization directory through kustomize (in
// process), any other directory as every .yaml/.yml/.json file below it in lexical order, or a
// single file. Files may hold many YAML documents or a v1 List. Any bad document is an error
// naming its file and document, and nothing is returned: a partial render is not the desired
// state. Neither is an empty one: a path that renders no object at all (no manifest files, or
// only comments and empty documents) is an error naming the path, because "Git declares nothing"
// would make every live object's drift invisible.
func LoadManifests(path string) ([]Manifest, error) {
	ms, err := loadManifests(path)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("manifests path %s holds no Kubernetes objects (no manifest files, or only comments and empty documents): an empty render is not a desired state", path)
	}
	return ms, nil
}

func loadManifests(path string) ([]Manifest, error) {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("manifests path %s does not exist", path)
		}
		return nil, fmt.Errorf("manifests path %s: %w", path, err)
	}
	if info.IsDir() {
		for _, k := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
			if _, err := os.Stat(filepath.Join(path, k)); err == nil {
				return kustomize(path)
			}
		}
		var files []string
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != path && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .git, .drift: not manifests
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".yaml", ".yml", ".json":
				if !d.IsDir() {
					files = append(files, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("manifests path %s: %w", path, err)
		}
		sort.Strings(files)
		var out []Manifest
		for _, f := range files {
			ms, err := loadFile(f)
			if err != nil {
				return nil, err
			}
			out = append(out, ms...)
		}
		return out, checkDuplicates(out)
	}
	ms, err := loadFile(path)
	if err != nil {
		return nil, err
	}
	return ms, checkDuplicates(ms)
}

func loadFile(path string) ([]Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return DecodeManifests(path, data)
}

// DecodeManifests decodes YAML or JSON documents. name is used in messages. Documents nested
// deeper than drift.MaxJSONDepth are errors: normalizing and diffing them would cost memory that
// grows with the square of the depth.
func DecodeManifests(name string, data []byte) ([]Manifest, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		// JSON: refuse deep nesting before decoding it at all.
		if err := drift.CheckJSONDepth(data, 0); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", name, err)
		}
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []Manifest
	for i := 1; ; i++ {
		var raw map[string]any
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		where := fmt.Sprintf("%s#%d", name, i)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: invalid YAML/JSON: %w", where, err)
		}
		if len(raw) == 0 {
			continue
		}
		if err := checkDepth(raw, drift.MaxJSONDepth); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", where, err)
		}
		u := &unstructured.Unstructured{Object: raw}
		if u.IsList() {
			items, ok := raw["items"].([]any)
			if !ok {
				return nil, fmt.Errorf("manifest %s: field items: expected a list", where)
			}
			for j, it := range items {
				m, ok := it.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("manifest %s: items[%d]: expected an object", where, j)
				}
				item := &unstructured.Unstructured{Object: m}
				if err := checkObject(item); err != nil {
					return nil, fmt.Errorf("manifest %s: items[%d]: %w", where, j, err)
				}
				out = append(out, Manifest{Object: item, Source: fmt.Sprintf("%s items[%d]", where, j)})
			}
			continue
		}
		if err := checkObject(u); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", where, err)
		}
		out = append(out, Manifest{Object: u, Source: where})
	}
	return out, nil
}

func checkObject(u *unstructured.Unstructured) error {
	switch {
	case u.GetAPIVersion() == "":
		return fmt.Errorf("field apiVersion is required")
	case u.GetKind() == "":
		return fmt.Errorf("field kind is required")
	case u.GetName() == "" && u.GetGenerateName() == "":
		return fmt.Errorf("field metadata.name is required")
	case u.GetName() == "":
		return fmt.Errorf("metadata.generateName objects have no stable identity to compare; give it a name")
	}
	if _, ok := u.Object["metadata"].(map[string]any); !ok {
		return fmt.Errorf("field metadata: expected an object")
	}
	return nil
}

func checkDuplicates(ms []Manifest) error {
	seen := map[string]string{}
	for _, m := range ms {
		gvk := m.Object.GroupVersionKind()
		k := gvk.Group + "/" + gvk.Kind + "/" + m.Object.GetNamespace() + "/" + m.Object.GetName()
		if prev, ok := seen[k]; ok {
			return fmt.Errorf("manifest %s declares %s %q again (first in %s)", m.Source, gvk.Kind, m.Object.GetName(), prev)
		}
		seen[k] = m.Source
	}
	return nil
}

func kustomize(dir string) ([]Manifest, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomization %s: %w", dir, err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomization %s: %w", dir, err)
	}
	ms, err := DecodeManifests(filepath.Join(dir, "kustomization.yaml")+" (rendered)", y)
	if err != nil {
		return nil, err
	}
	return ms, checkDuplicates(ms)
}
