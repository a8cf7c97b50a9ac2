package drift

// OwnedPath is a path of one Kubernetes object that an ownership rule gives to a controller or
// to the runtime: Git does not own it, so Git's desired object must not carry it.
type OwnedPath struct {
	// Path is the rule's path, as written.
	Path string
	// Ownership is OwnerController or OwnerRuntime.
	Ownership string
	// Owner names the controller, or is OwnerRuntime.
	Owner string
	// Rule is the ownership rule that gives the path away.
	Rule OwnershipRule
}

// NotGitOwned lists the paths the unit's ownership rules give away on one Kubernetes object,
// rule by rule, each rule's controller-owned paths before its runtime-owned ones. A path at or
// under which a matching rule keeps a path for Git is left out: a deeper Git path is the more
// specific one, and giving away the parent would give away Git's path too; the same path claimed
// by Git and by another owner is Git's. The evaluation resolves the owner of a changed path the
// same way (ownerOf: the most specific rule path wins, Git wins a tie), so generate never strips
// a field the evaluation would hold to Git.
func NotGitOwned(rules []OwnershipRule, group, kind, namespace, name string, labels map[string]string) []OwnedPath {
	obs := &Observation{Group: group, Kind: kind, Namespace: namespace, Name: name, Labels: labels}
	var matching []OwnershipRule
	for _, r := range rules {
		// Only Kubernetes selectors select an object; OpenTofu selectors (type, address) never do.
		if r.Resource.Type == "" && r.Resource.Address == "" && r.Resource.Kind != "" && ruleMatches(r.Resource, obs) {
			matching = append(matching, r)
		}
	}
	gitKeeps := func(p Pointer) bool {
		for _, r := range matching {
			for _, g := range r.GitOwned {
				if gp := MustPointer(g); len(gp) >= len(p) && gp.HasPrefix(p) {
					return true
				}
			}
		}
		return false
	}
	var out []OwnedPath
	for _, r := range matching {
		var claims []OwnedPath
		for _, c := range r.ControllerOwned {
			claims = append(claims, OwnedPath{Path: c.Path, Ownership: OwnerController, Owner: c.Owner, Rule: r})
		}
		for _, p := range r.RuntimeOwned {
			claims = append(claims, OwnedPath{Path: p, Ownership: OwnerRuntime, Owner: OwnerRuntime, Rule: r})
		}
		for _, c := range claims {
			if !gitKeeps(MustPointer(c.Path)) {
				out = append(out, c)
			}
		}
	}
	return out
}
