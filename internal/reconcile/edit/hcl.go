package edit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// HCL writes each field of an OpenTofu/Terraform resource into the configuration under
// req.Root/req.Dir. A literal is rewritten in the file that defines the resource; a value that
// comes from a variable is rewritten where the variable is set (the last .tfvars that sets it, the
// module call's argument for a module input, else the variable's default); any other expression
// (function call, interpolation, local, conditional, another resource's attribute) is left alone
// and a Note says why. Only the bytes of the changed value move: comments and layout stay, and a
// file that was already `tofu fmt`-clean is kept so.
func HCL(req Request) (Result, error) {
	t, err := newTree(req.Root)
	if err != nil {
		return Result{}, err
	}
	dir, err := t.clean(req.Dir)
	if err != nil {
		return Result{}, err
	}
	addr, err := parseAddress(req.Target.Address)
	if err != nil {
		return Result{}, err
	}
	h := &hclEditor{t: t, addr: addr, display: req.Target.Address}
	mod, err := h.resolveModules(dir)
	if err != nil {
		return Result{}, err
	}
	if mod == nil {
		return t.result(), nil
	}
	if _, _, err := h.findResource(mod); err != nil {
		return Result{}, err
	}
	for _, f := range req.Fields {
		ptr, err := parsePath(f.Path)
		if err != nil {
			return Result{}, fmt.Errorf("edit: field %q: %w", f.Path, err)
		}
		if err := h.field(mod, f, ptr); err != nil {
			return Result{}, err
		}
	}
	if err := h.finish(); err != nil {
		return Result{}, err
	}
	return t.result(), nil
}

// hclEditor edits one resource's configuration, possibly inside local modules.
type hclEditor struct {
	t       *tree
	addr    resourceAddress
	display string
	// canonical remembers which files were `tofu fmt`-clean before the first edit.
	canonical map[string]bool
	// moduleDirs are the local module sources on the way to the resource.
	moduleDirs map[string]bool
}

// moduleCtx is one module directory on the way to the resource, and how its parent calls it.
type moduleCtx struct {
	dir    string
	parent *moduleCtx
	call   string // the module block's name in parent
}

func (m *moduleCtx) describe() string {
	if m.parent == nil {
		return "the root module"
	}
	return "module " + m.call + " (" + m.dir + ")"
}

// parsedFile is one HCL file parsed fresh from the tree's current content.
type parsedFile struct {
	path string
	src  []byte
	body *hclsyntax.Body
}

func (h *hclEditor) parse(p string) (*parsedFile, error) {
	src, err := h.t.read(p)
	if err != nil {
		return nil, err
	}
	f, diags := hclsyntax.ParseConfig(src, p, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return nil, fmt.Errorf("edit: %s: %s", p, diags.Error())
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, fmt.Errorf("edit: %s is not native HCL syntax", p)
	}
	if h.canonical == nil {
		h.canonical = map[string]bool{}
	}
	if _, seen := h.canonical[p]; !seen {
		h.canonical[p] = bytes.Equal(hclwrite.Format(src), src)
	}
	return &parsedFile{path: p, src: src, body: body}, nil
}

// configFiles parses every .tf file of a module directory.
func (h *hclEditor) configFiles(dir string) ([]*parsedFile, error) {
	names, err := h.t.list(dir, ".tf")
	if err != nil {
		return nil, err
	}
	var out []*parsedFile
	for _, n := range names {
		f, err := h.parse(n)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// resolveModules walks module.a.module.b down to the directory that defines the resource. A
// module that is not a local path in this repository cannot be edited here: nil and a Note.
func (h *hclEditor) resolveModules(dir string) (*moduleCtx, error) {
	cur := &moduleCtx{dir: dir}
	for _, step := range h.addr.Modules {
		_, call, err := h.findModuleCall(cur, step.Name)
		if err != nil {
			return nil, err
		}
		srcAttr, ok := call.Body.Attributes["source"]
		if !ok {
			return nil, fmt.Errorf("edit: module %q in %s has no source", step.Name, cur.dir)
		}
		v, diags := srcAttr.Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
			return nil, fmt.Errorf("edit: module %q in %s: source is not a literal string", step.Name, cur.dir)
		}
		src := v.AsString()
		if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
			h.t.note("%s: module %s comes from %q, outside this repository: change the module's source or its inputs; nothing was rewritten", h.display, step.Name, src)
			return nil, nil
		}
		child, err := h.t.join(cur.dir, src)
		if err != nil {
			return nil, fmt.Errorf("edit: module %q: %w", step.Name, err)
		}
		cur = &moduleCtx{dir: child, parent: cur, call: step.Name}
		if h.moduleDirs == nil {
			h.moduleDirs = map[string]bool{}
		}
		h.moduleDirs[child] = true
	}
	return cur, nil
}

