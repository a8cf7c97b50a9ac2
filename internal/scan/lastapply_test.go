package scan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// A scan with --last-apply over a real stack (OpenTofu, hashicorp/local) whose last apply failed
// to create local_file.broken: OpenTofu keeps nothing of it in the state, so only the apply's log
// says the unit did not converge. With the log, the scan finds FAILED_RECONCILIATION; the lock
// file of the last apply is read (provider upgrades are judged against it: the provider's tests
// hold that judgement); a log or lock file that is not one makes the unit unknown.
func TestScanLastApply(t *testing.T) {
	tofu, mirror := testtools.Require(t, "TOFU"), testtools.Require(t, "LOCAL_MIRROR")
	root := t.TempDir()
	write := func(path, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cli := filepath.Join(root, "cli.tfrc")
	write(cli, `provider_installation {
  filesystem_mirror {
    path    = "`+mirror+`"
    include = ["registry.opentofu.org/hashicorp/local"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/local"] }
}
`)
	stack := filepath.Join(root, "stack")
	write(filepath.Join(stack, "main.tf"), `resource "local_file" "ok" {
  filename = "${path.module}/ok.txt"
  content  = "desired\n"
}

resource "local_file" "broken" {
  filename = "${path.module}/blocker/sub/x.txt"
  content  = "password=hunter2-in-config"
}
`)
	write(filepath.Join(stack, "blocker"), "a file, so the folder cannot be made\n")
	env := []string{"TF_CLI_CONFIG_FILE=" + cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1"}
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(tofu, args...)
		cmd.Dir, cmd.Env = stack, append(os.Environ(), env...)
		return cmd.Output()
	}
	if out, err := run("init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("tofu init: %v\n%s", err, out)
	}
	log, err := run("apply", "-auto-approve", "-input=false", "-json")
	if err == nil || !strings.Contains(string(log), `"apply_errored"`) {
		t.Fatalf("want the apply to fail creating local_file.broken: %v\n%s", err, log)
	}
	unit := Unit{Policy: &drift.ManagedUnit{Metadata: drift.Metadata{Name: "files"}, Spec: drift.UnitSpec{
		Kind: drift.UnitOpenTofuStack, Owner: "team", Environment: "prod", RiskTier: "standard", Gate: "critical"}}, StackDir: stack}
	scan := func(lastApply string) Result {
		t.Helper()
		rs := Run(context.Background(), []Unit{unit}, Options{Tofu: tofu, Parallelism: 1, Timeout: 5 * time.Minute,
			Env: env, Now: time.Now, SchemaCacheDir: t.TempDir(), LastApply: lastApply})
		if len(rs) != 1 {
			t.Fatalf("results %+v", rs)
		}
		return rs[0]
	}
	if r := scan(""); r.Status != drift.StatusClean {
		t.Fatalf("without the log the failure is invisible, want clean: %+v", r)
	}

	last := filepath.Join(root, "last-apply")
	write(filepath.Join(last, "files.jsonl"), string(log))
	r := scan(last)
	if r.Status != drift.StatusDrifted || len(r.Findings) != 1 {
		t.Fatalf("with the log: %+v", r)
	}
	f := r.Findings[0]
	if f.ResourceRef != "local_file.broken" || f.DriftClass != drift.ClassFailedReconciliation || f.AutoHealAllowed ||
		!strings.Contains(f.Explanation, "Create local file error") {
		t.Errorf("finding %+v", f)
	}
	if strings.Contains(f.Explanation, "hunter2") {
		t.Error("a configuration value reached the finding")
	}

	// The lock file the last apply used names another hashicorp/local: the file edited out of
	// band is still drift (a deletion is not what an upgrade does), and a lock file that does not
	// parse makes the unit unknown, naming it.
	addr := "registry.opentofu.org/hashicorp/local"
	current, err := tofuplan.ReadLockFileAt(filepath.Join(stack, ".terraform.lock.hcl"))
	lock, rerr := os.ReadFile(filepath.Join(stack, ".terraform.lock.hcl"))
	if err != nil || rerr != nil || current[addr] == "" {
		t.Fatalf("the stack's lock file: %v %v %v", current, err, rerr)
	}
	older := regexp.MustCompile(`version\s*=\s*"[^"]+"`).ReplaceAll(lock, []byte(`version     = "2.0.0"`))
	write(filepath.Join(last, "files.terraform.lock.hcl"), string(older))
	write(filepath.Join(stack, "ok.txt"), "edited by hand\n")
	r = scan(last)
	classes := map[string]drift.Class{}
	for _, f := range r.Findings {
		classes[f.ResourceRef] = f.DriftClass
		if f.ProviderUpgrade {
			t.Errorf("an out-of-band edit passed as the provider upgrade: %+v", f)
		}
	}
	if r.Status != drift.StatusDrifted || classes["local_file.ok"] != drift.ClassState || classes["local_file.broken"] != drift.ClassFailedReconciliation {
		t.Errorf("with the last apply's lock file: %+v", r)
	}
	write(filepath.Join(last, "files.terraform.lock.hcl"), string(older)+"}\n")
	if r := scan(last); r.Status != StatusUnknown || !strings.Contains(r.Error, "files.terraform.lock.hcl") {
		t.Errorf("a broken lock file of the last apply: %+v", r)
	}
	write(filepath.Join(last, "files.terraform.lock.hcl"), string(older))

	// A log that is not apply output: unknown, never clean.
	write(filepath.Join(last, "files.jsonl"), "Error: something\n")
	if r := scan(last); r.Status != StatusUnknown || !strings.Contains(r.Error, "files.jsonl") {
		t.Errorf("a broken log: %+v", r)
	}
}
