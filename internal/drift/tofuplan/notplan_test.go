package tofuplan

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// Plans with no drift and no changes, as OpenTofu 1.10.10 writes them (`tofu show -json`): an
// applied stack (refresh-only and normal), an empty stack, and a stack never applied. OpenTofu
// leaves resource_drift and resource_changes out when they are empty, so these must read clean
// while the shapes in TestNotPlans must not.
func TestRealCleanPlansReadClean(t *testing.T) {
	files, _ := filepath.Glob("testdata/clean-*.json")
	if len(files) != 4 {
		t.Fatalf("clean plans %v", files)
	}
	for _, f := range files {
		p, err := ReadFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(p.Observations) != 0 {
			t.Errorf("%s: %d observations", f, len(p.Observations))
		}
	}
}

// TestNotPlans: issue 9 class 3. Each row would read as "clean" if accepted; each must be an
// error that names the file.
func TestNotPlans(t *testing.T) {
	cleanRO, err := os.ReadFile("testdata/clean-refresh-only.json")
	if err != nil {
		t.Fatal(err)
	}
	var real map[string]json.RawMessage
	if err := json.Unmarshal(cleanRO, &real); err != nil {
		t.Fatal(err)
	}
	// variant is the real clean plan with keys replaced (nil deletes).
	variant := func(changes map[string]any) string {
		m := map[string]json.RawMessage{}
		for k, v := range real {
			m[k] = v
		}
		for k, v := range changes {
			if v == nil {
				delete(m, k)
				continue
			}
			b, _ := json.Marshal(v)
			m[k] = b
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	deep := `{"format_version":"1.2","planned_values":{"root_module":{}},"configuration":{"root_module":{}},"x":` +
		strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + `}`
	for _, tc := range []struct{ name, doc, want string }{
		{"planned_values null", `{"format_version":"1.2","planned_values":null}`, "planned_values null"},
		{"planned_values a list", `{"format_version":"1.2","planned_values":[]}`, "not an object"},
		{"planned_values a string", `{"format_version":"1.2","planned_values":"x"}`, "not an object"},
		{"no drift or changes keys at all", `{"format_version":"1.2","planned_values":{}}`, "neither resource_drift nor resource_changes"},
		{"drift and changes null", `{"format_version":"1.2","planned_values":{},"resource_drift":null,"resource_changes":null}`, "neither resource_drift nor resource_changes"},
		{"empty lists, no configuration", `{"format_version":"1.2","planned_values":{"root_module":{}},"resource_drift":[],"resource_changes":[]}`, "no configuration"},
		{"real clean plan without configuration", variant(map[string]any{"configuration": nil}), "no configuration"},
		{"real clean plan with configuration null", variant(map[string]any{"configuration": json.RawMessage("null")}), "no configuration"},
		{"real clean plan without root_module", variant(map[string]any{"planned_values": map[string]any{}}), "no root_module"},
		{"real clean plan with root_module null", variant(map[string]any{"planned_values": map[string]any{"root_module": nil}}), "no root_module"},
		{"configuration without root_module", variant(map[string]any{"configuration": map[string]any{}}), "configuration has no root_module"},
		{"real clean plan without planned_values", variant(map[string]any{"planned_values": nil}), "no planned_values"},
		{"format 0.2 (before 1.0)", variant(map[string]any{"format_version": "0.2"}), "older than 1.0"},
		{"format 0.1", `{"format_version":"0.1","planned_values":{},"resource_drift":[]}`, "older than 1.0"},
		{"format 2.0 (newer major)", variant(map[string]any{"format_version": "2.0"}), "unsupported plan format"},
		{"format 10.1", variant(map[string]any{"format_version": "10.1"}), "unsupported plan format"},
		{"format not a version", variant(map[string]any{"format_version": "latest"}), "invalid format version"},
		{"format a number", `{"format_version":1.2,"planned_values":{}}`, "shape"},
		{"format missing", variant(map[string]any{"format_version": nil}), "format version is missing"},
		{"nested 10,000 levels", deep, "nested deeper than 512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "plan-"+strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := ReadFile(path)
			if err == nil {
				t.Fatalf("read as a plan with %d observations; want an error saying %q", len(p.Observations), tc.want)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q should name %s and say %q", err, path, tc.want)
			}
			if !errors.Is(err, ErrNotPlan) {
				t.Errorf("error should wrap ErrNotPlan: %v", err)
			}
		})
	}
	// Minor versions of format 1 are compatible by OpenTofu's promise and stay readable.
	for _, v := range []string{"1.0", "1.1", "1.2", "1.3"} {
		if _, err := Read("clean.json", []byte(variant(map[string]any{"format_version": v}))); err != nil {
			t.Errorf("format %s: %v", v, err)
		}
	}
}

// TestRealTofuCleanPlans checks the assumption TestNotPlans rests on against the real program:
// what OpenTofu prints for a plan with no drift and no changes reads clean, and has no
// resource_drift or resource_changes keys.
func TestRealTofuCleanPlans(t *testing.T) {
	tofu, mirror := testtools.Require(t, "TOFU"), testtools.Require(t, "LOCAL_MIRROR")
	root := t.TempDir()
	cli := filepath.Join(root, "cli.tfrc")
	writeFile(t, cli, `provider_installation {
  filesystem_mirror {
    path    = "`+mirror+`"
    include = ["registry.opentofu.org/hashicorp/local"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/local"] }
}
`)
	dir := filepath.Join(root, "stack")
	writeFile(t, filepath.Join(dir, "main.tf"), `resource "local_file" "conf" {
  filename = "${path.module}/app.conf"
  content  = "replicas=3\n"
}
`)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	tf := func(args ...string) []byte {
		cmd := exec.Command(tofu, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tofu %v: %v\n%s", args, err, out)
		}
		return out
	}
	tf("init", "-input=false")
	check := func(name string, js []byte) {
		t.Helper()
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(js, &keys); err != nil {
			t.Fatal(err)
		}
		var names []string
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		t.Logf("%s: keys %v", name, names)
		p, err := Read(name, js)
		if err != nil {
			t.Fatalf("a real clean plan must read: %v", err)
		}
		if len(p.Observations) != 0 {
			t.Fatalf("%s: observations %v", name, p.Observations)
		}
	}
	tf("plan", "-refresh-only", "-input=false", "-out=unapplied.plan")
	check("unapplied refresh-only", tf("show", "-json", "unapplied.plan"))
	tf("apply", "-auto-approve", "-input=false")
	tf("plan", "-refresh-only", "-input=false", "-out=ro.plan")
	ro := tf("show", "-json", "ro.plan")
	check("refresh-only", ro)
	var doc map[string]json.RawMessage
	_ = json.Unmarshal(ro, &doc)
	if _, ok := doc["resource_drift"]; ok {
		t.Errorf("OpenTofu wrote resource_drift for a clean plan; the completeness rule may be relaxed")
	}
	if _, ok := doc["resource_changes"]; ok {
		t.Errorf("OpenTofu wrote resource_changes for a clean refresh-only plan")
	}
	tf("plan", "-input=false", "-out=n.plan")
	check("normal", tf("show", "-json", "n.plan"))
}

// A 10,000-level document is refused before it is decoded; the bound is 50 MB.
func TestReadDeepJSONMemory(t *testing.T) {
	deep := []byte(`{"format_version":"1.2","planned_values":{"root_module":{}},"x":` +
		strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000) + `}`)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Read("deep.json", deep)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, drift.ErrJSONTooDeep) || !strings.Contains(err.Error(), "deep.json") {
		t.Fatalf("err = %v", err)
	}
	used := after.TotalAlloc - before.TotalAlloc
	t.Logf("10,000-level plan (%d bytes) rejected after %d bytes allocated", len(deep), used)
	if used > 50<<20 {
		t.Fatalf("allocated %d bytes", used)
	}
	// The state reader refuses it the same way.
	if _, err := StateIDs("deep-state.json", deep); !errors.Is(err, drift.ErrJSONTooDeep) || !strings.Contains(err.Error(), "deep-state.json") {
		t.Fatalf("state: %v", err)
	}
}

func TestReadSizeBound(t *testing.T) {
	good, err := os.ReadFile("testdata/clean-normal.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	writeFile(t, path, string(good))
	if _, err := ReadFile(path, WithMaxBytes(int64(len(good)))); err != nil {
		t.Fatalf("at the bound: %v", err)
	}
	_, err = ReadFile(path, WithMaxBytes(int64(len(good)-1)))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), path) {
		t.Fatalf("over the bound: %v", err)
	}
	if _, err := Read("mem.json", good, WithMaxBytes(10)); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "mem.json") {
		t.Fatalf("in memory: %v", err)
	}
	// The default bound, on a sparse file: refused from its size, without reading it.
	big := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(DefaultMaxBytes + 1); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = ReadFile(big)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), big) {
		t.Fatalf("default bound: %v", err)
	}
	if used := after.TotalAlloc - before.TotalAlloc; used > 1<<20 {
		t.Errorf("refusing an oversized file allocated %d bytes", used)
	}
	if _, err := StateIDsFile(big); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), big) {
		t.Fatalf("state default bound: %v", err)
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
