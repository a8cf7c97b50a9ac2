package edit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// ImportTarget is a resource that exists but is not in state: where it goes in the configuration
// and the provider's import ID.
type ImportTarget struct {
	Address string
	ID      string
}

// ImportsFile and GeneratedFile are the files Import writes in the unit's directory.
const (
	ImportsFile   = "imports.tf"
	GeneratedFile = "generated.tf"
)

// Import writes an `import {}` block per target into imports.tf in dir (appending to an existing
// one, skipping targets it already imports) and runs the real `tofu plan
// -generate-config-out=generated.tf` so OpenTofu itself writes the configuration of the targets the
// configuration does not define yet. It returns both files as edits.
//
// The plan runs in the work tree, because the unit's backend, modules and .terraform live there:
// the two files exist on disk only while it runs, and a .terraform directory or lock file that
// `tofu init` had to create is removed again, so the work tree is left as it was found. tofu
// inherits the caller's environment (TF_CLI_CONFIG_FILE, backend credentials).
func Import(ctx context.Context, tofu string, root, dir string, addresses []ImportTarget) (Result, error) {
	t, err := newTree(root)
	if err != nil {
		return Result{}, err
	}
	d, err := t.clean(dir)
	if err != nil {
		return Result{}, err
	}
	if len(addresses) == 0 {
		return Result{}, errors.New("edit: nothing to import")
	}
	if tofu == "" {
		return Result{}, errors.New("edit: no tofu binary given")
	}
	importsPath := path.Join(d, ImportsFile)
	var existing []byte
	if t.exists(importsPath) {
		if existing, err = t.read(importsPath); err != nil {
			return Result{}, err
		}
	}
	already, err := importedAddresses(existing, importsPath)
	if err != nil {
		return Result{}, err
	}
	h := &hclEditor{t: t}
	f := hclwrite.NewEmptyFile()
	needConfig := false
	added := 0
	for _, a := range addresses {
		addr, err := parseAddress(a.Address)
		if err != nil {
			return Result{}, err
		}
		if len(addr.Modules) > 0 {
			// OpenTofu generates configuration only for root-module resources.
			return Result{}, fmt.Errorf("edit: import of %s: configuration can only be generated for resources of the root module", a.Address)
		}
		if addr.Data {
			return Result{}, fmt.Errorf("edit: import of %s: data sources are not imported", a.Address)
		}
		if a.ID == "" {
			return Result{}, fmt.Errorf("edit: import of %s: empty import ID", a.Address)
		}
		h.addr, h.display = addr, a.Address
		if _, _, err := h.findResource(&moduleCtx{dir: d}); err != nil {
			if !errors.Is(err, ErrNotFound) {
				return Result{}, err
			}
			needConfig = true
		}
		trav, diags := hclsyntax.ParseTraversalAbs([]byte(a.Address), "address", hcl.Pos{Line: 1, Column: 1})
		if diags.HasErrors() {
			return Result{}, fmt.Errorf("edit: import of %s: %s", a.Address, diags.Error())
		}
		if already[canonicalTraversal(trav)] {
			continue
		}
		if added > 0 || len(existing) > 0 {
			f.Body().AppendNewline()
		}
		b := f.Body().AppendNewBlock("import", nil)
		b.Body().SetAttributeTraversal("to", trav)
		b.Body().SetAttributeValue("id", cty.StringVal(a.ID))
		added++
	}
	imports := existing
	if added > 0 {
		if len(imports) > 0 && !bytes.HasSuffix(imports, []byte("\n")) {
			imports = append(append([]byte{}, imports...), '\n')
		}
		imports = append(append([]byte{}, imports...), hclwrite.Format(f.Bytes())...)
		if err := t.write(importsPath, imports); err != nil {
			return Result{}, err
		}
	}
	if !needConfig {
		t.note("every import target is already defined in the configuration; only import blocks were written")
		return t.result(), nil
	}
	generated := path.Join(d, GeneratedFile)
	for i := 2; t.exists(generated); i++ {
		generated = path.Join(d, fmt.Sprintf("generated_%d.tf", i))
	}
	out, err := runGenerate(ctx, tofu, t, d, importsPath, imports, existing, path.Base(generated))
	if err != nil {
		return Result{}, err
	}
	if err := t.write(generated, out.config); err != nil {
		return Result{}, err
	}
	if out.planErr != "" {
		t.note("tofu plan reported errors after generating %s; review the generated configuration: %s", generated, out.planErr)
	}
	if bytes.Contains(out.config, []byte("# sensitive")) {
		t.note("%s leaves sensitive attributes null: set them from their secret source, never from the runtime value", generated)
	}
	return t.result(), nil
}