func (h *hclEditor) findModuleCall(m *moduleCtx, name string) (*parsedFile, *hclsyntax.Block, error) {
	files, err := h.configFiles(m.dir)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		for _, b := range f.body.Blocks {
			if b.Type == "module" && len(b.Labels) == 1 && b.Labels[0] == name {
				return f, b, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("edit: module %q in %s: %w", name, m.dir, ErrNotFound)
}

func (h *hclEditor) findResource(m *moduleCtx) (*parsedFile, *hclsyntax.Block, error) {
	files, err := h.configFiles(m.dir)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if isOverrideFile(f.path) {
			continue
		}
		for _, b := range f.body.Blocks {
			if b.Type == h.addr.blockType() && len(b.Labels) == 2 && b.Labels[0] == h.addr.Type && b.Labels[1] == h.addr.Name {
				return f, b, nil
			}
		}
	}
	extra := ""
	if js, _ := h.t.list(m.dir, ".tf.json"); len(js) > 0 {
		extra = " (JSON configuration files are not edited)"
	}
	return nil, nil, fmt.Errorf("edit: %s in %s%s: %w", h.display, m.dir, extra, ErrNotFound)
}

// isOverrideFile reports OpenTofu's override files, which are merged over the others.
func isOverrideFile(p string) bool {
	b := path.Base(p)
	return b == "override.tf" || strings.HasSuffix(b, "_override.tf")
}

// overridden reports whether an override file sets the top-level attribute or block name of the
// resource: then the main file's value is not the one that applies.
func (h *hclEditor) overridden(m *moduleCtx, name string) (string, error) {
	files, err := h.configFiles(m.dir)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		if !isOverrideFile(f.path) {
			continue
		}
		for _, b := range f.body.Blocks {
			if b.Type != h.addr.blockType() || len(b.Labels) != 2 || b.Labels[0] != h.addr.Type || b.Labels[1] != h.addr.Name {
				continue
			}
			if _, ok := b.Body.Attributes[name]; ok {
				return f.path, nil
			}
			for _, nb := range b.Body.Blocks {
				if nb.Type == name || (nb.Type == "dynamic" && len(nb.Labels) == 1 && nb.Labels[0] == name) {
					return f.path, nil
				}
			}
		}
	}
	return "", nil
}

// field writes one field. Errors are for hostile or broken input; anything that merely cannot be
// rewritten safely becomes a Note.
func (h *hclEditor) field(m *moduleCtx, f Field, ptr drift.Pointer) error {
	file, block, err := h.findResource(m)
	if err != nil {
		return err
	}
	where := h.display + " " + f.Path
	if f.Sensitive {
		h.t.note("%s", sensitiveNote(where, h.sensitiveSource(m, block, ptr)))
		return nil
	}
	if ov, err := h.overridden(m, ptr[0]); err != nil {
		return err
	} else if ov != "" {
		h.t.note("%s: override file %s sets %s over the resource's own file; not rewritten — change it there if it should hold the live value", where, ov, ptr[0])
		return nil
	}
	_, hasCount := block.Body.Attributes["count"]
	_, hasForEach := block.Body.Attributes["for_each"]
	moduleKeyed := false
	for _, st := range h.addr.Modules {
		moduleKeyed = moduleKeyed || st.Keyed
	}
	if hasCount || hasForEach || h.addr.Keyed || moduleKeyed {
		h.t.note("%s: one configuration block defines every instance (count/for_each); rewriting it for this instance would change the others — not rewritten", where)
		return nil
	}
	snap := h.t.snapshot()
	op := &hclOp{h: h, field: f, where: where}
	if err := op.body(m, file, block, block.Body, ptr); err != nil {
		return err
	}
	if !h.t.changedSince(snap) {
		return nil
	}
	// Read the edit back: the field, followed the same way through variables and modules, must
	// now be a literal holding exactly the live value.
	file, block, err = h.findResource(m)
	if err != nil {
		return err
	}
	g := f
	g.HasBefore = false
	chk := &hclOp{h: h, field: g, where: where, check: true}
	if err := chk.body(m, file, block, block.Body, ptr); err != nil || chk.failed {
		h.t.restore(snap)
		h.t.note("%s: the rewritten configuration did not read back as the live value; not rewritten", where)
	}
	return nil
}

// sensitiveSource names where a sensitive attribute's value comes from, without reading it.
func (h *hclEditor) sensitiveSource(m *moduleCtx, block *hclsyntax.Block, ptr drift.Pointer) string {
	attr, ok := block.Body.Attributes[ptr[0]]
	if !ok {
		return ""
	}
	if st, ok := attr.Expr.(*hclsyntax.ScopeTraversalExpr); ok && len(st.Traversal) >= 2 {
		if a, ok := st.Traversal[1].(hcl.TraverseAttr); ok {
			switch st.Traversal.RootName() {
			case "var":
				return "set through variable " + a.Name + " of " + m.describe()
			case "data":
				return "read from data source " + a.Name
			case "ephemeral":
				return "read from ephemeral resource " + a.Name
			}
		}
	}
	if _, ok := attr.Expr.(*hclsyntax.FunctionCallExpr); ok {
		return "computed by a function call in the configuration"
	}
	return ""
}

