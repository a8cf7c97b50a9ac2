package reconcile

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/forgeapi/markdown"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/edit"
)

// build writes g's desired-state changes into the clone's work tree and returns the notes for the
// body and the state commands. Edits of each finding land before the next is computed.
func (r *runner) build(ctx context.Context, co *checkout, u Unit, g *group) (notes, commands []string, err error) {
	dir := u.Dir
	if dir == "" {
		dir = "."
	}
	kube := u.Policy.Spec.Kind == drift.UnitKubernetes
	var imports []edit.ImportTarget
	for i := range g.findings {
		f := &g.findings[i]
		switch f.RecommendedAction {
		case drift.ActionGitUpdatePR:
			req, note := request(co.dir, dir, f, kube)
			if note != "" {
				notes = append(notes, note)
				continue
			}
			var res edit.Result
			if kube {
				res, err = edit.Kubernetes(req)
			} else {
				res, err = edit.HCL(req)
			}
			if err != nil {
				notes = append(notes, fmt.Sprintf("%s: not rewritten: %v", f.ResourceRef, err))
				continue
			}
			notes = append(notes, res.Notes...)
			if err := co.write(res.Edits); err != nil {
				return nil, nil, err
			}
		case drift.ActionImport:
			id := importID(u, f.ResourceRef)
			if kube || id == "" {
				notes = append(notes, fmt.Sprintf("%s: exists but is not in state, and its import ID is not known from the evaluation; import it by hand with an import block", f.ResourceRef))
				continue
			}
			imports = append(imports, edit.ImportTarget{Address: f.ResourceRef, ID: id})
		case drift.ActionStateRefresh:
			if kube {
				notes = append(notes, fmt.Sprintf("%s: the recorded state is behind what runs; sync the application (no state to refresh on this plane)", f.ResourceRef))
				continue
			}
			c := refreshCommands(dir, f.ResourceRef)
			if c == nil {
				notes = append(notes, fmt.Sprintf("%s: the address holds control characters; refresh its state by hand", markdown.OneLine(f.ResourceRef)))
			}
			commands = append(commands, c...)
		case drift.ActionStateMove:
			commands = append(commands, moveCommands(f.ResourceRef)...)
		}
	}
	if len(imports) > 0 {
		if r.o.Tofu == "" {
			notes = append(notes, "resources to import, but no tofu binary to generate their configuration")
		} else {
			res, err := edit.Import(ctx, r.o.Tofu, co.dir, dir, imports)
			if err != nil {
				notes = append(notes, fmt.Sprintf("import blocks not written: %v", err))
			} else {
				notes = append(notes, res.Notes...)
				if err := co.write(res.Edits); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return notes, commands, nil
}

// request is the edit request of a GIT_UPDATE_PR finding: its changed fields with the values that
// run. A sensitive field goes with its path only (the editor explains what to rotate), never its
// value or digest. A note instead when the finding carries no values (read back from JSON, not
// evaluated in this process).
func request(root, dir string, f *drift.Finding, kube bool) (edit.Request, string) {
	req := edit.Request{Root: root, Dir: dir}
	if kube {
		t, ok := kubeTarget(f.ResourceRef)
		if !ok {
			return req, fmt.Sprintf("%s: not a group/version/kind/namespace/name reference; not rewritten", f.ResourceRef)
		}
		req.Target = t
	} else {
		req.Target = edit.Target{Address: f.ResourceRef}
	}
	sensitive := map[string]bool{}
	for _, p := range f.SensitiveFields {
		sensitive[p] = true
	}
	for _, c := range f.Changes {
		if c.Noise {
			continue
		}
		p := c.Path.String()
		fd := edit.Field{Path: p}
		_, sb := c.Before.(drift.Sensitive)
		_, sa := c.After.(drift.Sensitive)
		if sensitive[p] || sb || sa || underSensitive(p, f.SensitiveFields) {
			fd.Sensitive = true
		} else {
			fd.Value, fd.Before, fd.HasBefore = c.After, c.Before, true
		}
		req.Fields = append(req.Fields, fd)
	}
	if len(req.Fields) == 0 {
		return req, fmt.Sprintf("%s: the evaluation carried no changed values to write (run driftplane reconcile, which evaluates, rather than reading a report)", f.ResourceRef)
	}
	return req, ""
}

// underSensitive says whether p is at or below one of the sensitive paths.
func underSensitive(p string, paths []string) bool {
	for _, s := range paths {
		if p == s || strings.HasPrefix(p, strings.TrimSuffix(s, "/")+"/") {
			return true
		}
	}
	return false
}

// kubeTarget reads group/version/kind/namespace/name ("" group for the core API).
func kubeTarget(ref string) (edit.Target, bool) {
	parts := strings.Split(ref, "/")
	if len(parts) != 5 || parts[1] == "" || parts[2] == "" || parts[4] == "" {
		return edit.Target{}, false
	}
	api := parts[1]
	if parts[0] != "" {
		api = parts[0] + "/" + parts[1]
	}
	return edit.Target{APIVersion: api, Kind: parts[2], Namespace: parts[3], Name: parts[4]}, true
}

// importID is the provider's import ID of ref as the evaluation observed it (its "id"
// attribute), "" when unknown.
func importID(u Unit, ref string) string {
	for _, o := range u.Result.Observations {
		if o.Ref != ref {
			continue
		}
		if m, ok := o.Actual.(map[string]any); ok {
			if id, ok := m["id"].(string); ok {
				return id
			}
		}
	}
	return ""
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// refreshCommands are the exact commands that bring one resource's recorded state to what runs:
// review the refresh, then apply it. driftplane never runs them (seed anti-pattern 25.6).
func refreshCommands(dir, addr string) []string {
	if markdown.OneLine(addr) != addr || markdown.OneLine(dir) != dir {
		return nil // a control character in a command a person pastes is never safe
	}
	chdir := ""
	if dir != "." && dir != "" {
		chdir = " -chdir=" + shellQuote(dir)
	}
	target := shellQuote("-target=" + addr)
	return []string{
		fmt.Sprintf("tofu%s plan -refresh-only %s", chdir, target),
		fmt.Sprintf("tofu%s apply -refresh-only %s", chdir, target),
	}
}

// moveCommands is the moved block a STATE_MOVE needs; the address the state records it under is
// not in the finding, so it is left for the person to fill in, and said so.
func moveCommands(addr string) []string {
	if markdown.OneLine(addr) != addr {
		return nil
	}
	return []string{
		"# " + markdown.OneLine(addr) + " is recorded under another address; add to the configuration (the old address is in `tofu state list`):",
		"moved {",
		"  from = OLD_ADDRESS",
		"  to   = " + markdown.OneLine(addr),
		"}",
	}
}

// changedPaths are the files a unified diff touches.
func changedPaths(diff string) []string {
	var out []string
	for _, line := range strings.Split(diff, "\n") {
		if p, ok := strings.CutPrefix(line, "+++ b/"); ok {
			out = append(out, p)
		}
	}
	return sortedUnique(out)
}

// codeownersFiles are where forges look for CODEOWNERS, in their order.
var codeownersFiles = []string{"CODEOWNERS", ".github/CODEOWNERS", ".gitlab/CODEOWNERS", ".gitea/CODEOWNERS", "docs/CODEOWNERS"}

// codeowners are the owners CODEOWNERS names for files (the last matching line of the first
// CODEOWNERS found, per file), logins without '@'; e-mail owners are skipped.
func codeowners(co *checkout, files []string) []string {
	var text string
	for _, f := range codeownersFiles {
		if text = co.readFile(f); text != "" {
			break
		}
	}
	if text == "" {
		return nil
	}
	type rule struct {
		pattern string
		owners  []string
	}
	var rules []rule
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		fields := strings.Fields(line)
		rules = append(rules, rule{pattern: fields[0], owners: fields[1:]})
	}
	var out []string
	for _, f := range files {
		for i := len(rules) - 1; i >= 0; i-- {
			if matchOwners(rules[i].pattern, f) {
				for _, o := range rules[i].owners {
					if l, ok := strings.CutPrefix(o, "@"); ok && l != "" {
						out = append(out, l)
					}
				}
				break
			}
		}
	}
	out = sortedUnique(out)
	sort.Strings(out)
	return out
}

// matchOwners is CODEOWNERS' gitignore-style matching, for the forms people write: "*", "*.tf",
// "/dir/", "dir/", "/path/file", "dir/*.tf".
func matchOwners(pattern, file string) bool {
	anchored := strings.HasPrefix(pattern, "/")
	p := strings.TrimPrefix(pattern, "/")
	if strings.HasSuffix(p, "/") {
		dir := strings.TrimSuffix(p, "/")
		if anchored || strings.Contains(dir, "/") {
			return strings.HasPrefix(file, dir+"/")
		}
		return file == dir || strings.HasPrefix(file, dir+"/") || strings.Contains(file, "/"+dir+"/")
	}
	if !anchored && !strings.Contains(p, "/") {
		ok, _ := path.Match(p, path.Base(file))
		return ok
	}
	if ok, _ := path.Match(p, file); ok {
		return true
	}
	return strings.HasPrefix(file, p+"/")
}
