package scan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// A scan of a real stack (OpenTofu, hashicorp/local): a tainted object is a failed
// reconciliation in the default refresh-only scan; dependency drift needs --normal-plan, which
// finds it and keeps reading drift the same way.
func TestScanNormalPlanFindsDependencyDrift(t *testing.T) {
	tofu, mirror := testtools.Require(t, "TOFU"), testtools.Require(t, "LOCAL_MIRROR")
	root := t.TempDir()
	cli := filepath.Join(root, "cli.tfrc")
	write := func(path, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cli, `provider_installation {
  filesystem_mirror {
    path    = "`+mirror+`"
    include = ["registry.opentofu.org/hashicorp/local"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/local"] }
}
`)
	stack := filepath.Join(root, "stack")
	write(filepath.Join(stack, "main.tf"), `data "local_file" "upstream" {
  filename = "${path.module}/upstream.txt"
}

resource "local_file" "derived" {
  filename = "${path.module}/derived.txt"
  content  = "base: ${data.local_file.upstream.content}"
}

resource "terraform_data" "broken" {
  input = "migrate"
  provisioner "local-exec" {
    command = "exit 1"
  }
}
`)
	write(filepath.Join(stack, "upstream.txt"), "ami-1\n")
	env := []string{"TF_CLI_CONFIG_FILE=" + cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1"}
	for _, args := range [][]string{{"init", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
		cmd := exec.Command(tofu, append(args, "-no-color")...)
		cmd.Dir, cmd.Env = stack, append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if (err != nil) != (args[0] == "apply") {
			t.Fatalf("tofu %v: %v\n%s", args, err, out)
		}
	}
	write(filepath.Join(stack, "upstream.txt"), "ami-2\n")
	unit := Unit{Policy: &drift.ManagedUnit{Metadata: drift.Metadata{Name: "files"}, Spec: drift.UnitSpec{
		Kind: drift.UnitOpenTofuStack, Owner: "team", Environment: "prod", RiskTier: "standard", Gate: "critical"}}, StackDir: stack}
	scanWith := func(normal bool) map[string]drift.Finding {
		t.Helper()
		rs := Run(context.Background(), []Unit{unit}, Options{Tofu: tofu, Parallelism: 1, Timeout: 5 * time.Minute,
			Env: env, Now: time.Now, SchemaCacheDir: t.TempDir(), NormalPlan: normal})
		if len(rs) != 1 || rs[0].Status == StatusUnknown {
			t.Fatalf("normal=%v: %+v", normal, rs)
		}
		got := map[string]drift.Finding{}
		for _, f := range rs[0].Findings {
			got[f.ResourceRef+" "+string(f.DriftClass)] = f
		}
		return got
	}
	got := scanWith(false)
	if _, ok := got["terraform_data.broken FAILED_RECONCILIATION"]; !ok || len(got) != 1 {
		t.Errorf("refresh-only scan: want only the failed reconciliation, got %v", got)
	}
	got = scanWith(true)
	f, ok := got["local_file.derived DEPENDENCY_DRIFT"]
	if !ok || !strings.Contains(f.Explanation, "data.local_file.upstream") || f.RecommendedAction != drift.ActionReplanAndValidate {
		t.Errorf("normal-plan scan: want DEPENDENCY_DRIFT naming data.local_file.upstream, got %v", got)
	}
	if _, ok := got["terraform_data.broken FAILED_RECONCILIATION"]; !ok || len(got) != 2 {
		t.Errorf("normal-plan scan: want the failed reconciliation too, got %v", got)
	}
}
