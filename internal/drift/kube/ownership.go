package kube

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Managers is an object's managedFields, decoded by structured-merge-diff: the ground truth of
// which field manager last set which field.
type Managers []managerEntry

type managerEntry struct {
	name      string
	operation string
	time      string
	subres    string
	set       *fieldpath.Set
}

// ReadManagers decodes metadata.managedFields of a live object. An object without managedFields
// (an old server, or fields stripped) yields none, and nothing is owned.
func ReadManagers(obj map[string]any) (Managers, error) {
	md, _ := obj["metadata"].(map[string]any)
	raw, _ := md["managedFields"].([]any)
	var out Managers
	for i, e := range raw {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("metadata.managedFields[%d]: expected an object", i)
		}
		var entry metav1.ManagedFieldsEntry
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &entry); err != nil {
			return nil, fmt.Errorf("metadata.managedFields[%d]: %w", i, err)
		}
		if entry.FieldsType != "FieldsV1" || entry.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(entry.FieldsV1.Raw)); err != nil {
			return nil, fmt.Errorf("metadata.managedFields[%d] (%s): %w", i, entry.Manager, err)
		}
		t := ""
		if entry.Time != nil {
			t = entry.Time.UTC().Format("2006-01-02T15:04:05Z")
		}
		out = append(out, managerEntry{name: entry.Manager, operation: string(entry.Operation), time: t, subres: entry.Subresource, set: set})
	}
	return out, nil
}

// Owner returns the manager that owns p (a normalized path, keyed list elements as
// "key=value"), preferring the most recent writer when several share it, and whether any does.
func (ms Managers) Owner(p drift.Pointer) (string, bool) {
	e, ok := ms.ownerEntry(p)
	return e.name, ok
}

// ownerEntry is Owner's managedFields entry: its manager, and the subresource it wrote through.
func (ms Managers) ownerEntry(p drift.Pointer) (managerEntry, bool) {
	var best managerEntry
	bestDepth, found := -1, false
	for _, m := range ms {
		depth := ownedDepth(m.set, p)
		if depth < 0 {
			continue
		}
		// A manager that owns the field itself beats one that owns an ancestor whole: "f:labels":{}
		// (the map's existence, as an applier records it) must not out-rank the manager that wrote
		// labels.app, and managedFields times tie within a second. Among equals, the latest wins.
		if !found || depth > bestDepth || (depth == bestDepth && m.time > best.time) {
			best, bestDepth, found = m, depth, true
		}
	}
	return best, found
}

// ownedDepth is how deep along p the manager's set reaches when it owns p (len(p) when it owns
// the field itself, less when it owns an ancestor whole), or -1 when it does not own p.
func ownedDepth(s *fieldpath.Set, p drift.Pointer) int {
	if len(p) == 0 {
		return 0
	}
	tok := p[0]
	depth := -1
	s.Children.Iterate(func(pe fieldpath.PathElement) {
		if !elementMatches(pe, tok) {
			return
		}
		if child, ok := s.Children.Get(pe); ok {
			if d := ownedDepth(child, p[1:]); d >= 0 && d+1 > depth {
				depth = d + 1
			}
		}
	})
	if depth >= 0 {
		return depth
	}
	s.Members.Iterate(func(pe fieldpath.PathElement) {
		if depth >= 0 || !elementMatches(pe, tok) {
			return
		}
		if _, hasChildren := s.Children.Get(pe); len(p) == 1 || !hasChildren {
			depth = 1
		}
	})
	return depth
}

// Owned reports whether any manager owns p.
func (ms Managers) Owned(p drift.Pointer) bool {
	for _, m := range ms {
		if setOwns(m.set, p) {
			return true
		}
	}
	return false
}

