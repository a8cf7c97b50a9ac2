package corpus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// tofuCase is one recorded plan: a stack under testdata/stacks, applied as written, then changed
// (files edited or removed behind OpenTofu's back, configuration edited), then planned.
type tofuCase struct {
	name, stack string
	// outOfBand runs after apply, in the stack's working directory.
	outOfBand func(t *testing.T, dir string)
	// edit overrides configuration files after apply (name → content).
	edit map[string]string
	// renameMotd renames local_file.motd to local_file.banner in main.tf after apply (with a
	// moved block in edit).
	renameMotd bool
	plan       []string
}

func overwrite(path, content string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func remove(paths ...string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		for _, p := range paths {
			if err := os.Remove(filepath.Join(dir, p)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func both(fs ...func(t *testing.T, dir string)) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		for _, f := range fs {
			f(t, dir)
		}
	}
}

var movedMotd = map[string]string{"moved.tf": "moved {\n  from = local_file.motd\n  to   = local_file.banner\n}\n"}

var tofuCases = []tofuCase{
	{name: "files-refresh-only-clean", stack: "files", plan: []string{"-refresh-only"}},
	{name: "files-refresh-only-edited", stack: "files", plan: []string{"-refresh-only"},
		outOfBand: overwrite("out/motd.txt", "hand-edited in production\n")},
	{name: "files-refresh-only-deleted", stack: "files", plan: []string{"-refresh-only"},
		outOfBand: remove("out/worker.conf", "out/web/index.html")},
	{name: "files-plan-clean", stack: "files"},
	// A pending change (a new greeting replaces motd) and drift (api.conf deleted by hand, so the
	// plan creates it again) in one normal plan.
	{name: "files-plan-changes-and-drift", stack: "files", plan: []string{"-var", "greeting=hello from the next release\n"},
		outOfBand: remove("out/api.conf")},
	{name: "files-plan-destroy", stack: "files", plan: []string{"-destroy"}},
	// The resource is renamed in Git with a moved block while its file was edited by hand.
	{name: "files-moved", stack: "files", renameMotd: true, edit: movedMotd},
	{name: "files-moved-drift", stack: "files", plan: []string{"-refresh-only"}, renameMotd: true, edit: movedMotd,
		outOfBand: overwrite("out/motd.txt", "hand-edited in production\n")},
	{name: "sensitive-refresh-only-edited", stack: "sensitive", plan: []string{"-refresh-only"},
		outOfBand: both(overwrite("out/token", "dummy-rotated-by-hand"), overwrite("out/endpoint.conf", "endpoint = https://other.example.com\n"))},
	{name: "sensitive-plan-changes", stack: "sensitive", plan: []string{"-var", "token=dummy-token-next"}},
	// A failed precondition: the plan errors.
	{name: "files-plan-errored", stack: "files",
		edit: map[string]string{"check.tf": `resource "terraform_data" "gate" {
  input = local_file.motd.content
  lifecycle {
    precondition {
      condition     = length(var.greeting) > 1000
      error_message = "The greeting is too short."
    }
  }
}
`}},
}

// tofuStack is a copy of a stack in a temporary directory with the real OpenTofu and the real
// hashicorp/local provider from the tools cache's filesystem mirror.
type tofuStack struct {
	t         *testing.T
	dir, tofu string
	env       []string
}

func newTofuStack(t *testing.T, stack string) *tofuStack {
	t.Helper()
	tofu := testtools.Require(t, "TOFU")
	mirror := testtools.Require(t, "LOCAL_MIRROR")
	home := t.TempDir()
	cli := filepath.Join(home, "cli.tfrc")
	cfg := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/hashicorp/local"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/local"] }
}
`, mirror)
	if err := os.WriteFile(cli, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, "stack")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "stacks", stack))); err != nil {
		t.Fatal(err)
	}
	return &tofuStack{t: t, dir: dir, tofu: tofu, env: append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_DATA_DIR="+filepath.Join(home, "tfdata"))}
}

func (s *tofuStack) run(args ...string) ([]byte, error) {
	cmd := exec.Command(s.tofu, args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("tofu %v: %w\n%s\n%s", args, err, out.String(), errb.String())
	}
	return out.Bytes(), err
}

func (s *tofuStack) must(args ...string) []byte {
	s.t.Helper()
	out, err := s.run(args...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// recordTofu records `tofu show -json` of each case's plan into dir.
func recordTofu(t *testing.T, dir string) {
	for _, c := range tofuCases {
		t.Run(c.name, func(t *testing.T) {
			s := newTofuStack(t, c.stack)
			s.must("init", "-input=false", "-no-color")
			s.must("apply", "-auto-approve", "-input=false", "-no-color")
			if c.outOfBand != nil {
				c.outOfBand(t, s.dir)
			}
			if c.renameMotd {
				b, err := os.ReadFile(filepath.Join(s.dir, "main.tf"))
				if err != nil {
					t.Fatal(err)
				}
				content := strings.ReplaceAll(string(b), "local_file.motd", "local_file.banner")
				content = strings.Replace(content, `resource "local_file" "motd"`, `resource "local_file" "banner"`, 1)
				writeFile(t, filepath.Join(s.dir, "main.tf"), []byte(content))
			}
			for name, content := range c.edit {
				writeFile(t, filepath.Join(s.dir, name), []byte(content))
			}
			args := append([]string{"plan", "-input=false", "-no-color", "-out=corpus.plan"}, c.plan...)
			_, planErr := s.run(args...)
			if _, err := os.Stat(filepath.Join(s.dir, "corpus.plan")); err != nil {
				t.Fatalf("no plan file: %v (plan: %v)", err, planErr)
			}
			js := s.must("show", "-json", "corpus.plan")
			var doc map[string]any
			dec := json.NewDecoder(bytes.NewReader(js))
			dec.UseNumber()
			if err := dec.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			errored, _ := doc["errored"].(bool)
			if (planErr != nil) != errored {
				t.Fatalf("plan error %v but errored=%v", planErr, errored)
			}
			// The only run-dependent values: the plan's timestamp and the temporary directory.
			doc["timestamp"] = "2026-01-01T00:00:00Z"
			out, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = bytes.ReplaceAll(out, []byte(s.dir), []byte("."))
			out = bytes.ReplaceAll(out, []byte(filepath.Dir(s.dir)), []byte("."))
			writeFile(t, filepath.Join(dir, c.name+".json"), append(out, '\n'))
		})
	}
}
