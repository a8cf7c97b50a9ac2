// Command checkstate fails when product code holds package-level mutable state: a package-level
// var that is written after its declaration (assigned, incremented, its address taken, an element
// set or deleted, outside func init), in its own package's files including tests or through
// another package of the module, or whose type is mutable by nature (sync.Once, sync.Mutex,
// sync.Map, sync/atomic values). Sentinel errors, tables and regexps built at init and only read,
// sync.OnceValue results, interface assertions and the linker-set version stay allowed.
//
// It reads the module's source (go/parser, no type checking) and skips internal/testenv, test-only
// packages, testdata and the separate modules under tests/. Method calls on a var are not seen
// as writes: the convention that such values are read-only (regexps, replacers) is the reviewer's.
//
// usage: go run ./internal/cmd/checkstate [module root]   (default: the current directory)
package main

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// mutableTypes are types whose values exist to be changed.
var mutableTypes = map[string]bool{
	"sync.Once": true, "sync.Mutex": true, "sync.RWMutex": true, "sync.Map": true, "sync.WaitGroup": true,
	"sync.Pool": true, "atomic.Int32": true, "atomic.Int64": true, "atomic.Uint32": true,
	"atomic.Uint64": true, "atomic.Bool": true, "atomic.Value": true, "atomic.Pointer": true,
	"atomic.Uintptr": true,
}

type pkgFiles struct {
	dir   string
	name  string // package name of the non-test files
	files []*ast.File
	tests []*ast.File
}

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	problems, err := check(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkstate:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

func modulePath(root string) (string, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`), nil
		}
	}
	return "", fmt.Errorf("no module line in %s/go.mod", root)
}

func check(root string) ([]string, error) {
	mod, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	pkgs := map[string]*pkgFiles{} // import path -> files
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			base := d.Name()
			if p != root && (base == "testdata" || base == "vendor" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
				return filepath.SkipDir
			}
			// Another module (tests/argodiff, tests/argocd, tools/...).
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			if rel == "internal/testenv" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		imp := mod
		if dir := filepath.ToSlash(filepath.Dir(rel)); dir != "." {
			imp = mod + "/" + dir
		}
		pf := pkgs[imp]
		if pf == nil {
			pf = &pkgFiles{dir: filepath.Dir(p)}
			pkgs[imp] = pf
		}
		if strings.HasSuffix(p, "_test.go") {
			pf.tests = append(pf.tests, f)
		} else {
			pf.files = append(pf.files, f)
			pf.name = f.Name.Name
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Package-level vars of every product package: import path -> name -> position.
	vars := map[string]map[string]token.Pos{}
	var problems []string
	for imp, pf := range pkgs {
		if len(pf.files) == 0 {
			continue // test-only
		}
		vars[imp] = map[string]token.Pos{}
		for _, f := range pf.files {
			for _, decl := range f.Decls {
				g, ok := decl.(*ast.GenDecl)
				if !ok || g.Tok != token.VAR {
					continue
				}
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for _, n := range vs.Names {
						if n.Name == "_" {
							continue
						}
						vars[imp][n.Name] = n.Pos()
						if t := typeName(vs.Type); mutableTypes[t] {
							problems = append(problems, fmt.Sprintf("%s: package-level %s of type %s is mutable state", fset.Position(n.Pos()), n.Name, t))
						}
					}
				}
			}
		}
	}

	for imp, pf := range pkgs {
		all := append(append([]*ast.File(nil), pf.files...), pf.tests...)
		for _, f := range all {
			// Local names of the module's packages this file imports.
			imported := map[string]string{}
			for _, is := range f.Imports {
				path, _ := strconv.Unquote(is.Path.Value)
				if _, ok := vars[path]; !ok {
					continue
				}
				name := path[strings.LastIndex(path, "/")+1:]
				if pf2 := pkgs[path]; pf2 != nil && pf2.name != "" {
					name = pf2.name
				}
				if is.Name != nil {
					name = is.Name.Name
				}
				imported[name] = path
			}
			own := vars[imp]
			samePkg := f.Name.Name == pf.name
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil || (fn.Recv == nil && fn.Name.Name == "init") {
					continue
				}
				locals := localNames(fn)
				report := func(e ast.Expr, how string) {
					if name, path := target(e, imported); path != "" {
						problems = append(problems, fmt.Sprintf("%s: %s.%s (package-level var of %s) %s", fset.Position(e.Pos()), path[strings.LastIndex(path, "/")+1:], name, path, how))
					} else if name != "" && samePkg && own != nil && !locals[name] {
						if _, ok := own[name]; ok {
							problems = append(problems, fmt.Sprintf("%s: package-level var %s %s", fset.Position(e.Pos()), name, how))
						}
					}
				}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					switch x := n.(type) {
					case *ast.AssignStmt:
						if x.Tok != token.DEFINE {
							for _, l := range x.Lhs {
								report(l, "is written after init")
							}
						}
					case *ast.IncDecStmt:
						report(x.X, "is written after init")
					case *ast.UnaryExpr:
						if x.Op == token.AND {
							report(x.X, "has its address taken")
						}
					case *ast.CallExpr:
						if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "delete" || id.Name == "clear") && len(x.Args) > 0 {
							report(x.Args[0], "is written after init ("+id.Name+")")
						}
					}
					return true
				})
			}
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// target is the package-level variable e writes: a bare name (own package) or pkg.Name through
// an import of the module; elements and fields of it count as it.
func target(e ast.Expr, imported map[string]string) (name, importPath string) {
	for {
		switch x := e.(type) {
		case *ast.Ident:
			return x.Name, ""
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				if path, ok := imported[id.Name]; ok {
					return x.Sel.Name, path
				}
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return "", ""
		}
	}
}

// localNames are the names a function declares (parameters, results, := and var), which shadow
// package-level ones; a name declared anywhere in the function is treated as local throughout.
func localNames(fn *ast.FuncDecl) map[string]bool {
	names := map[string]bool{}
	addFields := func(fl *ast.FieldList) {
		if fl == nil {
			return
		}
		for _, f := range fl.List {
			for _, n := range f.Names {
				names[n.Name] = true
			}
		}
	}
	addFields(fn.Recv)
	addFields(fn.Type.Params)
	addFields(fn.Type.Results)
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.AssignStmt:
			if x.Tok == token.DEFINE {
				for _, l := range x.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						names[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range x.Names {
				names[id.Name] = true
			}
		case *ast.RangeStmt:
			if x.Tok == token.DEFINE {
				for _, e := range []ast.Expr{x.Key, x.Value} {
					if id, ok := e.(*ast.Ident); ok {
						names[id.Name] = true
					}
				}
			}
		case *ast.FuncLit:
			addFields(x.Type.Params)
			addFields(x.Type.Results)
		case *ast.TypeSwitchStmt:
			if a, ok := x.Assign.(*ast.AssignStmt); ok {
				for _, l := range a.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						names[id.Name] = true
					}
				}
			}
		}
		return true
	})
	return names
}

// typeName is "pkg.Name" for a (possibly generic) named type from another package.
func typeName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			return id.Name + "." + x.Sel.Name
		}
	case *ast.IndexExpr:
		return typeName(x.X)
	case *ast.IndexListExpr:
		return typeName(x.X)
	}
	return ""
}
