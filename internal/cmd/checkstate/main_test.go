package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckFindsMutableStateOnly(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.25\n",
		"a/a.go": `// Package a.
package a

import (
	"errors"
	"regexp"
	"sync"
	"sync/atomic"
)

var ErrX = errors.New("x")
var re = regexp.MustCompile("a")
var table = map[string]bool{"a": true}
var Exported = []string{"a"}
var lazy = sync.OnceValue(func() int { return 1 })
var version = "dev"
var _ = ErrX

var hook = func() int { return 1 }
var counter atomic.Int64
var once sync.Once
var cache = map[string]int{}
var initOnly = map[string]int{}

func init() { initOnly["a"] = 1 }

func Use(version string) bool {
	version = "shadowed"
	cache["k"]++
	_ = re.MatchString(version)
	_ = table["a"]
	return lazy() == 1
}
`,
		"a/a_test.go": `package a

import "testing"

func TestHook(t *testing.T) {
	hook = func() int { return 2 }
	p := &Exported
	_ = p
}
`,
		"b/b.go": `// Package b.
package b

import alias "example.com/m/a"

func Set() {
	alias.Exported[0] = "b"
	delete(alias.Exported, 0)
	_ = alias.ErrX
}
`,
		"internal/testenv/h/h.go": "package h\n\nvar n int\n\nfunc F() { n++ }\n",
		"tests/other/go.mod":      "module example.com/other\n",
		"tests/other/o.go":        "package o\n\nvar n int\n\nfunc F() { n++ }\n",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	problems, err := check(root)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{
		"counter of type atomic.Int64 is mutable state",
		"once of type sync.Once is mutable state",
		"package-level var cache is written after init",
		"package-level var hook is written after init",
		"package-level var Exported has its address taken",
		"a.Exported (package-level var of example.com/m/a) is written after init",
		"a.Exported (package-level var of example.com/m/a) is written after init (delete)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	for _, clean := range []string{"ErrX", "re", "table", "lazy", "version", "initOnly", "n"} {
		for _, p := range problems {
			if strings.Contains(p, " var "+clean+" ") || strings.Contains(p, "package-level "+clean+" ") || strings.Contains(p, "."+clean+" ") {
				t.Errorf("%q reported: %s", clean, p)
			}
		}
	}
	if len(problems) != 7 {
		t.Errorf("%d problems, want 7:\n%s", len(problems), got)
	}
}
