package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// realStack is a throwaway OpenTofu stack managing one local_file, applied with the real
// OpenTofu (or Terraform, when the acceptance tests run against it) and the real hashicorp/local
// provider from the filesystem mirror.
type realStack struct {
	t    *testing.T
	dir  string
	tofu string
	env  []string
}

func newRealStack(t *testing.T) *realStack {
	t.Helper()
	tofu := requireTofu(t)
	mirror := testtools.Require(t, "LOCAL_MIRROR")
	dir := t.TempDir()
	cli := filepath.Join(dir, "cli.tfrc")
	// The CLI's own registry host: the mirror serves hashicorp/local under both.
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	cfg := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %[1]q
    include = ["%[2]s/hashicorp/local"]
  }
  direct { exclude = ["%[2]s/hashicorp/local"] }
}
`, mirror, host)
	if err := os.WriteFile(cli, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	main := `resource "local_file" "managed" {
  filename = "${path.module}/managed.txt"
  content  = "desired content from git\n"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &realStack{t: t, dir: dir, tofu: tofu, env: append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")}
	s.run("init", "-input=false", "-no-color")
	s.run("apply", "-auto-approve", "-input=false", "-no-color")
	return s
}

func (s *realStack) run(args ...string) []byte {
	s.t.Helper()
	cmd := exec.Command(s.tofu, args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("%s %v: %v\n%s\n%s", filepath.Base(s.tofu), args, err, out.String(), errb.String())
	}
	return out.Bytes()
}

// driftOutOfBand changes the managed file behind OpenTofu's back, then writes the JSON of a
// refresh-only plan, exactly as a drift job would.
func (s *realStack) driftOutOfBand() string {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, "managed.txt"), []byte("hand-edited in production\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return s.planJSON("-refresh-only")
}

func (s *realStack) planJSON(extra ...string) string {
	s.t.Helper()
	s.run(append([]string{"plan", "-input=false", "-no-color", "-out=drift.plan"}, extra...)...)
	js := s.run("show", "-json", "drift.plan")
	p := filepath.Join(s.dir, "drift-plan.json")
	if err := os.WriteFile(p, js, 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// soon is an exception expiry inside every unit's lifetime bound (90 days): expiry is judged on
// the real clock, so fixtures cannot use fixed dates.
var soon = time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
