// Command shape prints the shape of the code (`make shape`): how the non-test Go lines split
// between the core and each front end, and any run of six or more lines repeated between two
// front ends. The product's promise is one core with thin front ends that only translate; this
// report keeps that measurable without asserting it in a test.
package main

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// area is a part of the module, by path prefix; the first match wins.
type area struct {
	name     string
	prefixes []string
	frontEnd bool
}

var areas = []area{
	// The core holds every decision and the glue written once for all front ends: the drift
	// model (internal/drift), its API types, the notifications both scan and the reporter send,
	// the reconciliation (desired-state edits, forges' pull requests) any front end asks for, and
	// the forge connections both share.
	{name: "core (internal/drift, notify, reconcile, forgeapi, api)", prefixes: []string{"internal/drift/", "internal/notify/", "internal/reconcile/", "internal/forgeapi/", "api/"}},
	{name: "provider", prefixes: []string{"provider/", "main.go"}, frontEnd: true},
	{name: "argocd-plugin", prefixes: []string{"argocd-plugin/"}, frontEnd: true},
	{name: "cli (cmd, internal/scan, internal/cli)", prefixes: []string{"cmd/", "internal/scan/", "internal/cli/"}, frontEnd: true},
	{name: "tooling (internal/cmd)", prefixes: []string{"internal/cmd/"}},
}

const window = 6

type loc struct {
	file string
	line int // file line, for the report
	idx  int // code-line index, for joining consecutive windows into one run
}

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	if err := run(root, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "shape:", err)
		os.Exit(1)
	}
}

func run(root string, w io.Writer) error {
	lines := map[string]int{}
	var coreImports []string
	// windows maps the text of six normalized lines to where each front end has it.
	windows := map[string]map[string]loc{}
	total := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// Test harnesses, separate modules, built tools and generated trees are not the product.
			switch rel {
			case ".git", ".tools", "tools", "tests", "internal/testenv", "node_modules", "dist":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || strings.HasPrefix(filepath.Base(rel), "zz_generated") {
			return nil
		}
		a := areaOf(rel)
		if strings.HasPrefix(a.name, "core") {
			bad, err := frontEndImports(p)
			if err != nil {
				return err
			}
			for _, imp := range bad {
				coreImports = append(coreImports, rel+" imports "+imp)
			}
		}
		code, err := codeLines(p)
		if err != nil {
			return err
		}
		lines[a.name] += len(code)
		total += len(code)
		if a.frontEnd {
			for i := 0; i+window <= len(code); i++ {
				key := joinText(code[i : i+window])
				if windows[key] == nil {
					windows[key] = map[string]loc{}
				}
				if _, seen := windows[key][a.name]; !seen {
					windows[key][a.name] = loc{rel, code[i].n, i}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Non-test Go lines (blank lines, comments and generated code excluded):")
	for _, a := range append(areas, area{name: "other"}) {
		n := lines[a.name]
		target := ""
		switch {
		case a.frontEnd:
			target = "  (target < 15%)"
		case strings.HasPrefix(a.name, "core"):
			target = "  (target > 60%)"
		}
		fmt.Fprintf(w, "  %-42s %6d  %5.1f%%%s\n", a.name, n, 100*float64(n)/float64(max(total, 1)), target)
	}
	fmt.Fprintf(w, "  %-42s %6d\n", "total", total)
	sort.Strings(coreImports)
	fmt.Fprintf(w, "\nCore imports of front ends: %d  (target 0)\n", len(coreImports))
	for _, c := range coreImports {
		fmt.Fprintln(w, "  "+c)
	}

	// A repeated run of k lines is k-5 windows; report it once, at the window whose predecessor
	// (one code line earlier in every place) is not a repeat too.
	seen := map[string]bool{}
	var repeats [][]loc
	for _, where := range windows {
		if len(where) < 2 {
			continue
		}
		locs := make([]loc, 0, len(where))
		for _, l := range where {
			locs = append(locs, l)
		}
		sort.Slice(locs, func(i, j int) bool { return locs[i].file < locs[j].file })
		seen[runKey(locs, 0)] = true
		repeats = append(repeats, locs)
	}
	var dups []string
	for _, locs := range repeats {
		if seen[runKey(locs, -1)] {
			continue
		}
		parts := make([]string, len(locs))
		for i, l := range locs {
			parts[i] = fmt.Sprintf("%s:%d", l.file, l.line)
		}
		dups = append(dups, strings.Join(parts, " = "))
	}
	sort.Strings(dups)
	fmt.Fprintf(w, "\nRuns of %d or more lines repeated between front ends: %d  (target 0)\n", window, len(dups))
	for _, d := range dups {
		fmt.Fprintln(w, "  "+d)
	}
	return nil
}

// runKey names a repeat by its places, shifted by delta code lines.
func runKey(locs []loc, delta int) string {
	var b strings.Builder
	for _, l := range locs {
		fmt.Fprintf(&b, "%s:%d;", l.file, l.idx+delta)
	}
	return b.String()
}

func areaOf(rel string) area {
	for _, a := range areas {
		for _, p := range a.prefixes {
			if rel == p || strings.HasPrefix(rel, p) {
				return a
			}
		}
	}
	return area{name: "other"}
}

type codeLine struct {
	text string
	n    int
}

// codeLines returns a file's lines that carry code: trimmed, without blank lines, comments,
// lines of closing brackets alone or import declarations, so formatting never makes or hides a
// repeat, and two files that import the same packages do not repeat each other.
func codeLines(path string) ([]codeLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var out []codeLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	imports := false
	for sc.Scan() {
		n++
		t := strings.TrimSpace(sc.Text())
		switch {
		case t == "import (":
			imports = true
			continue
		case imports:
			imports = t != ")"
			continue
		case strings.HasPrefix(t, "import "):
			continue
		}
		if t == "" || strings.HasPrefix(t, "//") || strings.Trim(t, "{}()[], ") == "" {
			continue
		}
		out = append(out, codeLine{t, n})
	}
	return out, sc.Err()
}

func joinText(ls []codeLine) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return b.String()
}

// frontEndPackages are the import paths (by suffix of the module path, or whole) a core file
// must never import: the front ends and the frameworks only they speak.
func frontEndPackages() []string {
	return []string{"/provider", "/argocd-plugin", "/cmd/", "/internal/scan", "/internal/cli",
		"github.com/hashicorp/terraform-plugin-framework", "github.com/argoproj/"}
}

// frontEndImports lists the front-end imports of one Go file.
func frontEndImports(path string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return nil, err
		}
		for _, fe := range frontEndPackages() {
			if strings.HasPrefix(p, fe) || strings.Contains(p, "/terraform-provider-drift"+fe) {
				bad = append(bad, p)
				break
			}
		}
	}
	return bad, nil
}