// hclOp is one field's edit in progress. In check mode it edits nothing: it walks the edited
// configuration the same way and records whether the field now reads as the live value.
type hclOp struct {
	h      *hclEditor
	field  Field
	where  string
	check  bool
	failed bool
}

// note explains why the field is not rewritten; in check mode it means the edit did not land.
func (o *hclOp) note(format string, args ...any) {
	if o.check {
		o.failed = true
		return
	}
	o.h.t.note("%s: "+format, append([]any{o.where}, args...)...)
}

// info is a Note about a rewrite that was made.
func (o *hclOp) info(format string, args ...any) {
	if o.check {
		return
	}
	o.h.t.note("%s: "+format, append([]any{o.where}, args...)...)
}

// body walks a block body: an attribute, or nested blocks addressed as a list (by position) or a
// single nested block (by name).
func (o *hclOp) body(m *moduleCtx, file *parsedFile, block *hclsyntax.Block, body *hclsyntax.Body, ptr drift.Pointer) error {
	tok := ptr[0]
	if attr, ok := body.Attributes[tok]; ok {
		if len(ptr) == 1 && o.field.Value == nil {
			return o.removeAttribute(file, attr)
		}
		return o.expr(m, file, attr.Expr, ptr[1:])
	}
	var blocks []*hclsyntax.Block
	dynamic := false
	for _, b := range body.Blocks {
		if b.Type == tok {
			blocks = append(blocks, b)
		}
		if b.Type == "dynamic" && len(b.Labels) == 1 && b.Labels[0] == tok {
			dynamic = true
		}
	}
	if dynamic {
		o.note("the %q blocks are generated by a dynamic block from an expression; not rewritten", tok)
		return nil
	}
	if len(blocks) > 0 {
		if len(ptr) == 1 {
			o.note("the %q blocks changed as a whole (added or removed blocks); rewrite them by hand", tok)
			return nil
		}
		i, err := strconv.Atoi(ptr[1])
		if err != nil || strconv.Itoa(i) != ptr[1] {
			if len(blocks) == 1 {
				return o.body(m, file, blocks[0], blocks[0].Body, ptr[1:])
			}
			o.note("%q is not a block index and there are %d %q blocks; not rewritten", ptr[1], len(blocks), tok)
			return nil
		}
		if i < 0 || i >= len(blocks) {
			o.note("the configuration has %d %q block(s) and the runtime has one more at index %d; add it by hand", len(blocks), tok, i)
			return nil
		}
		if len(ptr) == 2 {
			o.note("%q block %d changed as a whole; rewrite it by hand", tok, i)
			return nil
		}
		if len(blocks) > 1 && !o.field.HasBefore {
			o.info("matched %q block %d by its position in %s; a provider that keeps %q as a set may order it differently — check the diff", tok, i, file.path, tok)
		}
		return o.body(m, file, blocks[i], blocks[i].Body, ptr[2:])
	}
	if len(ptr) > 1 {
		o.note("%q is not set in the configuration; add it by hand (a nested value cannot be inserted without the schema)", tok)
		return nil
	}
	if o.field.Value == nil {
		return nil
	}
	return o.insertAttribute(file, block, tok)
}

// expr rewrites the value at ptr inside an attribute expression, following variables.
func (o *hclOp) expr(m *moduleCtx, file *parsedFile, e hclsyntax.Expression, ptr drift.Pointer) error {
	switch x := e.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		return o.traversal(m, x, ptr)
	case *hclsyntax.ObjectConsExpr:
		if len(ptr) == 0 {
			return o.replaceLiteral(file, e)
		}
		for _, item := range x.Items {
			k, ok := objectKey(item.KeyExpr)
			if !ok {
				o.note("an object key in %s is computed; not rewritten", file.path)
				return nil
			}
			if k == ptr[0] {
				if len(ptr) == 1 && o.field.Value == nil {
					return o.removeItem(file, item)
				}
				return o.expr(m, file, item.ValueExpr, ptr[1:])
			}
		}
		if len(ptr) > 1 {
			o.note("key %q is not set in the configuration's object; add it by hand", ptr[0])
			return nil
		}
		if o.field.Value == nil {
			return nil
		}
		return o.insertItem(file, x, ptr[0])
	case *hclsyntax.TupleConsExpr:
		if len(ptr) == 0 {
			return o.replaceLiteral(file, e)
		}
		if len(ptr) == 1 && ptr[0] == strconv.Itoa(len(x.Exprs)) && o.field.Value != nil {
			return o.appendTuple(file, x)
		}
		i, ok := listIndex(ptr[0], len(x.Exprs))
		if !ok {
			o.note("list element %q is not in the configuration's list; rewrite the list by hand", ptr[0])
			return nil
		}
		return o.expr(m, file, x.Exprs[i], ptr[1:])
	case *hclsyntax.FunctionCallExpr:
		if x.Name == "jsonencode" && len(x.Args) == 1 && len(ptr) == 0 && !x.ExpandFinal {
			return o.jsonencode(file, x)
		}
	case *hclsyntax.LiteralValueExpr, *hclsyntax.TemplateExpr, *hclsyntax.TemplateWrapExpr:
		if len(ptr) > 0 {
			o.note("the path goes inside a single value in %s (e.g. a JSON string); rewrite it by hand", file.path)
			return nil
		}
		return o.replaceLiteral(file, e)
	}
	o.note("the value is %s in %s; it cannot be rewritten safely (changing it would change what it computes, not pin the value)", describeExpr(e), file.path)
	return nil
}