// setOwns walks the manager's field set along p. Reaching the end means the manager owns p. A
// member on the way with no child set is a leaf or an atomic value owned whole; a member that
// also has children (a list element's "." entry) owns only its existence, so the walk goes on.
func setOwns(s *fieldpath.Set, p drift.Pointer) bool {
	if len(p) == 0 {
		return true
	}
	tok := p[0]
	owned := false
	s.Members.Iterate(func(pe fieldpath.PathElement) {
		if owned || !elementMatches(pe, tok) {
			return
		}
		if _, hasChildren := s.Children.Get(pe); len(p) == 1 || !hasChildren {
			owned = true
		}
	})
	if owned {
		return true
	}
	s.Children.Iterate(func(pe fieldpath.PathElement) {
		if owned || !elementMatches(pe, tok) {
			return
		}
		if child, ok := s.Children.Get(pe); ok && setOwns(child, p[1:]) {
			owned = true
		}
	})
	return owned
}

// elementMatches compares a structured-merge-diff path element with one normalized token:
// f:name with "name", k:{"containerPort":80,"protocol":"TCP"} with "containerPort=80" (our key
// is the strategic merge key, a subset of the server-side apply key), i:3 with "3".
func elementMatches(pe fieldpath.PathElement, tok string) bool {
	switch {
	case pe.FieldName != nil:
		return *pe.FieldName == tok
	case pe.Key != nil:
		k, v, ok := strings.Cut(tok, keySep)
		if !ok {
			return false
		}
		for _, f := range *pe.Key {
			if f.Name == k && valueString(f.Value) == v {
				return true
			}
		}
		return false
	case pe.Index != nil:
		return strconv.Itoa(*pe.Index) == tok
	case pe.Value != nil:
		return valueString(*pe.Value) == tok
	}
	return false
}

func valueString(v value.Value) string {
	switch {
	case v.IsString():
		return v.AsString()
	case v.IsInt():
		return strconv.FormatInt(v.AsInt(), 10)
	case v.IsFloat():
		return strconv.FormatFloat(v.AsFloat(), 'f', -1, 64)
	case v.IsBool():
		return strconv.FormatBool(v.AsBool())
	}
	return value.ToString(v)
}

// pruner keeps of a normalized live object only what Git declares, plus what Git does not
// declare but some field manager set to something other than its server default. Fields no one
// set, or set to their default (an Update attributes defaulted fields to the writer), are server
// defaults, not drift. An object without managedFields keeps only what Git declares (and extra
// elements of positional lists).
type pruner struct {
	ms Managers
}

func (pr pruner) keepLiveOnly(p drift.Pointer, v any) bool {
	return !isServerDefault(p, v) && pr.ms.Owned(p)
}

// Prune applies the pruner to live against desired.
func Prune(live, desired map[string]any, ms Managers) map[string]any {
	return pruner{ms: ms}.pruneTo(live, desired, drift.Pointer{})
}

func (pr pruner) pruneTo(live, desired map[string]any, at drift.Pointer) map[string]any {
	out := make(map[string]any, len(live))
	for k, lv := range live {
		p := at.Child(k)
		dv, inDesired := desired[k]
		if !inDesired {
			if pr.keepLiveOnly(p, lv) {
				out[k] = lv
			}
			continue
		}
		switch x := lv.(type) {
		case map[string]any:
			if dm, ok := dv.(map[string]any); ok {
				out[k] = pr.pruneTo(x, dm, p)
				continue
			}
		case []any:
			if dl, ok := dv.([]any); ok {
				out[k] = pr.pruneList(x, dl, p)
				continue
			}
		}
		out[k] = lv
	}
	return out
}

func (pr pruner) pruneList(live, desired []any, at drift.Pointer) []any {
	out := make([]any, 0, len(live))
	for i, lv := range live {
		p := at.Child(strconv.Itoa(i))
		if i >= len(desired) {
			// Extra elements of a positional list are drift only when someone owns them.
			if len(pr.ms) == 0 || pr.keepLiveOnly(p, lv) {
				out = append(out, lv)
			}
			continue
		}
		lm, lok := lv.(map[string]any)
		dm, dok := desired[i].(map[string]any)
		if lok && dok {
			out = append(out, pr.pruneTo(lm, dm, p))
			continue
		}
		out = append(out, lv)
	}
	return out
}
