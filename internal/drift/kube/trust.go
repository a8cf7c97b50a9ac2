package kube

import (
	"fmt"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// judge decides, per changed path of one object, who owns it and who changed it, from the
// object's managedFields, the decision table's field-manager kinds and identities, the unit's
// appliers and identities, and the audit log (see Compare for the rules).
type judge struct {
	opts                             *compareOptions
	managers                         Managers
	desired                          map[string]any
	group, resource, namespace, name string
}

// verdict is the answer for one path: the owning manager, its kind for drift.Observation's
// FieldOwner (ManagerApplier and ActorController make the core hand the change to the applier or
// a controller; anything else leaves it Git's), and the actor.
type verdict struct {
	owner, kind string
	actor       *drift.Actor
}

func (j *judge) verdict(p drift.Pointer) verdict {
	audit := j.opts.audit
	e, owned := j.managers.ownerEntry(p)
	if !owned {
		// Nobody owns it (a field removed, or an object without managedFields): the last writer
		// of the object is the best the audit log knows.
		return verdict{actor: audit.LastWrite(j.group, j.resource, j.namespace, j.name, "")}
	}
	owner := e.name
	nameKind := j.managerKind(owner)
	_, declared := drift.ValueAt(j.desired, p)
	byName := &drift.Actor{Manager: owner, Kind: actorKindOf(nameKind)}

	if audit == nil {
		if nameKind == drift.ActorController && declared {
			// A name the client chose does not make a field Git declares a controller's.
			byName.Kind = drift.ActorUnknown
			return verdict{owner: owner, actor: byName}
		}
		return verdict{owner: owner, kind: nameKind, actor: byName}
	}

	writes := audit.writes(j.group, j.resource, j.namespace, j.name, owner, e.subres)
	var last, stranger *write
	if n := len(writes); n > 0 {
		last = &writes[n-1]
	}
	for i := len(writes) - 1; i >= 0; i-- {
		if !j.trusted(nameKind, owner, writes[i].actor.Username) {
			stranger = &writes[i]
			break
		}
	}
	actorOf := func(w *write) *drift.Actor {
		if w == nil {
			return byName
		}
		a := w.actor
		return &a
	}
	// Someone other than the manager's identities wrote under its name: theirs is the change.
	impostor := func() verdict {
		a := actorOf(stranger)
		kind := ""
		if a.Kind == drift.ActorHuman {
			kind = drift.ActorHuman
		}
		return verdict{owner: owner, kind: kind, actor: a}
	}
	switch nameKind {
	case drift.ManagerApplier:
		if last != nil && stranger == nil {
			return verdict{owner: owner, kind: drift.ManagerApplier, actor: actorOf(last)}
		}
		if stranger != nil {
			return impostor()
		}
		// The log holds no write under the applier's name: nothing shows the applier wrote it.
		byName.Kind = drift.ActorUnknown
		return verdict{owner: owner, actor: byName}
	case drift.ActorController:
		if stranger != nil {
			return impostor()
		}
		if last != nil || !declared {
			return verdict{owner: owner, kind: drift.ActorController, actor: actorOf(last)}
		}
		byName.Kind = drift.ActorUnknown
		return verdict{owner: owner, actor: byName}
	}
	if last == nil {
		// Attribution only, no trust at stake: a write under the name through any subresource.
		if a := audit.LastWrite(j.group, j.resource, j.namespace, j.name, owner); a != nil {
			return verdict{owner: owner, kind: nameKind, actor: a}
		}
	}
	return verdict{owner: owner, kind: nameKind, actor: actorOf(last)}
}

// managerKind classifies a manager by name: the decision table's lists plus the unit's appliers,
// and a manager the unit maps in controllerIdentities is a controller.
func (j *judge) managerKind(manager string) string {
	k := j.opts.table.ManagerKind(manager, j.opts.appliers...)
	if k == "" {
		for pat := range j.opts.controllerIdentities {
			if globAny(pat, manager) {
				return drift.ActorController
			}
		}
	}
	return k
}

// trusted reports whether username may write under manager's name as what the name claims.
func (j *judge) trusted(nameKind, manager, username string) bool {
	mapped := j.identitiesOf(manager, j.opts.table.FieldManagers.Identities)
	switch nameKind {
	case drift.ManagerApplier:
		return matchesAny(append(mapped, j.opts.applierIdentities...), username)
	case drift.ActorController:
		mapped = append(mapped, j.identitiesOf(manager, j.opts.controllerIdentities)...)
		if len(mapped) > 0 {
			return matchesAny(mapped, username)
		}
		return systemIdentity(username)
	}
	return true
}

func (j *judge) identitiesOf(manager string, m map[string][]string) []string {
	var out []string
	for pat, ids := range m {
		if globAny(pat, manager) {
			out = append(out, ids...)
		}
	}
	return out
}

func matchesAny(patterns []string, username string) bool {
	for _, p := range patterns {
		if globIdentity(p, username) {
			return true
		}
	}
	return false
}

func actorKindOf(managerKind string) string {
	switch managerKind {
	case drift.ActorController, drift.ActorHuman:
		return managerKind
	}
	return drift.ActorUnknown
}

// globAny matches a field-manager name against a pattern whose "*" matches any run of
// characters, as the decision table's lists do.
func globAny(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// globIdentity matches an audit-log username against a pattern whose "*" matches any run of
// characters except ":", so system:serviceaccount:*:argocd-application-controller names one
// service account per namespace and nothing longer.
func globIdentity(pattern, s string) bool {
	ps, ss := strings.Split(pattern, ":"), strings.Split(s, ":")
	if len(ps) != len(ss) {
		return false
	}
	for i := range ps {
		if !globAny(ps[i], ss[i]) {
			return false
		}
	}
	return true
}

// checkDepth refuses values nested deeper than max (maps and lists), before normalizing and
// diffing them costs memory that grows with the square of the depth.
func checkDepth(v any, max int) error {
	if depthExceeds(v, max) {
		return fmt.Errorf("%w: nested deeper than %d levels", drift.ErrJSONTooDeep, max)
	}
	return nil
}

func depthExceeds(v any, left int) bool {
	switch x := v.(type) {
	case map[string]any:
		if left <= 0 {
			return true
		}
		for _, e := range x {
			if depthExceeds(e, left-1) {
				return true
			}
		}
	case []any:
		if left <= 0 {
			return true
		}
		for _, e := range x {
			if depthExceeds(e, left-1) {
				return true
			}
		}
	}
	return false
}