// traversal follows var.x (possibly var.x.y / var.x["k"]) to where the variable is set.
func (o *hclOp) traversal(m *moduleCtx, x *hclsyntax.ScopeTraversalExpr, ptr drift.Pointer) error {
	root := x.Traversal.RootName()
	if root != "var" || len(x.Traversal) < 2 {
		o.note("the value is %s; it cannot be rewritten safely", describeExpr(x))
		return nil
	}
	a, ok := x.Traversal[1].(hcl.TraverseAttr)
	if !ok {
		o.note("the value is %s; it cannot be rewritten safely", describeExpr(x))
		return nil
	}
	var sub drift.Pointer
	for _, st := range x.Traversal[2:] {
		switch s := st.(type) {
		case hcl.TraverseAttr:
			sub = append(sub, s.Name)
		case hcl.TraverseIndex:
			k, ok := keyString(s.Key)
			if !ok {
				o.note("the value is %s; it cannot be rewritten safely", describeExpr(x))
				return nil
			}
			sub = append(sub, k)
		default:
			o.note("the value is %s; it cannot be rewritten safely", describeExpr(x))
			return nil
		}
	}
	return o.variable(m, a.Name, append(sub, ptr...))
}

// variable rewrites where variable name of module m gets its value.
func (o *hclOp) variable(m *moduleCtx, name string, ptr drift.Pointer) error {
	if sensitive, err := o.h.sensitiveVariable(m, name); err != nil {
		return err
	} else if sensitive {
		// The configuration says the value is secret even though the finding did not.
		o.h.t.note("%s", sensitiveNote(o.where, "variable "+name+" of "+m.describe()+" is declared sensitive"))
		return nil
	}
	if uses, err := o.h.countUses(m, name); err == nil && uses > 1 {
		o.info("var.%s of %s is used in %d places; the new value applies to all of them", name, m.describe(), uses)
	}
	if m.parent != nil {
		file, call, err := o.h.findModuleCall(m.parent, m.call)
		if err != nil {
			return err
		}
		if _, ok := call.Body.Attributes["count"]; ok {
			o.note("module %s uses count; its argument %s is shared by every instance — not rewritten", m.call, name)
			return nil
		}
		if _, ok := call.Body.Attributes["for_each"]; ok {
			o.note("module %s uses for_each; its argument %s is shared by every instance — not rewritten", m.call, name)
			return nil
		}
		if arg, ok := call.Body.Attributes[name]; ok {
			if len(ptr) == 0 && o.field.Value == nil {
				return o.removeAttribute(file, arg)
			}
			return o.expr(m.parent, file, arg.Expr, ptr)
		}
		if len(ptr) > 0 {
			o.note("module %s does not set input %s; part of it cannot be set without the whole value — add it by hand", m.call, name)
			return nil
		}
		// The module's default serves every caller; setting the argument on this call keeps the
		// change to the drifted instance.
		return o.insertAttribute(file, call, name)
	}
	// Root module: the last .tfvars that sets it wins (terraform.tfvars, then *.auto.tfvars in
	// lexical order), as OpenTofu loads them.
	vars, err := o.h.t.list(m.dir, ".tfvars")
	if err != nil {
		return err
	}
	var ordered []string
	for _, v := range vars {
		if path.Base(v) == "terraform.tfvars" {
			ordered = append(ordered, v)
		}
	}
	for _, v := range vars {
		if strings.HasSuffix(v, ".auto.tfvars") {
			ordered = append(ordered, v)
		}
	}
	jsonVars, _ := o.h.t.list(m.dir, ".tfvars.json")
	for i := len(ordered) - 1; i >= 0; i-- {
		f, err := o.h.parse(ordered[i])
		if err != nil {
			return err
		}
		if attr, ok := f.body.Attributes[name]; ok {
			if len(jsonVars) > 0 {
				o.info("JSON .tfvars files in %s may also set %s; they are not edited — check them", m.dir, name)
			}
			if len(ptr) == 0 && o.field.Value == nil {
				return o.removeAttribute(f, attr)
			}
			return o.expr(m, f, attr.Expr, ptr)
		}
	}
	if len(jsonVars) > 0 {
		o.note("variable %s may be set by a JSON .tfvars file in %s, which is not edited; set it there", name, m.dir)
		return nil
	}
	files, err := o.h.configFiles(m.dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		for _, b := range f.body.Blocks {
			if b.Type != "variable" || len(b.Labels) != 1 || b.Labels[0] != name {
				continue
			}
			if def, ok := b.Body.Attributes["default"]; ok {
				return o.expr(m, f, def.Expr, ptr)
			}
			o.note("variable %s has no default and no .tfvars in %s sets it: it comes from -var, -var-file or TF_VAR_%s outside the repository — set it there", name, m.dir, name)
			return nil
		}
	}
	return fmt.Errorf("edit: variable %q of %s: %w", name, m.describe(), ErrNotFound)
}