type generateOutput struct {
	config  []byte
	planErr string
}

// runGenerate puts the imports file on disk, runs plan, reads the generated file and puts the work
// tree back the way it was.
func runGenerate(ctx context.Context, tofu string, t *tree, dir, importsPath string, imports, original []byte, genName string) (generateOutput, error) {
	var out generateOutput
	abs := func(rel string) string { return filepath.Join(t.root, filepath.FromSlash(rel)) }
	absDir := abs(dir)
	importsAbs := abs(importsPath)
	genAbs := filepath.Join(absDir, genName)
	if _, err := os.Lstat(genAbs); err == nil {
		return out, fmt.Errorf("edit: %s already exists", genAbs)
	}
	restore := []func(){}
	defer func() {
		for i := len(restore) - 1; i >= 0; i-- {
			restore[i]()
		}
	}()
	if err := os.WriteFile(importsAbs, imports, 0o644); err != nil {
		return out, err
	}
	restore = append(restore, func() {
		if original == nil {
			_ = os.Remove(importsAbs)
		} else {
			_ = os.WriteFile(importsAbs, original, 0o644)
		}
	})
	restore = append(restore, func() { _ = os.Remove(genAbs) })
	env := append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0")
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, tofu, args...)
		cmd.Dir = absDir
		cmd.Env = env
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		err := cmd.Run()
		return buf.Bytes(), err
	}
	dotTF := filepath.Join(absDir, ".terraform")
	if _, err := os.Lstat(dotTF); errors.Is(err, fs.ErrNotExist) {
		lock := filepath.Join(absDir, ".terraform.lock.hcl")
		_, lockErr := os.Lstat(lock)
		restore = append(restore, func() {
			_ = os.RemoveAll(dotTF)
			if errors.Is(lockErr, fs.ErrNotExist) {
				_ = os.Remove(lock)
			}
		})
		if o, err := run("init", "-input=false", "-no-color"); err != nil {
			return out, fmt.Errorf("edit: tofu init in %s: %w\n%s", dir, err, tail(o))
		}
	}
	o, planErr := run("plan", "-input=false", "-no-color", "-lock=false", "-generate-config-out="+genName)
	cfg, err := os.ReadFile(genAbs)
	if err != nil {
		if planErr != nil {
			return out, fmt.Errorf("edit: tofu plan -generate-config-out in %s: %w\n%s", dir, planErr, tail(o))
		}
		return out, fmt.Errorf("edit: tofu plan wrote no %s: %w", genName, err)
	}
	out.config = cfg
	if planErr != nil {
		out.planErr = strings.TrimSpace(string(tail(o)))
	}
	return out, nil
}

// tail keeps the end of a tool's output, where its errors are.
func tail(b []byte) []byte {
	const max = 2000
	if len(b) > max {
		return b[len(b)-max:]
	}
	return b
}

// importedAddresses lists the `to` addresses of import blocks already in a file.
func importedAddresses(src []byte, name string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(src) == 0 {
		return out, nil
	}
	f, diags := hclsyntax.ParseConfig(src, name, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return nil, fmt.Errorf("edit: %s: %s", name, diags.Error())
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return out, nil
	}
	for _, b := range body.Blocks {
		if b.Type != "import" {
			continue
		}
		if to, ok := b.Body.Attributes["to"]; ok {
			if st, ok := to.Expr.(*hclsyntax.ScopeTraversalExpr); ok {
				out[canonicalTraversal(st.Traversal)] = true
			}
		}
	}
	return out, nil
}

func canonicalTraversal(t hcl.Traversal) string { return traversalString(t) }
