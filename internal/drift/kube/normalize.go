package kube

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Path tokens for elements of lists keyed by a merge key read "key=value", e.g.
// /spec/template/spec/containers/name=app/image, so a finding names the container, not its index,
// and reordering a list is not drift.
const keySep = "="

// serverMetadata are written by the API server, never by Git.
var serverMetadata = []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
	"deletionTimestamp", "deletionGracePeriodSeconds"}

// serverAnnotations are written by clients and controllers as bookkeeping, not configuration.
var serverAnnotations = []string{LastAppliedAnnotation, "deployment.kubernetes.io/revision"}

// quantityMaps hold resource.Quantity values ("500m" equals "0.5").
var quantityMaps = map[string]bool{"limits": true, "requests": true, "capacity": true, "allocatable": true, "hard": true, "used": true}

// quantityFields are single quantities.
var quantityFields = map[string]bool{"sizeLimit": true, "storage": true}

// intOrStringFields accept 8080 and "8080" alike.
var intOrStringFields = map[string]bool{"targetPort": true, "port": true, "maxSurge": true, "maxUnavailable": true, "minAvailable": true}

// Normalized is an object reduced to what Git can own, plus what normalization learned.
type Normalized struct {
	Object map[string]any
	// SensitivePaths are Secret data keys, whose values are digests.
	SensitivePaths []drift.Pointer
}

// Normalize returns a normalized deep copy of obj: status and server-written metadata dropped,
// lists keyed by their merge keys, quantities and int-or-string values canonical, and Secret
// data replaced by digests (stringData folded into data first, as the API server does).
func Normalize(obj map[string]any) Normalized { return NormalizeWith(nil, obj) }

// NormalizeWith is Normalize with Secret data digested by dg (the installation's key).
func NormalizeWith(dg *drift.Digester, obj map[string]any) Normalized {
	o := runtime.DeepCopyJSON(obj)
	delete(o, "status")
	if md, ok := o["metadata"].(map[string]any); ok {
		for _, k := range serverMetadata {
			delete(md, k)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			for _, k := range serverAnnotations {
				delete(ann, k)
			}
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	gv, _ := schema.ParseGroupVersion(str(o["apiVersion"]))
	gvk := gv.WithKind(str(o["kind"]))
	var sensitive []drift.Pointer
	if gvk.Group == "" && gvk.Kind == "Secret" {
		sensitive = hashSecret(dg, o)
	}
	var meta strategicpatch.LookupPatchMeta
	if typed, err := scheme.Scheme.New(gvk); err == nil {
		if pm, err := strategicpatch.NewPatchMetaFromStruct(typed); err == nil {
			meta = pm
		}
	}
	return Normalized{Object: normalizeMap(o, meta), SensitivePaths: sensitive}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func hashSecret(dg *drift.Digester, o map[string]any) []drift.Pointer {
	data, _ := o["data"].(map[string]any)
	if sd, ok := o["stringData"].(map[string]any); ok {
		if data == nil {
			data = map[string]any{}
		}
		for k, v := range sd {
			data[k] = base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(v)))
		}
		delete(o, "stringData")
	}
	if data == nil {
		return nil
	}
	var paths []drift.Pointer
	for k, v := range data {
		if v == nil {
			v = "" // an empty secret value reads back as null
		}
		// The stored value is base64; digest the decoded bytes so encodings of the same secret agree.
		raw, err := base64.StdEncoding.DecodeString(fmt.Sprint(v))
		if err != nil {
			raw = []byte(fmt.Sprint(v))
		}
		data[k] = dg.Digest(string(raw))
		paths = append(paths, drift.Pointer{"data", k})
	}
	o["data"] = data
	return paths
}

func normalizeMap(m map[string]any, meta strategicpatch.LookupPatchMeta) map[string]any {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			var sub strategicpatch.LookupPatchMeta
			if meta != nil {
				if s, _, err := meta.LookupPatchMetadataForStruct(k); err == nil {
					sub = s
				}
			}
			if quantityMaps[k] {
				for qk, qv := range x {
					x[qk] = canonicalQuantity(qv)
				}
				continue
			}
			m[k] = normalizeMap(x, sub)
		case []any:
			m[k] = normalizeList(k, x, meta)
		default:
			if quantityFields[k] {
				m[k] = canonicalQuantity(v)
			} else if intOrStringFields[k] {
				m[k] = canonicalIntOrString(v)
			}
		}
	}
	return m
}

func normalizeList(field string, l []any, meta strategicpatch.LookupPatchMeta) any {
	var sub strategicpatch.LookupPatchMeta
	mergeKey := ""
	if meta != nil {
		if s, pm, err := meta.LookupPatchMetadataForSlice(field); err == nil {
			sub, mergeKey = s, pm.GetPatchMergeKey()
		}
	}
	if mergeKey == "" && meta == nil {
		// No schema (a custom resource): lists of objects with distinct names are keyed by name,
		// the convention Kubernetes APIs follow.
		mergeKey = "name"
	}
	if mergeKey != "" {
		if keyed, ok := keyList(l, mergeKey, sub); ok {
			return keyed
		}
	}
	for i, e := range l {
		switch x := e.(type) {
		case map[string]any:
			l[i] = normalizeMap(x, sub)
		case []any:
			l[i] = normalizeList(field, x, nil)
		}
	}
	return l
}

// keyList turns a list of objects into a map keyed "mergeKey=value" when every element has a
// distinct scalar merge key; otherwise the list stays positional.
func keyList(l []any, mergeKey string, sub strategicpatch.LookupPatchMeta) (map[string]any, bool) {
	if len(l) == 0 {
		return nil, false
	}
	out := make(map[string]any, len(l))
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		kv, ok := scalarString(m[mergeKey])
		if !ok {
			return nil, false
		}
		tok := mergeKey + keySep + kv
		if _, dup := out[tok]; dup {
			return nil, false
		}
		out[tok] = normalizeMap(m, sub)
	}
	return out, true
}

// ScalarString is a merge key's value as path tokens write it ("name=app", "containerPort=8080"),
// false for a value that is not a scalar.
func ScalarString(v any) (string, bool) { return scalarString(v) }

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func canonicalQuantity(v any) any {
	s, ok := scalarString(v)
	if !ok {
		return v
	}
	q, err := resource.ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return v
	}
	// The exact decimal value, so 500m, 0.5 and 1Gi, 1073741824 each agree whatever suffix was used.
	d := q.AsDec().String()
	if strings.Contains(d, ".") {
		d = strings.TrimRight(strings.TrimRight(d, "0"), ".")
	}
	return d
}

func canonicalIntOrString(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return v
}