// sensitiveVariable reports whether variable name of module m is declared sensitive = true.
func (h *hclEditor) sensitiveVariable(m *moduleCtx, name string) (bool, error) {
	files, err := h.configFiles(m.dir)
	if err != nil {
		return false, err
	}
	for _, f := range files {
		for _, b := range f.body.Blocks {
			if b.Type != "variable" || len(b.Labels) != 1 || b.Labels[0] != name {
				continue
			}
			if a, ok := b.Body.Attributes["sensitive"]; ok {
				v, diags := a.Expr.Value(nil)
				// A sensitive flag that is not a plain literal is taken as set: fail closed.
				if diags.HasErrors() || v.Type() != cty.Bool || v.IsNull() || v.True() {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// countUses counts references to var.name in a module's .tf files.
func (h *hclEditor) countUses(m *moduleCtx, name string) (int, error) {
	files, err := h.configFiles(m.dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		diags := hclsyntax.VisitAll(f.body, func(node hclsyntax.Node) hcl.Diagnostics {
			if st, ok := node.(*hclsyntax.ScopeTraversalExpr); ok && st.Traversal.RootName() == "var" && len(st.Traversal) > 1 {
				if a, ok := st.Traversal[1].(hcl.TraverseAttr); ok && a.Name == name {
					n++
				}
			}
			return nil
		})
		if diags.HasErrors() {
			return 0, diags
		}
	}
	return n, nil
}

// replaceLiteral rewrites a constant expression — one that evaluates with no variables and no
// functions — with the live value.
func (o *hclOp) replaceLiteral(file *parsedFile, e hclsyntax.Expression) error {
	cur, diags := e.Value(nil)
	if diags.HasErrors() || len(e.Variables()) > 0 {
		o.note("the value is %s in %s; it cannot be rewritten safely", describeExpr(e), file.path)
		return nil
	}
	if o.check {
		js, ok := ctyToJSON(cur)
		o.failed = o.failed || !ok || !sameJSON(js, o.field.Value)
		return nil
	}
	if o.field.HasBefore {
		if js, ok := ctyToJSON(cur); !ok || !sameJSON(js, o.field.Before) {
			o.note("%s does not hold the value the finding compared against; the path may name a different element (e.g. a set matched by position) — not rewritten", file.path)
			return nil
		}
	}
	val, err := ctyOf(o.field.Value)
	if err != nil {
		return fmt.Errorf("edit: %s: %w", o.where, err)
	}
	toks := valueBytes(val, file.src, e)
	r := e.Range()
	return o.splice(file, r.Start.Byte, r.End.Byte, toks)
}

// appendTuple adds the live value as a new last element of a literal list, in the list's layout.
func (o *hclOp) appendTuple(file *parsedFile, x *hclsyntax.TupleConsExpr) error {
	if o.check {
		o.failed = true
		return nil
	}
	if len(x.Exprs) > 0 {
		if _, diags := x.Value(nil); diags.HasErrors() {
			o.note("the list in %s is computed; not rewritten", file.path)
			return nil
		}
	}
	val, err := ctyOf(o.field.Value)
	if err != nil {
		return fmt.Errorf("edit: %s: %w", o.where, err)
	}
	r := x.SrcRange
	closeAt := r.End.Byte - 1
	src := file.src
	if len(x.Exprs) == 0 {
		return o.splice(file, r.Start.Byte, r.End.Byte, append(append([]byte("["), indentValue(val, indentOf(src, r.Start.Byte))...), ']'))
	}
	lastEnd := x.Exprs[len(x.Exprs)-1].Range().End.Byte
	ls, _ := lineBounds(src, closeAt)
	if r.Start.Line == r.End.Line || strings.TrimSpace(string(src[ls:closeAt])) != "" {
		return o.splice(file, lastEnd, lastEnd, append([]byte(", "), indentValue(val, indentOf(src, r.Start.Byte))...))
	}
	indent := indentOf(src, x.Exprs[len(x.Exprs)-1].Range().Start.Byte)
	trailingComma := bytes.Contains(src[lastEnd:closeAt], []byte(","))
	line := indent + string(indentValue(val, indent))
	if trailingComma {
		line += ","
	}
	out := append([]byte{}, src[:ls]...)
	out = append(out, line+"\n"...)
	out = append(out, src[ls:]...)
	if !trailingComma {
		out = append(append(append([]byte{}, out[:lastEnd]...), ','), out[lastEnd:]...)
	}
	return o.splice(file, 0, len(src), out)
}

// jsonencode rewrites jsonencode(<literal>) so that it encodes the live JSON string: the argument
// becomes the decoded live document as an HCL literal.
func (o *hclOp) jsonencode(file *parsedFile, x *hclsyntax.FunctionCallExpr) error {
	arg := x.Args[0]
	cur, diags := arg.Value(nil)
	if diags.HasErrors() || len(arg.Variables()) > 0 {
		o.note("the value is jsonencode() of an expression with references or function calls in %s; it cannot be rewritten safely", file.path)
		return nil
	}
	live, _ := o.field.Value.(string)
	doc, ok := jsonDocument(live)
	if _, isStr := o.field.Value.(string); !isStr || !ok {
		o.note("the value is jsonencode() in %s and the live value is not a JSON document; not rewritten", file.path)
		return nil
	}
	if o.check {
		curJSON, ok := ctyToJSON(cur)
		o.failed = o.failed || !ok || !sameJSON(curJSON, doc)
		return nil
	}
	if o.field.HasBefore {
		before, _ := o.field.Before.(string)
		b, okB := jsonDocument(before)
		curJSON, ok := ctyToJSON(cur)
		if !okB || !ok || !sameJSON(curJSON, b) {
			o.note("%s does not encode the document the finding compared against; not rewritten", file.path)
			return nil
		}
	}
	val, err := ctyOf(doc)
	if err != nil {
		return fmt.Errorf("edit: %s: %w", o.where, err)
	}
	r := arg.Range()
	return o.splice(file, r.Start.Byte, r.End.Byte, indentValue(val, indentOf(file.src, x.NameRange.Start.Byte)))
}

// jsonDocument decodes exactly one JSON document, numbers kept exact.
func jsonDocument(s string) (any, bool) {
	var doc any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return nil, false
	}
	return doc, true
}

// valueBytes renders a value; a string that replaces a heredoc stays a heredoc.
func valueBytes(v cty.Value, src []byte, e hclsyntax.Expression) []byte {
	r := e.Range()
	old := src[r.Start.Byte:r.End.Byte]
	if v.Type() == cty.String && !v.IsNull() && bytes.HasPrefix(old, []byte("<<")) {
		s := v.AsString()
		nl := bytes.IndexByte(old, '\n')
		if nl > 0 && strings.HasSuffix(s, "\n") {
			marker := strings.TrimSpace(strings.TrimLeft(string(old[2:nl]), "-"))
			escaped := strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
			lineOK := true
			for _, l := range strings.Split(s, "\n") {
				if strings.TrimSpace(l) == marker {
					lineOK = false
				}
			}
			if lineOK && marker != "" {
				// A <<- heredoc strips indentation; write the plain form so the value is exact.
				return []byte("<<" + marker + "\n" + escaped + marker)
			}
		}
	}
	return indentValue(v, indentOf(src, r.Start.Byte))
}

// indentValue renders a value as formatted HCL whose continuation lines (a multi-line object or
// list) sit under the line it starts on.
func indentValue(v cty.Value, indent string) []byte {
	b := bytes.TrimSpace(hclwrite.Format(hclwrite.TokensForValue(v).Bytes()))
	return bytes.ReplaceAll(b, []byte{'\n'}, []byte("\n"+indent))
}

func (o *hclOp) splice(file *parsedFile, start, end int, repl []byte) error {
	out := make([]byte, 0, len(file.src)+len(repl))
	out = append(out, file.src[:start]...)
	out = append(out, repl...)
	out = append(out, file.src[end:]...)
	if _, diags := hclsyntax.ParseConfig(out, file.path, hcl.Pos{Line: 1, Column: 1}); diags.HasErrors() {
		return fmt.Errorf("edit: %s: the rewritten file does not parse (%s); not written", file.path, diags.Error())
	}
	if d := path.Dir(file.path); o.h.moduleDirs[d] {
		o.info("the change is in module source %s, which every call of that module shares", d)
	}
	return o.h.t.write(file.path, out)
}

// lineBounds returns the start of the line holding pos and the byte after that line's newline.
func lineBounds(src []byte, pos int) (int, int) {
	s := bytes.LastIndexByte(src[:pos], '\n') + 1
	e := bytes.IndexByte(src[pos:], '\n')
	if e < 0 {
		return s, len(src)
	}
	return s, pos + e + 1
}

func indentOf(src []byte, pos int) string {
	s, _ := lineBounds(src, pos)
	i := s
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	return string(src[s:i])
}

// wholeLines reports the line range [s,e) covering [start,end) when nothing but blanks and a
// trailing comment share those lines.
func wholeLines(src []byte, start, end int) (int, int, bool) {
	s, _ := lineBounds(src, start)
	if strings.TrimSpace(string(src[s:start])) != "" {
		return 0, 0, false
	}
	_, e := lineBounds(src, end)
	rest := strings.TrimSpace(string(src[end:e]))
	rest = strings.TrimPrefix(rest, ",")
	rest = strings.TrimSpace(rest)
	if rest != "" && !strings.HasPrefix(rest, "#") && !strings.HasPrefix(rest, "//") {
		return 0, 0, false
	}
	return s, e, true
}

func (o *hclOp) removeAttribute(file *parsedFile, attr *hclsyntax.Attribute) error {
	if o.check {
		o.failed = true
		return nil
	}
	r := attr.SrcRange
	s, e, ok := wholeLines(file.src, r.Start.Byte, r.End.Byte)
	if !ok {
		o.note("the runtime no longer sets %s, which shares a line with other configuration in %s; remove it by hand", attr.Name, file.path)
		return nil
	}
	return o.splice(file, s, e, nil)
}

func (o *hclOp) removeItem(file *parsedFile, item hclsyntax.ObjectConsItem) error {
	if o.check {
		o.failed = true
		return nil
	}
	s, e, ok := wholeLines(file.src, item.KeyExpr.Range().Start.Byte, item.ValueExpr.Range().End.Byte)
	if !ok {
		o.note("the runtime no longer sets this key, which shares a line with other items in %s; remove it by hand", file.path)
		return nil
	}
	return o.splice(file, s, e, nil)
}

func (o *hclOp) insertAttribute(file *parsedFile, block *hclsyntax.Block, name string) error {
	if o.check {
		o.failed = true
		return nil
	}
	if !hclsyntax.ValidIdentifier(name) {
		o.note("%q is not an attribute name; not added", name)
		return nil
	}
	val, err := ctyOf(o.field.Value)
	if err != nil {
		return fmt.Errorf("edit: %s: %w", o.where, err)
	}
	closeAt := block.CloseBraceRange.Start.Byte
	s, _ := lineBounds(file.src, closeAt)
	if strings.TrimSpace(string(file.src[s:closeAt])) != "" {
		o.note("%s is not set in a one-line block in %s; add it by hand", name, file.path)
		return nil
	}
	indent := indentOf(file.src, block.TypeRange.Start.Byte) + "  "
	for _, a := range block.Body.Attributes {
		indent = indentOf(file.src, a.SrcRange.Start.Byte)
		break
	}
	line := indent + name + " = " + string(indentValue(val, indent)) + "\n"
	return o.splice(file, s, s, []byte(line))
}

func (o *hclOp) insertItem(file *parsedFile, obj *hclsyntax.ObjectConsExpr, key string) error {
	if o.check {
		o.failed = true
		return nil
	}
	val, err := ctyOf(o.field.Value)
	if err != nil {
		return fmt.Errorf("edit: %s: %w", o.where, err)
	}
	k := key
	if !hclsyntax.ValidIdentifier(k) {
		k = strings.TrimSpace(string(hclwrite.TokensForValue(cty.StringVal(key)).Bytes()))
	}
	itemIndent := indentOf(file.src, obj.SrcRange.End.Byte-1) + "  "
	if len(obj.Items) > 0 {
		itemIndent = indentOf(file.src, obj.Items[0].KeyExpr.Range().Start.Byte)
	}
	item := k + " = " + string(indentValue(val, itemIndent))
	r := obj.SrcRange
	closeAt := r.End.Byte - 1
	s, _ := lineBounds(file.src, closeAt)
	if r.Start.Line != r.End.Line && strings.TrimSpace(string(file.src[s:closeAt])) == "" {
		indent := indentOf(file.src, closeAt) + "  "
		if len(obj.Items) > 0 {
			indent = indentOf(file.src, obj.Items[0].KeyExpr.Range().Start.Byte)
		}
		return o.splice(file, s, s, []byte(indent+item+"\n"))
	}
	if len(obj.Items) == 0 {
		return o.splice(file, r.Start.Byte, r.End.Byte, []byte("{ "+item+" }"))
	}
	last := obj.Items[len(obj.Items)-1].ValueExpr.Range().End.Byte
	return o.splice(file, last, last, []byte(", "+item))
}

// finish formats the edited files that were `tofu fmt`-clean before (so inserted lines align the
// way the author's tooling would) and leaves the others byte-for-byte outside the edits.
func (h *hclEditor) finish() error {
	var paths []string
	for p := range h.t.changed {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if h.canonical[p] {
			if err := h.t.write(p, hclwrite.Format(h.t.files[p])); err != nil {
				return err
			}
		}
	}
	return nil
}

// listIndex reads a pointer token as an index into a list of n elements.
func listIndex(tok string, n int) (int, bool) {
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || i >= n || strconv.Itoa(i) != tok {
		return 0, false
	}
	return i, true
}

func objectKey(e hclsyntax.Expression) (string, bool) {
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		if !k.ForceNonLiteral {
			if st, ok := k.Wrapped.(*hclsyntax.ScopeTraversalExpr); ok && len(st.Traversal) == 1 {
				return st.Traversal.RootName(), true
			}
		}
		e = k.Wrapped
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() {
		return "", false
	}
	return keyString(v)
}

func keyString(v cty.Value) (string, bool) {
	if v.IsNull() || !v.IsKnown() {
		return "", false
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), true
	case cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			return bf.Text('f', 0), true
		}
	}
	return "", false
}

// describeExpr names an expression's kind for a Note, never its evaluated value.
func describeExpr(e hclsyntax.Expression) string {
	switch x := e.(type) {
	case *hclsyntax.FunctionCallExpr:
		return "a call of function " + x.Name + "()"
	case *hclsyntax.ConditionalExpr:
		return "a conditional expression"
	case *hclsyntax.TemplateExpr:
		return "a string interpolation"
	case *hclsyntax.TemplateWrapExpr:
		return "an interpolation"
	case *hclsyntax.ForExpr:
		return "a for expression"
	case *hclsyntax.BinaryOpExpr, *hclsyntax.UnaryOpExpr:
		return "an arithmetic or logical expression"
	case *hclsyntax.ScopeTraversalExpr:
		switch x.Traversal.RootName() {
		case "local":
			return "local value " + traversalString(x.Traversal)
		case "var":
			return "variable reference " + traversalString(x.Traversal)
		case "each", "count":
			return "the per-instance value " + traversalString(x.Traversal)
		case "path", "terraform":
			return traversalString(x.Traversal)
		}
		return "a reference to " + traversalString(x.Traversal) + " (change that instead)"
	case *hclsyntax.RelativeTraversalExpr, *hclsyntax.IndexExpr, *hclsyntax.SplatExpr:
		return "an index or splat expression"
	case *hclsyntax.ObjectConsExpr, *hclsyntax.TupleConsExpr:
		return "a collection containing references or function calls"
	}
	return "a computed expression"
}

func traversalString(t hcl.Traversal) string {
	var b strings.Builder
	for i, st := range t {
		switch s := st.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if k, ok := keyString(s.Key); ok {
				if s.Key.Type() == cty.String {
					b.WriteString("[" + strconv.Quote(k) + "]")
				} else {
					b.WriteString("[" + k + "]")
				}
			} else {
				b.WriteString("[?]")
			}
		default:
			if i > 0 {
				b.WriteString(".?")
			}
		}
	}
	return b.String()
}

// ctyOf converts a JSON-decoded value to cty for hclwrite.
func ctyOf(v any) (cty.Value, error) {
	switch x := v.(type) {
	case nil:
		return cty.NullVal(cty.DynamicPseudoType), nil
	case string:
		return cty.StringVal(x), nil
	case bool:
		return cty.BoolVal(x), nil
	case float64:
		return cty.NumberFloatVal(x), nil
	case int:
		return cty.NumberIntVal(int64(x)), nil
	case int64:
		return cty.NumberIntVal(x), nil
	case json.Number:
		f, _, err := big.ParseFloat(string(x), 10, 512, big.ToNearestEven)
		if err != nil {
			return cty.NilVal, err
		}
		return cty.NumberVal(f), nil
	case []any:
		if len(x) == 0 {
			return cty.EmptyTupleVal, nil
		}
		vals := make([]cty.Value, len(x))
		for i, e := range x {
			c, err := ctyOf(e)
			if err != nil {
				return cty.NilVal, err
			}
			vals[i] = c
		}
		return cty.TupleVal(vals), nil
	case map[string]any:
		if len(x) == 0 {
			return cty.EmptyObjectVal, nil
		}
		vals := make(map[string]cty.Value, len(x))
		for k, e := range x {
			c, err := ctyOf(e)
			if err != nil {
				return cty.NilVal, err
			}
			vals[k] = c
		}
		return cty.ObjectVal(vals), nil
	}
	return cty.NilVal, fmt.Errorf("value of type %T is not JSON-shaped", v)
}

func ctyToJSON(v cty.Value) (any, bool) {
	if v.IsNull() {
		return nil, true
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil, false
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil, false
	}
	return out, true
}
