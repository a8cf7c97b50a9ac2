package edit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// importStack is a root module using hashicorp/local from the tool script's mirror, with one
// local_file in state-less configuration and a file on disk that no configuration manages.
func importStack(t *testing.T) (tofu, root, dir string) {
	t.Helper()
	tofu, mirror := testtools.Require(t, "TOFU"), testtools.Require(t, "LOCAL_MIRROR")
	base := t.TempDir()
	cli := filepath.Join(base, "cli.tfrc")
	write(t, cli, `provider_installation {
  filesystem_mirror {
    path    = "`+mirror+`"
    include = ["registry.opentofu.org/hashicorp/local"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/local"] }
}
`)
	t.Setenv("TF_CLI_CONFIG_FILE", cli)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	root = filepath.Join(base, "repo")
	dir = "stack"
	write(t, filepath.Join(root, dir, "main.tf"), `terraform {
  required_providers {
    local = { source = "hashicorp/local" }
  }
}

# Managed by hand until now.
resource "local_file" "managed" {
  filename = "${path.module}/managed.txt"
  content  = "managed\n"
}
`)
	write(t, filepath.Join(root, dir, "orphan.txt"), "created out of band\n")
	return tofu, root, dir
}

func tofuRun(t *testing.T, tofu, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(tofu, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tofu %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestImportGeneratesConfigWithRealTofu: a resource that exists but is in neither state nor
// configuration gets an import block and the configuration real `tofu plan
// -generate-config-out` writes; applying the edits gives a plan that imports it and changes
// nothing else. Running again adds no second import block.
func TestImportGeneratesConfigWithRealTofu(t *testing.T) {
	tofu, root, dir := importStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := readTree(t, root)
	res, err := Import(ctx, tofu, root, dir, []ImportTarget{{Address: "terraform_data.orphan", ID: "orphan-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if after := readTree(t, root); len(after) != len(before) {
		t.Fatalf("the work tree was left changed: %v", sortedPaths(after))
	}
	edits := map[string]string{}
	for _, e := range res.Edits {
		edits[e.Path] = string(e.Content)
	}
	imp, gen := edits["stack/imports.tf"], edits["stack/generated.tf"]
	if !strings.Contains(imp, "to = terraform_data.orphan") || !strings.Contains(imp, `id = "orphan-1"`) {
		t.Fatalf("imports.tf:\n%s", imp)
	}
	if !strings.Contains(gen, `resource "terraform_data" "orphan"`) || !strings.Contains(gen, "__generated__ by OpenTofu") {
		t.Fatalf("generated.tf:\n%s", gen)
	}
	for p, c := range edits {
		write(t, filepath.Join(root, filepath.FromSlash(p)), c)
	}
	tofuRun(t, tofu, filepath.Join(root, dir), "init", "-no-color", "-input=false")
	out := tofuRun(t, tofu, filepath.Join(root, dir), "plan", "-no-color", "-input=false")
	if !strings.Contains(out, "1 to import, 1 to add, 0 to change, 0 to destroy") {
		t.Fatalf("plan after the edits:\n%s", out)
	}
	again, err := Import(ctx, tofu, root, dir, []ImportTarget{{Address: "terraform_data.orphan", ID: "orphan-1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range again.Edits {
		if strings.Count(string(e.Content), "terraform_data.orphan") > 1 {
			t.Fatalf("second run duplicated the import:\n%s", e.Content)
		}
	}
}

// TestImportLocalFileIsRefusedByTheProvider: hashicorp/local's local_file implements no import
// (v2.9.0 answers "Resource Import Not Implemented"), so importing the orphan file must fail
// loudly — not produce an import block OpenTofu will reject — and leave the work tree as it was.
func TestImportLocalFileIsRefusedByTheProvider(t *testing.T) {
	tofu, root, dir := importStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := readTree(t, root)
	id := filepath.Join(root, dir, "orphan.txt")
	res, err := Import(ctx, tofu, root, dir, []ImportTarget{{Address: "local_file.orphan", ID: id}})
	if err == nil {
		t.Fatalf("no error: %+v", res)
	}
	if !strings.Contains(err.Error(), "Import Not Implemented") {
		t.Fatalf("error does not carry tofu's reason: %v", err)
	}
	after := readTree(t, root)
	if len(after) != len(before) {
		t.Fatalf("the work tree was left changed: %v", sortedPaths(after))
	}
	if _, err := os.Stat(filepath.Join(root, dir, ".terraform")); err == nil {
		t.Fatal(".terraform left behind")
	}
}

func TestImportRefusesBadTargets(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "main.tf"), "")
	for _, tg := range []ImportTarget{
		{Address: "module.m.local_file.x", ID: "a"},
		{Address: "data.local_file.x", ID: "a"},
		{Address: "local_file.x", ID: ""},
		{Address: "local_file", ID: "a"},
	} {
		if _, err := Import(context.Background(), "/nonexistent/tofu", root, ".", []ImportTarget{tg}); err == nil {
			t.Errorf("%+v: no error", tg)
		}
	}
	if _, err := Import(context.Background(), "/nonexistent/tofu", root, "../x", []ImportTarget{{Address: "local_file.x", ID: "a"}}); err == nil {
		t.Error("Dir ../x: no error")
	}
}

func sortedPaths(m map[string]string) []string {
	var out []string
	for p := range m {
		out = append(out, p)
	}
	return out
}
